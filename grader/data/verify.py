"""Prove that a file or a set of arrays is exactly a registered dataset, by the sha256 of each array's bytes."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from grader.data.registry import DATASETS, Dataset, how_to_provide
from grader.errors import DataError

# (resolved path, size, mtime_ns) of files verified in this process: a batch verifies each source once.
_verified: dict[tuple[str, int, int], str] = {}


def _key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def remember(path: Path, ds: Dataset) -> None:
    """Record ``path`` as verified (it was written from verified arrays just now)."""
    _verified[_key(path)] = ds.name


def what_it_is(head: bytes) -> str:
    """What a file that is not a zip archive looks like, from its first bytes, in words."""
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy array (.npy), not an .npz archive of the four arrays"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file (decompress it first if it holds the .npz)"
    if head.startswith(b"\x80") and len(head) > 1 and head[1] <= 5:
        return "a Python pickle"
    if head.startswith((b"\x89HDF", b"\x89PNG", b"%PDF")):
        return f"a {head[1:4].decode('ascii') if head[0] == 0x89 else 'PDF'} file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"a binary file starting with bytes {head[:8].hex(' ')}"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"a text file starting {first[:60]!r}" if first else "a text file of blank lines"


def identify(arrays: Mapping[str, np.ndarray]) -> str | None:
    """The registered dataset whose test labels these are (a cheap look before a full verification)."""
    labels = arrays.get("y_test")
    if labels is None:
        return None
    digest = hashlib.sha256(np.ascontiguousarray(labels).tobytes()).hexdigest()
    return next((d.name for d in DATASETS.values() if d.arrays["y_test"].sha256 == digest), None)


def check_array(name: str, array: np.ndarray, ds: Dataset, label: str) -> None:
    expected = ds.arrays[name]
    if array.shape != expected.shape or array.dtype != np.uint8:
        raise DataError(f"{label}: array {name} has shape {array.shape} and dtype {array.dtype}; expected "
                        f"{expected.shape} uint8.\n{how_to_provide(ds)}")
    if hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest() != expected.sha256:
        raise DataError(f"{label}: array {name} differs from the canonical {ds.title} (sha256 mismatch).\n"
                        f"{how_to_provide(ds)}")


def npz_holds(path: Path) -> str | None:
    """Which registered dataset the .npz at ``path`` holds, from its test labels; None if none (or unreadable)."""
    try:
        with open(path, "rb") as handle:
            if not handle.read(2) == b"PK":
                return None
        with np.load(path, allow_pickle=False) as archive:
            return identify({"y_test": archive["y_test"]}) if "y_test" in archive.files else None
    except Exception:  # unreadable: the full verification says why
        return None


def verify_npz(path: Path, ds: Dataset, *, shown: str | None = None) -> None:
    """Raise DataError unless ``path`` holds exactly ``ds``'s arrays; messages name it ``shown`` (default: the path)."""
    label = shown or str(path)
    try:
        key = _key(path)
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise DataError(f"{label}: cannot read the {ds.title} file: {exc}\n{how_to_provide(ds)}") from exc
    if _verified.get(key) == ds.name:
        return
    if not head.startswith(b"PK"):  # every .npz is a zip; anything else np.load misreads (a text file as a pickle)
        raise DataError(f"{label} is not an .npz {ds.title} file: it is {what_it_is(head)}; {ds.expected_file()}.\n"
                        f"{how_to_provide(ds)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            for name in ds.arrays:
                if name not in archive.files:
                    found = ", ".join(archive.files[:8]) or "no arrays"
                    raise DataError(f"{label}: no array {name!r} in the file (it holds {found}); it is not Keras' "
                                    f"{ds.npz_name}: {ds.expected_file()}.\n{how_to_provide(ds)}")
                try:
                    array = archive[name]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise DataError(f"{label}: array {name} holds Python objects, which cnngrade never loads (they "
                                    f"could run code); it is not Keras' {ds.npz_name}: {ds.expected_file()}.\n"
                                    f"{how_to_provide(ds)}") from exc
                check_array(name, array, ds, label)
    except DataError:
        raise
    except Exception as exc:  # a truncated or corrupt zip: np.load raises many kinds
        raise DataError(f"{label} is not a readable .npz {ds.title} file ({type(exc).__name__}: {exc}); "
                        f"{ds.expected_file()}.\n{how_to_provide(ds)}") from exc
    _verified[key] = ds.name
