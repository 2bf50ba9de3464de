from pathlib import Path

import numpy as np
import pytest

from grader.data import resolve_mnist, verify_mnist
from grader.errors import DataError


def test_canonical_file_verifies(mnist_path: Path) -> None:
    verify_mnist(mnist_path)
    assert resolve_mnist(data=mnist_path.parent) == (mnist_path.parent / "mnist.npz").resolve()


def test_relative_path_comes_back_absolute(mnist_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mnist_path.parent)
    assert resolve_mnist(data="mnist.npz") == mnist_path.resolve()


def test_altered_array_is_rejected(mnist_path: Path, tmp_path: Path) -> None:
    with np.load(mnist_path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["y_test"] = arrays["y_test"].copy()
    arrays["y_test"][0] = (arrays["y_test"][0] + 1) % 10
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(DataError, match="y_test differs"):
        resolve_mnist(data=tmp_path)


def test_missing_file_says_how_to_provide_it(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        resolve_mnist(data=tmp_path / "nowhere.npz")
    assert "--data PATH" in str(err.value) and "CNNGRADE_DATA" in str(err.value)


def test_garbage_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        resolve_mnist(data=tmp_path)


def test_environment_then_keras_cache(mnist_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNGRADE_DATA", str(mnist_path))
    assert resolve_mnist() == mnist_path.resolve()
    monkeypatch.delenv("CNNGRADE_DATA")
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").symlink_to(mnist_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert resolve_mnist(download=False) == mnist_path.resolve()  # the cache entry links to it


def test_no_source_and_no_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CNNGRADE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataError, match="not found in Keras' cache"):
        resolve_mnist(download=False)
