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
    with pytest.raises(DataError, match="is not an .npz MNIST file: it is a text file starting 'not a zip'"):
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


# --- issue 10: NumPy's messages translated (never advice to load a file unsafely) ----------------------------------

def test_text_file_as_data_is_explained(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes\nline 2\n")
    with pytest.raises(DataError) as err:
        resolve_mnist(data=text)
    message = str(err.value)
    assert "allow_pickle" not in message and "unsafely" not in message
    assert f"{text} is not an .npz MNIST file" in message
    assert "a text file starting 'these are my notes'" in message  # what was found
    assert "a NumPy .npz archive (a zip file) holding the uint8 arrays x_train" in message  # what is expected


@pytest.mark.parametrize("content, found", [
    (b"", "an empty file"),
    (b"\x93NUMPY\x01\x00v\x00", "a single NumPy array (.npy)"),
    (b"\x1f\x8b\x08\x00", "a gzip-compressed file"),
    (bytes(range(200, 256)), "a binary file starting with bytes c8 c9"),
])
def test_other_non_npz_files_are_named(tmp_path: Path, content: bytes, found: str) -> None:
    path = tmp_path / "mnist.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match="is not an .npz MNIST file") as err:
        resolve_mnist(data=path)
    assert found in str(err.value)


def test_npz_with_object_arrays_is_refused_without_unsafe_advice(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(3), x_test=np.zeros(3),
             y_test=np.zeros(3))
    with pytest.raises(DataError) as err:
        resolve_mnist(data=path)
    assert "holds Python objects, which cnngrade never loads" in str(err.value)
    assert "allow_pickle" not in str(err.value)


def test_npz_with_other_arrays_names_them(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, images=np.zeros(3), labels=np.zeros(3))
    with pytest.raises(DataError, match="no array 'x_train' in the file \\(it holds images, labels\\)"):
        resolve_mnist(data=path)
