"""The Gradescope autograder round trip (issue 14): ``cnngrade gradescope build`` on the small test spec, then
``cnngrade gradescope run`` on the reference solution (full score), a known-bad example (its declared failure), and
submissions nothing can be graded from (a results file saying so, marked not_graded). Every results.json is checked
against Gradescope's documented fields (tests/schemas/gradescope-results.schema.json)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, ROOT, SMALL_SPEC, SOLUTIONS

from grader import __version__
from grader.data import resolve_dataset
from grader.platforms.gradescope_config import AutograderConfig
from grader.spec import load_spec

CLI = [sys.executable, "-m", "grader"]
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "gradescope-results.schema.json").read_text())
KNOWN_BAD = SOLUTIONS / "known-bad"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, env=env)


def _valid(results: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(results, SCHEMA)
    return results


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory, mnist_path: Path) -> Path:
    """The zip as an instructor builds it, with the dataset shipped (verified at build time) and a leaderboard."""
    out = tmp_path_factory.mktemp("autograder") / "autograder.zip"
    built = _cli("gradescope", "build", "-e", str(SMALL_SPEC), "-o", str(out), "--data", str(mnist_path),
                 "--leaderboard", "--visibility", "after_published")
    assert built.returncode == 0, built.stderr
    return out


def _run(autograder: Path, submission: Path, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str],
                                                                                  dict[str, Any]]:
    out = tmp_path / "results.json"
    run = _cli("gradescope", "run", str(autograder), str(submission), "-o", str(out), env={**os.environ, **env})
    assert out.is_file(), run.stderr
    return run, _valid(json.loads(out.read_text()))


def test_zip_holds_the_scripts_the_config_this_wheel_and_the_verified_data(autograder: Path,
                                                                           mnist_path: Path) -> None:
    zf = zipfile.ZipFile(autograder)
    names = set(zf.namelist())
    wheel = f"cnngrade-{__version__}-py3-none-any.whl"
    assert {"setup.sh", "run_autograder", "install.sh", "cnngrade-autograder.json", wheel,
            "data/mnist.npz"} == names
    for script in ("setup.sh", "run_autograder", "install.sh"):
        assert (zf.getinfo(script).external_attr >> 16) & 0o111, f"{script} is not executable"
        syntax = subprocess.run(["bash", "-n"], input=zf.read(script), capture_output=True)
        assert syntax.returncode == 0, syntax.stderr
    config = AutograderConfig.model_validate_json(zf.read("cnngrade-autograder.json"))
    assert config.exercise == load_spec(SMALL_SPEC) and config.grader_version == __version__
    assert (config.visibility, config.leaderboard, config.base, config.wheel) == ("after_published", True, "cpu", wheel)
    assert config.output_format == "html"  # the default: Gradescope shows images only in html or md outputs
    setup = zf.read("setup.sh").decode()
    assert f'install.sh" "$SOURCE/{wheel}"' in setup and "gradescope_run prepare" in setup and "@" not in setup
    # The wheel is this cnngrade: same modules as the checkout, and the shipped data is MNIST byte for byte.
    modules = {n for n in zipfile.ZipFile(__import__("io").BytesIO(zf.read(wheel))).namelist() if n.endswith(".py")}
    assert "grader/platforms/gradescope_run.py" in modules and "grader/api.py" in modules
    assert zf.read("data/mnist.npz") == mnist_path.read_bytes()


def test_reference_solution_gets_full_score_and_a_leaderboard(autograder: Path, tmp_path: Path) -> None:
    run, results = _run(autograder, SOLUTIONS / "reference_module.py", tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert results["score"] == results["max_score"] == 10 and results["extra_data"]["status"] == "passed"
    assert results["visibility"] == "after_published" and results["stdout_visibility"] == "hidden"
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    assert results["extra_data"]["submission"] == "reference_module.py"  # as named, not the scratch path
    d = results["extra_data"]
    board = {e["name"]: e for e in results["leaderboard"]}
    assert board["Test accuracy"]["value"] == round(d["test_accuracy"], 4) and d["test_accuracy"] >= 0.9
    name = "Epochs to training accuracy > 0.998"
    assert board[name] == {"name": name, "value": d["stop_epoch"], "order": "asc"}
    # The default html outputs: the training curve on Gradescope's page, the plain text kept for other readers.
    assert {t["output_format"] for t in results["tests"]} == {"html"}
    budget = next(t for t in results["tests"] if t["extra_data"]["check"] == "budget")
    assert '<img src="data:image/png;base64,' in budget["output"] and budget["extra_data"]["text"]
    assert all(t["output"].startswith("<pre>") for t in results["tests"])
    assert "<pre>" not in run.stdout and budget["extra_data"]["text"].splitlines()[0] in run.stdout  # the table


@pytest.fixture(scope="module")
def text_autograder(tmp_path_factory: pytest.TempPathFactory, mnist_path: Path) -> Path:
    out = tmp_path_factory.mktemp("autograder-text") / "autograder.zip"
    built = _cli("gradescope", "build", "-e", str(SMALL_SPEC), "-o", str(out), "--data", str(mnist_path),
                 "--leaderboard", "--output-format", "text")
    assert built.returncode == 0, built.stderr
    return out


def test_known_bad_example_fails_as_declared(text_autograder: Path, tmp_path: Path) -> None:
    declared = tomllib.loads((KNOWN_BAD / "two_convolutions.toml").read_text())["fails"]
    run, results = _run(text_autograder, KNOWN_BAD / "two_convolutions.py", tmp_path)
    assert {t["output_format"] for t in results["tests"]} == {"text"}  # --output-format text: the plain report
    assert all(t["extra_data"].get("text") is None for t in results["tests"])
    assert run.returncode == 1, run.stderr
    first_failed = next(t["extra_data"]["check"] for t in results["tests"] if t["status"] == "failed")
    assert first_failed == declared and results["score"] < results["max_score"]
    assert results["extra_data"]["status"] == "failed"
    assert "Test accuracy" not in {e["name"] for e in results["leaderboard"]}  # never trained: nothing to rank


def _not_graded(results: dict[str, Any]) -> str:
    assert results["score"] == 0 and results["tests"] == [] and results["extra_data"]["status"] == "not_graded"
    return str(results["output"])


def test_empty_submission_folder_gets_a_results_file_saying_so(autograder: Path, tmp_path: Path) -> None:
    (tmp_path / "upload").mkdir()
    run, results = _run(autograder, tmp_path / "upload", tmp_path)
    assert run.returncode == 3
    assert "Your submission is empty" in _not_graded(results)


def test_wrong_file_type_is_not_graded_and_names_what_was_found(autograder: Path, tmp_path: Path) -> None:
    (tmp_path / "upload").mkdir()
    (tmp_path / "upload" / "essay.pdf").write_bytes(b"%PDF-1.4 my answers")
    run, results = _run(autograder, tmp_path / "upload", tmp_path)
    assert run.returncode == 3 and "(found: essay.pdf)" in _not_graded(results)


def test_several_candidate_files_are_not_guessed_between(autograder: Path, tmp_path: Path) -> None:
    (tmp_path / "upload").mkdir()
    shutil.copy(KNOWN_BAD / "two_convolutions.py", tmp_path / "upload" / "draft.py")
    shutil.copy(FIXTURES / "no_callback.py", tmp_path / "upload" / "final.py")
    run, results = _run(autograder, tmp_path / "upload", tmp_path)
    assert run.returncode == 3
    assert "2 notebooks or modules (draft.py, final.py)" in _not_graded(results)


def test_a_grader_failure_is_not_graded_with_a_message_for_the_student(tmp_path: Path) -> None:
    """A zip without data, on a machine whose configured dataset is not MNIST: the grader cannot grade."""
    bare = tmp_path / "bare.zip"
    assert _cli("gradescope", "build", "-e", str(SMALL_SPEC), "-o", str(bare)).returncode == 0
    assert "data/mnist.npz" not in zipfile.ZipFile(bare).namelist()
    fake = tmp_path / "mnist.npz"
    fake.write_bytes(b"not mnist")
    run, results = _run(bare, KNOWN_BAD / "two_convolutions.py", tmp_path, CNNGRADE_DATA=str(fake))
    assert run.returncode == 3
    assert "problem on the grading side, not in your work" in _not_graded(results)
    assert any("mnist.npz" in note for note in results["extra_data"]["notes"])  # the instructor's detail


def test_run_autograder_writes_results_even_when_python_cannot_start(autograder: Path, tmp_path: Path) -> None:
    """The platform's own call: run_autograder in an /autograder-like root, grading process unable to start."""
    root = tmp_path / "autograder"
    zipfile.ZipFile(autograder).extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(KNOWN_BAD / "two_convolutions.py", root / "submission")
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                         env={**os.environ, "CNNGRADE_AUTOGRADER_ROOT": str(root), "CNNGRADE_PYTHON": "/bin/false"})
    assert run.returncode == 0
    _not_graded(_valid(json.loads((root / "results" / "results.json").read_text())))


def test_bad_inputs_are_usage_errors(tmp_path: Path, mnist_path: Path) -> None:
    not_zip = tmp_path / "autograder.zip"
    not_zip.write_text("hello")
    run = _cli("gradescope", "run", str(not_zip), str(SOLUTIONS / "reference_module.py"))
    assert run.returncode == 2 and "not a readable zip" in run.stderr and "Traceback" not in run.stderr
    run = _cli("gradescope", "build", "-e", "no-such-exercise", "-o", str(tmp_path / "a.zip"))
    assert run.returncode == 2 and "no exercise 'no-such-exercise'" in run.stderr
    fake = tmp_path / "fake.npz"
    fake.write_bytes(b"not mnist")
    run = _cli("gradescope", "build", "-e", str(SMALL_SPEC), "-o", str(tmp_path / "a.zip"), "--data", str(fake))
    assert run.returncode == 3 and not (tmp_path / "a.zip").exists()
    assert resolve_dataset("mnist", data=mnist_path) == mnist_path.resolve()


def test_debris_symlinks_and_odd_names_are_never_graded_or_shown(autograder: Path, tmp_path: Path) -> None:
    """A symlink to /etc/passwd named like a module, a nested zip, a file name with a newline, macOS debris: none is
    a candidate, and nothing of /etc/passwd reaches the results; the one real notebook (not JSON) is graded as a
    notebook that cannot be read, without a traceback for the student."""
    upload = tmp_path / "upload"
    (upload / "nested" / "__MACOSX").mkdir(parents=True)
    (upload / "passwd.py").symlink_to("/etc/passwd")
    (upload / "nested" / "__MACOSX" / "._mine.ipynb").write_bytes(b"\x00\x05")
    with zipfile.ZipFile(upload / "work.zip", "w") as inner:  # left zipped: not unpacked, not graded
        inner.writestr("solution.py", "model.fit(x, y)\n")
    (upload / "odd\nname.txt").write_text("hello")
    (upload / "nested" / "mine.ipynb").write_text("{ this is not json")
    run, results = _run(autograder, upload, tmp_path)
    assert run.returncode == 1, run.stderr
    assert results["extra_data"]["submission"] == "nested/mine.ipynb" and results["extra_data"]["status"] == "error"
    assert "mine.ipynb" in results["tests"][0]["extra_data"]["text"] and results["score"] == 0
    shown = json.dumps(results)
    assert "root:x:0" not in shown and "Traceback" not in shown


def _ascent_folder() -> Path:
    from grader.arrays.ascent import find_ascent
    from grader.errors import DataError

    try:
        return find_ascent(download=False).path.parent
    except DataError:
        pytest.skip("SciPy's ascent image is not on this machine (.ci/ascent puts it in cnngrade's cache)")


def test_arrays_exercise_ships_and_prepares_the_ascent_image_not_mnist(tmp_path: Path) -> None:
    ascent = _ascent_folder()
    shipped = tmp_path / "shipped.zip"
    assert _cli("gradescope", "build", "-e", "homemade-convolution", "-o", str(shipped), "--data",
                str(ascent)).returncode == 0
    zf = zipfile.ZipFile(shipped)
    assert "data/ascent.dat" in zf.namelist() and zf.read("data/ascent.dat") == (ascent / "ascent.dat").read_bytes()
    wrong = _cli("gradescope", "build", "-e", "homemade-convolution", "-o", str(tmp_path / "w.zip"), "--data",
                 str(ROOT / "tests" / "specs" / "mnist-small.toml"))
    assert wrong.returncode == 2 and "needs SciPy's ascent.dat" in wrong.stderr and not (tmp_path / "w.zip").exists()
    # Without --data, setup.sh's prepare step keeps a verified copy in the image's cnngrade cache and fetches no MNIST.
    bare = tmp_path / "bare.zip"
    assert _cli("gradescope", "build", "-e", "homemade-convolution", "-o", str(bare)).returncode == 0
    zipfile.ZipFile(bare).extractall(tmp_path / "source")
    env = {**os.environ, "CNNGRADE_DATA": str(ascent), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "KERAS_HOME": str(tmp_path / "keras")}
    prepared = subprocess.run([sys.executable, "-m", "grader.platforms.gradescope_run", "prepare",
                               str(tmp_path / "source")], capture_output=True, text=True, env=env)
    assert prepared.returncode == 0, prepared.stderr
    assert (tmp_path / "cache" / "cnngrade" / "ascent.dat").read_bytes() == (ascent / "ascent.dat").read_bytes()
    assert not (tmp_path / "keras").exists()
    run_autograder = zipfile.ZipFile(bare).read("run_autograder").decode()
    assert 'export XDG_CACHE_HOME="/opt/cnngrade/cache"' in run_autograder


def test_arrays_exercise_round_trip_through_the_zip(tmp_path: Path) -> None:
    ascent = _ascent_folder()
    zip_path = tmp_path / "autograder.zip"
    assert _cli("gradescope", "build", "-e", "homemade-convolution", "-o", str(zip_path), "--data",
                str(ascent)).returncode == 0
    reference = ROOT / "solutions" / "homemade-convolution" / "reference_notebook.ipynb"
    run, results = _run(zip_path, reference, tmp_path, CNNGRADE_DATA="/nonexistent")
    assert run.returncode == 0, run.stdout + run.stderr
    assert results["score"] == results["max_score"] and results["extra_data"]["status"] == "passed"
    assert {t["output_format"] for t in results["tests"]} == {"html"}


def test_an_arrays_exercise_picks_the_file_that_computes_its_results(tmp_path: Path) -> None:
    """The homemade convolution calls no fit: among several uploads, the one assigning i_transformed is graded."""
    from grader.exercises import find_exercise
    from grader.platforms.gradescope_submission import find_submission

    spec, _ = find_exercise("homemade-convolution")
    (tmp_path / "helpers.py").write_text("def show(image):\n    pass\n")
    (tmp_path / "conv.py").write_text("import numpy as np\ni_transformed = np.zeros((4, 4))\nnewImage = i_transformed\n")
    found = find_submission(tmp_path, spec)
    assert found.path == tmp_path / "conv.py" and found.message and "the only one that computes i_transformed" in found.message
