"""Find the dataset file and prove it is the canonical one, without importing TensorFlow.

Sources, in order: ``--data`` / ``$CNNGRADE_DATA`` (an .npz file or a folder holding it), Keras' cache
(``$KERAS_HOME/datasets`` or ``~/.keras/datasets``), then Keras' own download URL into that cache when the
machine is online. The file is identified by the sha256 of each array, because re-packed archives differ
byte-for-byte while holding the same data.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.errors import DataError

KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"


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
    f"or run once on a machine with internet, which downloads {KERAS_MNIST_URL} into Keras' cache."
)

_verified: dict[tuple[str, int, int], None] = {}


def verify_mnist(path: Path) -> None:
    """Raise DataError unless ``path`` holds exactly the canonical MNIST arrays."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the MNIST file: {exc}\n{HOW_TO_PROVIDE}") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return
    try:
        with np.load(path, allow_pickle=False) as archive:
            for name, expected in MNIST_ARRAYS.items():
                if name not in archive.files:
                    raise DataError(f"{path}: no array {name!r} in the file; it is not Keras' mnist.npz.\n{HOW_TO_PROVIDE}")
                array = archive[name]
                if array.shape != expected.shape or array.dtype != np.uint8:
                    raise DataError(
                        f"{path}: array {name} has shape {array.shape} and dtype {array.dtype}; expected "
                        f"{expected.shape} uint8.\n{HOW_TO_PROVIDE}"
                    )
                if hashlib.sha256(array.tobytes()).hexdigest() != expected.sha256:
                    raise DataError(f"{path}: array {name} differs from the canonical MNIST (sha256 mismatch).\n{HOW_TO_PROVIDE}")
    except DataError:
        raise
    except Exception as exc:  # a truncated or foreign file: np.load raises many kinds
        raise DataError(f"{path}: not a readable .npz archive ({exc}).\n{HOW_TO_PROVIDE}") from exc
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


def _download(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(KERAS_MNIST_URL, timeout=30) as response:
            shutil.copyfileobj(response, out)
        verify_mnist(Path(tmp))
        os.replace(tmp, target)
    except DataError:
        Path(tmp).unlink(missing_ok=True)
        raise
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"MNIST is not on this machine and downloading it failed ({exc}).\n{HOW_TO_PROVIDE}") from exc
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
            path = cached
        elif download:
            path = _download(cached)
        else:
            raise DataError(f"MNIST was not found in Keras' cache ({cached}).\n{HOW_TO_PROVIDE}")
    verify_mnist(path)
    return path.resolve()  # absolute: the sandbox mounts it at the same path and runs in another folder


def resolve_dataset(name: str, *, data: str | os.PathLike[str] | None = None) -> Path:
    if name == "mnist":
        return resolve_mnist(data=data)
    raise DataError(f"dataset {name!r} is not served by this version of cnngrade (only 'mnist')")
