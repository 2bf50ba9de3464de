"""A verified copy of SciPy's ``ascent`` image for the grader, found offline when possible.

``ascent.dat`` is a pickle, and unpickling runs code: each candidate's sha256 is checked against the copies SciPy
has shipped BEFORE it is read, it is unpickled with an Unpickler that allows only what those files hold (nested
lists of ints, or a numpy array), and the image itself is checked against the hash of its pixel values.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.errors import DataError
from grader.report import write_atomic

FILE_NAME = "ascent.dat"
# sha256 of the files SciPy shipped: scipy/misc/ascent.dat (SciPy <= 1.11 wheels, Debian's python3-scipy 1.10),
# and the scipy.datasets copy (scipy/datasets/_registry.py, downloaded by pooch).
KNOWN_FILES = {
    "e8a84939484463ab8051aedc5b40aa262ab33a91d6458a6cd13c6a1cad5a023d": "scipy/misc/ascent.dat",
    "03ce124c1afc880f87b55f6b061110e2e1e939679184f5614e38dacc6c1957e2": "scipy.datasets ascent.dat",
}
# sha256 of the 512x512 pixel values as uint8, whichever file they came from.
PIXELS_SHA256 = "c7777d46c3f4e3119ddbec92ad28c09193202a7a4aab08622bc7e4b4a3ba88e6"
SHAPE = (512, 512)
MAX_FILE_BYTES = 4 << 20
DOWNLOAD_URL = "https://raw.githubusercontent.com/scipy/dataset-ascent/main/ascent.dat"  # scipy.datasets' URL
DEBIAN_PATH = Path("/usr/lib/python3/dist-packages/scipy/misc/ascent.dat")
# What a numpy array's pickle needs; the list-of-lists file needs nothing at all.
ALLOWED_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                   ("numpy", "ndarray"), ("numpy", "dtype")}


@dataclass(frozen=True)
class Ascent:
    pixels: np.ndarray  # uint8, 512x512
    source: str
    path: Path  # the verified ascent.dat: what a batch or `cnngrade check` hands its workers as --data


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in ascent.dat")
        return super().find_class(module, name)


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def cache_path() -> Path:
    """Where cnngrade keeps its own verified copy (and where a download goes): ~/.cache/cnngrade/ascent.dat."""
    return _cache_home() / "cnngrade" / FILE_NAME


def _in(value: str | os.PathLike[str] | None) -> Path | None:
    """A --data or $CNNGRADE_DATA value as an ascent.dat: the file itself, or a folder holding one."""
    if not value:
        return None
    path = Path(value).expanduser()
    return path / FILE_NAME if path.is_dir() else (path if path.name == FILE_NAME else None)


def _installed_scipy() -> Path | None:
    spec = importlib.util.find_spec("scipy")  # finds the package without importing it
    return Path(spec.origin).parent / "misc" / FILE_NAME if spec and spec.origin else None


def candidates(data: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """Where a copy may be, in the order they are tried (the order is the rule; README lists it)."""
    found = [("--data", _in(data)), ("$CNNGRADE_DATA", _in(os.environ.get("CNNGRADE_DATA"))),
             ("cnngrade's cache", cache_path()), ("the installed SciPy", _installed_scipy()),
             ("Debian's python3-scipy", DEBIAN_PATH), ("pooch's cache", _cache_home() / "scipy-data" / FILE_NAME)]
    return [(origin, path) for origin, path in found if path is not None]


def read_verified(raw: bytes, origin: str) -> np.ndarray:
    """The pixels of an ascent.dat's bytes; DataError unless they are one of SciPy's files holding the image."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest not in KNOWN_FILES:
        raise DataError(f"{origin}: not one of SciPy's ascent.dat files (sha256 {digest[:16]}...); not read")
    try:
        loaded = _Restricted(io.BytesIO(raw)).load()
        values = np.asarray(loaded)
    except Exception as exc:  # the hash matched, so this is only reachable with a hash collision
        raise DataError(f"{origin}: ascent.dat could not be read ({exc})") from exc
    if values.shape != SHAPE or values.dtype.kind not in "iu" or values.min() < 0 or values.max() > 255:
        raise DataError(f"{origin}: ascent.dat does not hold a 512x512 8-bit image")
    pixels = values.astype(np.uint8)
    if hashlib.sha256(pixels.tobytes()).hexdigest() != PIXELS_SHA256:
        raise DataError(f"{origin}: the image in ascent.dat is not SciPy's ascent")
    return pixels


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise DataError(f"{path}: larger than any ascent.dat ({MAX_FILE_BYTES} bytes)")
    return raw


def _download(target: Path) -> np.ndarray:
    """Fetch scipy.datasets' copy, verify it, then keep it in cnngrade's cache (atomically)."""
    request = urllib.request.Request(DOWNLOAD_URL, headers={"User-Agent": "cnngrade"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a fixed https URL
        raw = response.read(MAX_FILE_BYTES + 1)
    pixels = read_verified(raw, DOWNLOAD_URL)
    write_atomic(target, raw)
    return pixels


def find_ascent(data: str | os.PathLike[str] | None = None, *, download: bool = True) -> Ascent:
    """The first verified copy from ``candidates``, else a download; DataError naming every place tried."""
    tried = []
    for origin, path in candidates(data):
        if not path.is_file():
            tried.append(f"{origin}: {path} (absent)")
            continue
        try:
            return Ascent(read_verified(_read(path), str(path)), f"{origin}: {path}", path)
        except (DataError, OSError) as exc:
            tried.append(f"{origin}: {exc}")
    if download:
        try:
            return Ascent(_download(cache_path()), f"downloaded from {DOWNLOAD_URL}", cache_path())
        except (DataError, OSError) as exc:
            tried.append(f"download from {DOWNLOAD_URL}: {exc}")
    raise DataError("SciPy's ascent image (ascent.dat) was not found. Tried:\n  " + "\n  ".join(tried) +
                    f"\nPut a copy (from Debian's python3-scipy, or a SciPy <= 1.11 wheel's scipy/misc/ascent.dat) in "
                    f"{cache_path()}, or pass --data FOLDER holding ascent.dat.")
