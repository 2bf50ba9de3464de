"""Keras' other cache layout: IDX files (gzip-compressed), as Fashion-MNIST comes from Keras, Debian and Zalando.

They are read, verified array by array and written once as a Keras-layout .npz into cnngrade's cache, so the rest
of the grader (the sandboxed run, the measurement) reads one verified .npz whatever the source. The cached file is
named after the sha256 of the four source files: a changed or tampered source is converted (and refused) anew,
never masked by an earlier good conversion.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import secrets
import stat
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from grader.data.registry import DATASETS, Dataset, how_to_provide
from grader.data.verify import check_array, identify, remember, verify_npz
from grader.errors import DataError

CACHE_VARIABLE = "CNNGRADE_CACHE"
_MAGIC = {3: 0x0803, 1: 0x0801}  # unsigned bytes, 3 dimensions (images) or 1 (labels)
_hashed: dict[tuple[str, int, int], str] = {}


def idx_paths(ds: Dataset, folder: Path) -> dict[str, Path]:
    assert ds.idx_files is not None
    return {name: folder / file for name, file in ds.idx_files.items()}


def _file_sha256(path: Path) -> str:
    stat_ = path.stat()
    key = (str(path.resolve()), stat_.st_size, stat_.st_mtime_ns)
    if key not in _hashed:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        _hashed[key] = digest.hexdigest()
    return _hashed[key]


def read_idx(path: Path, ds: Dataset, name: str) -> np.ndarray:
    """One IDX .gz file as the array it holds, its header checked; never more than the expected bytes are read."""
    shape = ds.arrays[name].shape
    header = 4 + 4 * len(shape)
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read(header + int(np.prod(shape)) + 1)  # + 1: a longer file is caught, a bomb is not read
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is not a readable gzip-compressed IDX file ({type(exc).__name__}: {exc}).\n"
                        f"{how_to_provide(ds)}") from exc
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(len(shape)))
    if magic != _MAGIC[len(shape)] or dims != shape or len(raw) != header + int(np.prod(shape)):
        raise DataError(f"{path} does not hold {ds.title}'s {name} (an IDX file of {shape} unsigned bytes): its "
                        f"header says type {magic if magic is None else hex(magic)}, shape {dims}, and it holds "
                        f"{len(raw) - header} bytes of data.\n{how_to_provide(ds)}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


class OtherDataset(DataError):
    """The files hold another registered dataset (MNIST's IDX files have Fashion-MNIST's names)."""


def read_verified(ds: Dataset, paths: dict[str, Path], *, shown: str) -> dict[str, np.ndarray]:
    """The four arrays from IDX files, each verified; DataError names ``shown`` and what differs."""
    arrays = {name: read_idx(paths[name], ds, name) for name in ds.arrays}
    other = identify(arrays)
    if other is not None and other != ds.name:
        raise OtherDataset(f"{shown} holds {DATASETS[other].title}, not {ds.title}.\n{how_to_provide(ds)}")
    for name, array in arrays.items():
        check_array(name, array, ds, f"{shown} ({paths[name].name})")
    return arrays


def _reachable(folder: Path) -> bool:
    """Whether any user (the sandboxed run's uid 65534) can traverse to ``folder``: every existing parent o+x."""
    for part in [folder, *folder.parents]:
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return True


def _usable(folder: Path) -> bool:
    existed = folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o755)
        info = folder.lstat()
    except OSError:
        return False
    # Ours alone to write: another local user must not be able to swap the file between its check and the run.
    usable = (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
              and os.access(folder, os.W_OK) and _reachable(folder))
    if not usable and not existed:
        with contextlib.suppress(OSError):
            folder.rmdir()  # tried, not kept: leave nothing behind
    return usable


def cache_dir() -> Path:
    """Where converted datasets are kept: ``$CNNGRADE_CACHE``, else ``$XDG_CACHE_HOME/cnngrade``, else
    ``~/.cache/cnngrade``; when that folder cannot be written or the sandboxed run (another uid) could not reach
    it (root's home is 0700), a folder of this user's in the temp folder (``cnngrade_cache-UID``: not a
    ``cnngrade-*`` scratch folder, which a sweep may remove)."""
    configured = os.environ.get(CACHE_VARIABLE) or (
        Path(os.environ["XDG_CACHE_HOME"]) / "cnngrade" if os.environ.get("XDG_CACHE_HOME")
        else Path.home() / ".cache" / "cnngrade")
    for folder in (Path(configured).expanduser(), Path(tempfile.gettempdir()) / f"cnngrade_cache-{os.geteuid()}"):
        if _usable(folder):
            return folder.resolve()
    raise DataError(f"no folder to keep the converted datasets in: set {CACHE_VARIABLE} to a folder this user can "
                    "write and every user can read")


def _sweep_stale(folder: Path, ds: Dataset, older_than_s: float = 600) -> None:
    """Remove conversions a hard kill left half-written (never read: only a complete, renamed file is)."""
    for part in folder.glob(f".{ds.name}-*.part"):
        try:
            if time.time() - part.stat().st_mtime > older_than_s:
                part.unlink()
        except OSError:
            pass


def converted(ds: Dataset, paths: dict[str, Path], *, shown: str) -> Path:
    """The verified .npz of the IDX files ``paths``, converted once into cnngrade's cache (atomically)."""
    key = hashlib.sha256("".join(_file_sha256(paths[n]) for n in ds.arrays).encode()).hexdigest()[:16]
    folder = cache_dir()
    target = folder / f"{ds.name}-{key}.npz"
    if target.is_file():
        try:
            verify_npz(target, ds)
            return target
        except DataError:
            pass  # damaged since it was written: convert again over it
    arrays = read_verified(ds, paths, shown=shown)
    _sweep_stale(folder, ds)
    tmp = folder / f".{target.name}.{secrets.token_hex(6)}.part"
    try:
        with open(tmp, "xb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]  # uncompressed: every run and measurement loads it quickly
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # readable by the sandboxed run whatever the umask
        os.replace(tmp, target)
    except OSError as exc:
        raise DataError(f"cannot write the converted {ds.title} into {folder}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    remember(target, ds)
    return target
