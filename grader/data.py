"""Find the dataset file and prove it is the canonical one, without importing TensorFlow.

Sources, in order: ``--data`` / ``$CNNGRADE_DATA`` (an .npz file or a folder holding it), Keras' cache
(``$KERAS_HOME/datasets`` or ``~/.keras/datasets``), then a download into that cache when the machine is online,
from Keras' own URL or ``$CNNGRADE_MNIST_URL`` (a mirror). The file is identified by the sha256 of each array,
because re-packed archives differ byte-for-byte while holding the same data. A download is streamed to a
``.part`` file beside its target, fsynced and verified, and only then renamed into place: an interrupted or
refused download leaves nothing a later run would trust.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from grader.errors import DataError

KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_URL_VARIABLE = "CNNGRADE_MNIST_URL"  # a mirror to download from instead (http(s):// or file://)


@dataclass(frozen=True)
class ArraySpec:
    shape: tuple[int, ...]
    sha256: str


MNIST_ARRAYS: dict[str, ArraySpec] = {
    "x_train": ArraySpec((60000, 28, 28), "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "y_train": ArraySpec((60000,), "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "x_test": ArraySpec((10000, 28, 28), "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "y_test": ArraySpec((10000,), "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}

HOW_TO_PROVIDE = (
    "Provide MNIST in Keras' layout (mnist.npz with x_train, y_train, x_test, y_test) with one of:\n"
    "  --data PATH            (the .npz file, or a folder holding mnist.npz)\n"
    "  CNNGRADE_DATA=PATH     (same meaning)\n"
    "  ~/.keras/datasets/mnist.npz or $KERAS_HOME/datasets/mnist.npz (Keras' cache)\n"
    f"or run once on a machine with internet, which downloads {KERAS_MNIST_URL} into Keras' cache\n"
    f"({MNIST_URL_VARIABLE}=URL downloads from a mirror instead; the file is kept only if its arrays verify)."
)

_verified: dict[tuple[str, int, int], None] = {}


EXPECTED_FILE = ("expected Keras' mnist.npz: a NumPy .npz archive (a zip file) holding the uint8 arrays x_train "
                 "(60000x28x28), y_train (60000), x_test (10000x28x28) and y_test (10000)")


def _what_it_is(head: bytes) -> str:
    """What a file that is not a zip archive looks like, from its first bytes, in words."""
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy array (.npy), not an .npz archive of the four arrays"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file (decompress it first if it holds mnist.npz)"
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


def verify_mnist(path: Path, *, shown: str | None = None) -> None:
    """Raise DataError unless ``path`` holds exactly the canonical MNIST arrays; messages name it ``shown``
    (default: the path)."""
    label = shown or str(path)
    try:
        stat = path.stat()
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise DataError(f"{label}: cannot read the MNIST file: {exc}\n{HOW_TO_PROVIDE}") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return
    if not head.startswith(b"PK"):  # every .npz is a zip; anything else np.load misreads (a text file as a pickle)
        raise DataError(f"{label} is not an .npz MNIST file: it is {_what_it_is(head)}; {EXPECTED_FILE}.\n"
                        f"{HOW_TO_PROVIDE}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            for name, expected in MNIST_ARRAYS.items():
                if name not in archive.files:
                    found = ", ".join(archive.files[:8]) or "no arrays"
                    raise DataError(f"{label}: no array {name!r} in the file (it holds {found}); it is not Keras' "
                                    f"mnist.npz: {EXPECTED_FILE}.\n{HOW_TO_PROVIDE}")
                try:
                    array = archive[name]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise DataError(f"{label}: array {name} holds Python objects, which cnngrade never loads (they "
                                    f"could run code); it is not Keras' mnist.npz: {EXPECTED_FILE}.\n"
                                    f"{HOW_TO_PROVIDE}") from exc
                if array.shape != expected.shape or array.dtype != np.uint8:
                    raise DataError(
                        f"{label}: array {name} has shape {array.shape} and dtype {array.dtype}; expected "
                        f"{expected.shape} uint8.\n{HOW_TO_PROVIDE}"
                    )
                if hashlib.sha256(array.tobytes()).hexdigest() != expected.sha256:
                    raise DataError(f"{label}: array {name} differs from the canonical MNIST (sha256 mismatch).\n"
                                    f"{HOW_TO_PROVIDE}")
    except DataError:
        raise
    except Exception as exc:  # a truncated or corrupt zip: np.load raises many kinds
        raise DataError(f"{label} is not a readable .npz MNIST file ({type(exc).__name__}: {exc}); {EXPECTED_FILE}.\n"
                        f"{HOW_TO_PROVIDE}") from exc
    _verified[key] = None


def _explicit(value: str | os.PathLike[str], origin: str) -> Path:
    path = Path(value).expanduser()
    if path.is_dir():
        path = path / "mnist.npz"
    if not path.is_file():
        raise DataError(f"{origin} points to {path}, which does not exist.\n{HOW_TO_PROVIDE}")
    return path


def keras_cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME")
    return (Path(home) if home else Path.home() / ".keras") / "datasets"


def mnist_url() -> str:
    """Where a missing MNIST is downloaded from: ``$CNNGRADE_MNIST_URL`` (a mirror), else Keras' own URL."""
    return os.environ.get(MNIST_URL_VARIABLE, "").strip() or KERAS_MNIST_URL


def _megabytes(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class _Progress:
    """A download's progress on ``stream``: a live bar (bytes, rate) on a terminal, one plain line otherwise."""

    WIDTH = 24

    def __init__(self, stream: TextIO, *, url: str, target: Path, total: int | None) -> None:
        self.stream, self.total = stream, total
        try:
            self.live = stream.isatty()
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            self.live = False
        self.started = self.last = time.monotonic()
        self.done = 0
        size = f" ({_megabytes(total)})" if total else ""
        self._write(f"cnngrade: downloading MNIST{size} from {url} into {target.parent}\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the download
            pass

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.live and now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-6)
        if self.total:
            filled = min(self.WIDTH, self.WIDTH * self.done // self.total)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {_megabytes(self.done)}/{_megabytes(self.total)}"
        else:
            bar = _megabytes(self.done)
        self._write(f"\r  {bar}  {_megabytes(rate)}/s ")

    def close(self) -> None:
        if self.live:
            self._draw(time.monotonic())
            self._write("\n")


def _sweep_stale_parts(folder: Path, name: str, older_than_s: float = 600) -> None:
    """Remove ``.part`` files that a hard-killed download left behind (a live one is written at least every 30 s,
    the read timeout). They are never trusted anyway; this only keeps the cache from collecting them."""
    now = time.time()
    for part in folder.glob(f".{name}.*.part"):
        try:
            if now - part.stat().st_mtime > older_than_s:
                part.unlink()
        except OSError:
            pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _download(target: Path, *, url: str | None = None, stream: TextIO | None = None) -> Path:
    """Download MNIST from ``url`` into ``target``: streamed to a ``.part`` file beside it, fsynced, verified by
    the array hashes and only then renamed into place. On any failure, Ctrl-C included, the ``.part`` is removed
    and nothing is left at ``target``."""
    url = url or mnist_url()
    stream = stream if stream is not None else sys.stderr
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale_parts(target.parent, target.name)
        # Created as any new file is (0666 less the umask), not 0600 as tempfile.mkstemp would: Keras' cache is
        # shared. The random part of the name keeps concurrent downloads apart; the last rename wins, both verified.
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise DataError(f"MNIST is not on this machine and cannot be downloaded into Keras' cache "
                        f"({target.parent}): {exc}.\n{HOW_TO_PROVIDE}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=30)
            except ValueError as exc:  # not a URL urllib can open: a typo in CNNGRADE_MNIST_URL, most often
                raise DataError(f"cannot download MNIST from {url!r} ({exc}); {MNIST_URL_VARIABLE} must be an "
                                f"http://, https:// or file:// URL.\n{HOW_TO_PROVIDE}") from exc
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.strip().isdigit() else None
                progress = _Progress(stream, url=url, target=target, total=total)
                try:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        progress.advance(len(chunk))
                finally:
                    progress.close()
            if total is not None and progress.done != total:  # http.client returns short reads without raising
                raise DataError(f"MNIST is not on this machine and the download from {url} stopped after "
                                f"{progress.done} of {total} bytes (the connection was closed); nothing was kept."
                                f"\n{HOW_TO_PROVIDE}")
            out.flush()
            os.fsync(out.fileno())
        try:
            verify_mnist(tmp, shown=f"the file downloaded from {url}")
        except DataError as exc:
            first = str(exc).split("\n", 1)[0]
            raise DataError(f"{first}\nIt was refused and deleted: nothing was written to {target}.\n"
                            f"{HOW_TO_PROVIDE}") from exc
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException as exc:  # Ctrl-C and SIGTERM's unwinding included: a .part is never left to be trusted
        tmp.unlink(missing_ok=True)
        if isinstance(exc, DataError) or not isinstance(exc, (OSError, http.client.HTTPException)):
            raise
        # URLError wraps the cause ("<urlopen error [Errno -2] ...>"): show the cause; HTTPError says it plainly.
        offline = isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError)
        reason = exc.reason if isinstance(exc, urllib.error.URLError) and offline else exc
        raise DataError(f"MNIST is not on this machine and downloading it from {url} failed ({reason}); nothing "
                        f"was kept.\n{HOW_TO_PROVIDE}") from exc
    stat = target.stat()
    _verified[(str(target.resolve()), stat.st_size, stat.st_mtime_ns)] = None  # verified just now, as the .part
    return target


def resolve_mnist(*, data: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """Return the path of a verified mnist.npz, following the documented order of sources."""
    if data is not None:
        path = _explicit(data, "--data")
    elif os.environ.get("CNNGRADE_DATA"):
        path = _explicit(os.environ["CNNGRADE_DATA"], "CNNGRADE_DATA")
    else:
        cached = keras_cache_dir() / "mnist.npz"
        if cached.is_file():
            try:
                verify_mnist(cached)
            except DataError as exc:  # a copy some other tool left truncated or altered: say how to get a good one
                raise DataError(f"{exc}\nIt is in Keras' cache: delete {cached} and run again to download a verified "
                                "copy, or point --data / CNNGRADE_DATA at one.") from exc
            return cached.resolve()
        if download:
            path = _download(cached)
        else:
            raise DataError(f"MNIST was not found in Keras' cache ({cached}).\n{HOW_TO_PROVIDE}")
    verify_mnist(path)
    return path.resolve()  # absolute: the sandbox mounts it at the same path and runs in another folder


def resolve_dataset(name: str, *, data: str | os.PathLike[str] | None = None) -> Path:
    if name == "mnist":
        return resolve_mnist(data=data)
    raise DataError(f"dataset {name!r} is not served by this version of cnngrade (only 'mnist')")
