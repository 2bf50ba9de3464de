"""Fashion-MNIST from each of its sources, as Keras and Debian lay it out (four IDX .gz files) or as an .npz: an
explicit file or folder (also one holding both datasets), Keras' cache, Debian's folder, a download from a real
HTTP server on loopback; each verified by its array hashes, a tampered or incomplete copy refused with a message
that says what is wrong and how to provide the data. Keras' real cache and the user's cache are never touched."""
from __future__ import annotations

import gzip
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.data import resolve_dataset, served_datasets
from grader.data.registry import FASHION_MNIST
from grader.errors import DataError

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
FILES = FASHION_MNIST.idx_files or {}


@pytest.fixture(scope="session")
def fashion_idx() -> Path:
    """Debian's dataset-fashion-mnist: the real four IDX files (.ci/run installs the package)."""
    if not all((DEBIAN / f).is_file() for f in FILES.values()):
        pytest.fail(f"Fashion-MNIST not found in {DEBIAN}: apt-get install dataset-fashion-mnist (see README)")
    return DEBIAN


@pytest.fixture(scope="session")
def cache() -> Iterator[Path]:
    """cnngrade's cache for this session, in the temp folder (pytest's own is 0700: the sandbox could not read it)."""
    folder = Path(tempfile.mkdtemp(prefix="cnngrade-test-cache-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def nowhere(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No source configured: empty Keras cache and system folder, no CNNGRADE_DATA."""
    monkeypatch.delenv("CNNGRADE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("CNNGRADE_SYSTEM_DATASETS", str(tmp_path / "system"))
    monkeypatch.setenv("CNNGRADE_CACHE", str(cache))
    return tmp_path


def _linked(folder: Path, source: Path, only: tuple[str, ...] = tuple(FILES)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in only:
        (folder / FILES[name]).symlink_to(source / FILES[name])
    return folder


def _train_labels(source: Path) -> np.ndarray:
    with gzip.open(source / FILES["y_train"]) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)


def test_explicit_folder_of_idx_files_is_converted_once(fashion_idx: Path, nowhere: Path, cache: Path) -> None:
    folder = _linked(nowhere / "given", fashion_idx)
    path = resolve_dataset("fashion_mnist", data=folder)
    assert path.parent == cache.resolve() and path.suffix == ".npz"
    with np.load(path) as f:
        assert {k: f[k].shape for k in f.files} == {"x_train": (60000, 28, 28), "y_train": (60000,),
                                                   "x_test": (10000, 28, 28), "y_test": (10000,)}
        assert (f["y_train"] == _train_labels(fashion_idx)).all()
    assert path.stat().st_mode & 0o777 == 0o644  # readable by the sandboxed run whatever the umask
    written = path.stat().st_mtime_ns
    assert resolve_dataset("fashion_mnist", data=folder) == path and path.stat().st_mtime_ns == written


def test_explicit_npz_and_a_folder_holding_both(fashion_idx: Path, nowhere: Path, mnist_path: Path) -> None:
    converted = resolve_dataset("fashion_mnist", data=_linked(nowhere / "idx", fashion_idx))
    both = nowhere / "both"
    both.mkdir()
    shutil.copyfile(converted, both / "fashion_mnist.npz")
    (both / "mnist.npz").symlink_to(mnist_path)
    assert resolve_dataset("fashion_mnist", data=both / "fashion_mnist.npz") == (both / "fashion_mnist.npz").resolve()
    assert served_datasets("mnist", data=both) == {"mnist": mnist_path.resolve(),
                                                   "fashion_mnist": (both / "fashion_mnist.npz").resolve()}
    (both / "fashion_mnist.npz").unlink()
    _linked(both / "fashion-mnist", fashion_idx)  # the Keras-cache layout inside a --data folder
    assert served_datasets("fashion_mnist", data=both) == {"fashion_mnist": converted, "mnist": mnist_path.resolve()}


def test_an_explicit_source_without_the_dataset_falls_through(fashion_idx: Path, nowhere: Path,
                                                              mnist_path: Path) -> None:
    """CNNGRADE_DATA=mnist.npz (or a folder holding only it) still finds Fashion-MNIST in Debian's folder."""
    _linked(nowhere / "system" / "fashion-mnist", fashion_idx)
    from_system = resolve_dataset("fashion_mnist", download=False)
    assert resolve_dataset("fashion_mnist", data=mnist_path, download=False) == from_system
    assert served_datasets("mnist", data=mnist_path.parent) == {"mnist": mnist_path.resolve(),
                                                                "fashion_mnist": from_system}


def test_keras_cache_layout(fashion_idx: Path, nowhere: Path) -> None:
    _linked(nowhere / "keras" / "datasets" / "fashion-mnist", fashion_idx)
    assert resolve_dataset("fashion_mnist", download=False).name.startswith("fashion_mnist-")


def test_keras_cache_with_a_file_missing_is_not_trusted_nor_used(fashion_idx: Path, nowhere: Path) -> None:
    _linked(nowhere / "keras" / "datasets" / "fashion-mnist", fashion_idx, only=("x_train", "y_train", "x_test"))
    with pytest.raises(DataError, match="Fashion-MNIST was not found in Keras' cache"):
        resolve_dataset("fashion_mnist", download=False)


def test_nothing_anywhere_names_every_source_in_order(nowhere: Path) -> None:
    with pytest.raises(DataError) as err:
        resolve_dataset("fashion_mnist", download=False)
    first, message = str(err.value).split("\n", 1)
    assert first == (f"Fashion-MNIST was not found in Keras' cache ({nowhere / 'keras' / 'datasets' / 'fashion-mnist'}) "
                     f"nor in {nowhere / 'system' / 'fashion-mnist'}.")
    order = ["--data PATH", "CNNGRADE_DATA=PATH", "$KERAS_HOME/datasets/fashion-mnist/",
             str(nowhere / "system" / "fashion-mnist"), "apt-get install dataset-fashion-mnist",
             "downloads the four IDX files from https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
             "CNNGRADE_FASHION_MNIST_URL=URL"]
    where = [message.find(s) for s in order]
    assert -1 not in where and where == sorted(where), message
    with pytest.raises(DataError, match="only 'mnist', 'fashion_mnist'"):
        resolve_dataset("cifar10")


def test_a_missing_file_is_named(fashion_idx: Path, nowhere: Path) -> None:
    folder = _linked(nowhere / "given", fashion_idx, only=("x_train", "y_train", "x_test"))
    with pytest.raises(DataError, match=f"{folder} holds 3 of Fashion-MNIST's four IDX files: "
                                        "t10k-labels-idx1-ubyte.gz is missing"):
        resolve_dataset("fashion_mnist", data=folder)


def _tampered(folder: Path, source: Path) -> Path:
    """The real files with one test label changed, re-compressed: a valid IDX file, the wrong data."""
    _linked(folder, source, only=("x_train", "y_train", "x_test"))
    with gzip.open(source / FILES["y_test"]) as f:
        raw = bytearray(f.read())
    raw[8] = (raw[8] + 1) % 10
    with gzip.open(folder / FILES["y_test"], "wb", compresslevel=1) as out:
        out.write(bytes(raw))
    return folder


def test_tampered_idx_file_is_refused_not_bypassed(fashion_idx: Path, nowhere: Path, cache: Path) -> None:
    """A --data folder holding a damaged copy stops with a message, though Debian's good copy is right there."""
    _linked(nowhere / "system" / "fashion-mnist", fashion_idx)
    before = sorted(cache.iterdir())
    folder = _tampered(nowhere / "given", fashion_idx)
    with pytest.raises(DataError, match=rf"{folder} \(t10k-labels-idx1-ubyte.gz\): array y_test differs from the "
                                        r"canonical Fashion-MNIST \(sha256 mismatch\)"):
        resolve_dataset("fashion_mnist", data=folder)
    assert sorted(cache.iterdir()) == before  # nothing converted, no .part left


def test_not_an_idx_file_is_explained(fashion_idx: Path, nowhere: Path) -> None:
    folder = _linked(nowhere / "given", fashion_idx, only=("x_train", "y_train", "x_test"))
    (folder / FILES["y_test"]).write_text("not gzip\n")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz is not a readable gzip-compressed IDX file"):
        resolve_dataset("fashion_mnist", data=folder)


class _Server:
    """A real HTTP server on 127.0.0.1 serving a folder; records the paths asked for."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

            def log_message(self, format: str, *args: object) -> None:
                requests.append(self.path)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror(fashion_idx: Path, nowhere: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    root = nowhere / "served"
    for name in FILES.values():  # copies, not links: SimpleHTTPRequestHandler serves the file it finds
        (root / "good").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fashion_idx / name, root / "good" / name)
    _tampered(root / "tampered", fashion_idx)
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    server = _Server(root)
    yield server
    server.close()


def test_download_of_the_four_files_lands_verified_in_keras_cache(mirror: _Server, nowhere: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CNNGRADE_FASHION_MNIST_URL", f"{mirror.url}/good/")
    path = resolve_dataset("fashion_mnist")
    keras = nowhere / "keras" / "datasets" / "fashion-mnist"
    assert sorted(p.name for p in keras.iterdir()) == sorted(FILES.values())  # no .part left
    assert sorted(mirror.requests) == sorted(f"/good/{f}" for f in FILES.values())
    assert resolve_dataset("fashion_mnist", download=False) == path  # Keras' cache serves later runs
    err = capfd.readouterr().err
    assert f"cnngrade: downloading Fashion-MNIST train-images-idx3-ubyte.gz (26.4 MB) from {mirror.url}/good/" in err
    assert len(err.splitlines()) == 4


def test_a_tampered_download_is_refused_and_leaves_nothing(mirror: _Server, nowhere: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNGRADE_FASHION_MNIST_URL", f"{mirror.url}/tampered")
    with pytest.raises(DataError) as err:
        resolve_dataset("fashion_mnist")
    keras = nowhere / "keras" / "datasets" / "fashion-mnist"
    assert "array y_test differs from the canonical Fashion-MNIST" in str(err.value)
    assert f"It was refused and deleted: nothing was written to {keras}" in str(err.value)
    assert list(keras.iterdir()) == []
    monkeypatch.setenv("CNNGRADE_FASHION_MNIST_URL", f"{mirror.url}/nowhere/")
    with pytest.raises(DataError, match="downloading it from .*/nowhere/train-labels-idx1-ubyte.gz failed "
                                        r"\(HTTP Error 404: File not found\); nothing was kept"):
        resolve_dataset("fashion_mnist")
    assert list(keras.iterdir()) == []


def test_a_cache_other_users_cannot_reach_is_not_used(tmp_path: Path, cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandboxed run is another uid: a cache under a 0700 folder (root's home) would be unreadable to it."""
    from grader.data.idx import cache_dir

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("CNNGRADE_CACHE", str(private / "cache"))
    assert cache_dir() == (Path(tempfile.gettempdir()) / f"cnngrade_cache-{os.geteuid()}").resolve()
    monkeypatch.setenv("CNNGRADE_CACHE", str(cache / "configured"))  # in the temp folder, every parent o+x
    assert cache_dir() == (cache / "configured").resolve()


# --- the sandboxed run is served every dataset found, as MNIST is ---------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
BOTH = ROOT / "tests" / "fixtures" / "fashion-mnist" / "mnist_experiment_then_fashion_model.py"
FASHION_SPEC = ROOT / "tests" / "specs" / "fashion-small.toml"


def test_a_run_is_served_both_datasets(fashion_idx: Path, nowhere: Path, mnist_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """--data names MNIST only; Fashion-MNIST (the exercise's dataset) comes from Debian's folder through cnngrade's
    cache, mounted read-only into the sandbox beside MNIST. Both fits train on their own sliced data, and the graded
    (Fashion) fit's preprocessing is inferred against, and its accuracy re-measured on, Fashion-MNIST."""
    from grader.api import grade
    from grader.isolation import bwrap_works

    monkeypatch.delenv("CNNGRADE_SYSTEM_DATASETS")
    report = grade(submission=BOTH, exercise=FASHION_SPEC, data=mnist_path)
    d = report.extra_data
    assert d.isolation == ("full" if bwrap_works() else "partial")
    assert d.errors == [] and d.fit_calls == 2 and d.graded_fit == 2 and d.epochs_run == 1, report.output
    assert d.preprocessing == "reshape to (28, 28, 1), divide by 255", report.output  # matched to Fashion's images
    assert d.history[0].accuracy is not None and 0.4 < d.history[0].accuracy < 0.95  # one epoch on 2000 images
    assert d.test_accuracy is not None and d.test_accuracy > 0.4  # Fashion's test slice (MNIST's would be ~0.1)


def test_a_dataset_not_found_refuses_in_the_run(nowhere: Path, mnist_path: Path) -> None:
    """An MNIST exercise on a machine without Fashion-MNIST: the run's fashion_mnist.load_data() says how the
    grader can be given it (nothing is downloaded while a submission runs)."""
    from grader.api import grade
    from grader.exercises import find_exercise
    from grader.spec import DatasetSpec

    spec = find_exercise(FASHION_SPEC)[0]
    spec = spec.model_copy(update={"dataset": DatasetSpec(name="mnist", train_limit=2000, test_limit=1000)})
    report = grade(submission=BOTH.with_name("loads_both_datasets.py"), exercise=spec, data=mnist_path)
    errors = report.extra_data.errors
    assert len(errors) == 1 and errors[0].type == "DatasetNotServed" and errors[0].line == 6, report.output
    assert errors[0].message.startswith("cnngrade: Fashion-MNIST is not available to this run: nothing is downloaded")
    assert "apt-get install dataset-fashion-mnist" in errors[0].message


def test_batch_grading_serves_both_from_a_data_folder(fashion_idx: Path, nowhere: Path, mnist_path: Path) -> None:
    """The batch grader passes the --data folder itself to its workers (not only the exercise's file), so a
    student's MNIST experiment is served from it beside the exercise's Fashion-MNIST (from Debian's folder)."""
    import json

    from grader.batch.coordinator import grade_batch

    _linked(nowhere / "system" / "fashion-mnist", fashion_idx)
    data = nowhere / "data"
    data.mkdir()
    (data / "mnist.npz").symlink_to(mnist_path)
    student = nowhere / "class" / "alice"
    student.mkdir(parents=True)
    shutil.copyfile(BOTH.with_name("loads_both_datasets.py"), student / "loads_both_datasets.py")
    grade_batch(submissions=nowhere / "class", results=nowhere / "results", exercise=FASHION_SPEC, data=str(data))
    details = json.loads((nowhere / "results" / "students" / "alice.json").read_text())["extra_data"]
    assert details["status"] == "failed" and details["errors"] == []  # both load_data calls returned; nothing trained


def test_another_dataset_that_cannot_be_served_is_left_out(mnist_path: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An MNIST exercise on a machine whose Fashion-MNIST cannot be converted (no cache folder every user can read,
    as with a private $TMPDIR) is graded on MNIST; only a run that asks for Fashion-MNIST is told it is missing.
    Found when the batch tests' private TMPDIR stopped whole MNIST batches with exit 3."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("CNNGRADE_CACHE", str(private / "nowhere-readable"))
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr("tempfile.tempdir", None)
    served = served_datasets("mnist", data=mnist_path)
    assert served == {"mnist": mnist_path.resolve()}
