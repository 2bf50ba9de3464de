"""``cnngrade check`` on a solutions repository built here: a good solution, a known-bad example that fails as
declared, one declared to fail 'message' that fails elsewhere first, and a flaky exercise; JUnit parsed back."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, SMALL_SPEC, SOLUTIONS, _data_path
from grader.authoring.check import run_check
from grader.authoring.release import MarkerError, release_source
from grader.cli import main

# On 1000 training images the reference lands either side of this test floor depending on the seed. Measured here
# (seed offset: re-measured train, test accuracy): 0: 0.999, 0.900; 1: 0.996, 0.914; 2: 0.987, 0.888. Seeds 1 and 2
# fall clearly on either side, so 3 seeds give 1 or 2 passes whichever way seed 0 lands: flaky either way.
FLAKY_FLOOR = "min_test_accuracy = 0.895"


def _spec(text: str, *, id: str, train: int, test: int) -> str:
    text = text.replace('id = "mnist-single-conv-small"', f'id = "{id}"')
    return text.replace("train_limit = 2000", f"train_limit = {train}").replace("test_limit = 1000", f"test_limit = {test}")


def _starter(folder: Path, solution: Path) -> None:
    subprocess.run([sys.executable, "-m", "grader", "release", str(solution), "-o", str(folder / "starter.ipynb")],
                   check=True, capture_output=True)


def _solution_notebook(path: Path) -> None:
    source = (SOLUTIONS / "reference_module.py").read_text()
    marked = source.replace("    model = tf.keras", "    ### BEGIN SOLUTION\n    model = tf.keras", 1).replace(
        "    model.compile(", "    ### END SOLUTION\n    model.compile(", 1)
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# One convolution"),
                                           nbformat.v4.new_code_cell(marked)])
    nbformat.write(node, path)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("solutions-repo")
    small = SMALL_SPEC.read_text()
    specs = {"good": _spec(small, id="good", train=2000, test=1000),
             "flaky": _spec(small, id="flaky", train=1000, test=500).replace("min_test_accuracy = 0.9", FLAKY_FLOOR)}
    for ex_id, spec in specs.items():
        (root / "exercises" / ex_id).mkdir(parents=True)
        (root / "solutions" / ex_id).mkdir(parents=True)
        (root / "exercises" / ex_id / "exercise.toml").write_text(spec)
    _solution_notebook(root / "solutions" / "good" / "solution.ipynb")
    _starter(root / "exercises" / "good", root / "solutions" / "good" / "solution.ipynb")
    _solution_notebook(root / "flaky-solution.ipynb")
    _starter(root / "exercises" / "flaky", root / "flaky-solution.ipynb")
    shutil.copy(SOLUTIONS / "reference_module.py", root / "solutions" / "flaky" / "solution.py")
    bad = root / "solutions" / "good" / "known-bad"
    bad.mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", bad / "two_convolutions.py")
    (bad / "two_convolutions.toml").write_text('fails = "architecture"\nwhy = "two Conv2D layers"\n')
    shutil.copy(FIXTURES / "no_flatten.py", bad / "mislabelled.py")  # declared wrongly on purpose
    (bad / "mislabelled.toml").write_text('fails = "message"\nwhy = "prints the wrong message"\n')
    return root


def _check(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``cnngrade check``; ``env`` adds variables (GitHub's), which are otherwise kept out."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    full_env.update({"CNNGRADE_DATA": str(_data_path()), **(env or {})})
    return subprocess.run([sys.executable, "-m", "grader", "check", str(repo), *args], capture_output=True,
                          text=True, timeout=900, env=full_env)


def _cases(junit: Path) -> dict[str, ET.Element]:
    tree = ET.parse(junit)
    return {f"{c.get('classname')}/{c.get('name')}": c for c in tree.getroot().iter("testcase")}


def test_check_reports_each_case_and_writes_junit(repo: Path, tmp_path: Path) -> None:
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    run = _check(repo, "-e", "good", "-j", "2", "--junit", str(junit),
                 env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert run.returncode == 1, run.stdout + run.stderr  # the mislabelled example must make CI fail
    assert run.stdout.splitlines()[0] == f"solutions repository: {repo}"  # named before anything is graded
    cases = _cases(junit)
    assert set(cases) == {"good/valid exercise.toml and starter.ipynb", "good/starter matches release of solution.ipynb",
                          "good/solution solution.ipynb", "good/known-bad two_convolutions.py fails architecture",
                          "good/known-bad mislabelled.py fails message"}
    failing = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failing == {"good/known-bad mislabelled.py fails message"}
    message = cases["good/known-bad mislabelled.py fails message"].find("failure").get("message")
    assert "declared to fail 'message' but failed 'architecture' first" in message
    assert float(cases["good/solution solution.ipynb"].get("time")) > 1  # it really trained
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "5" and root.get("failures") == "1"
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1 and "file=solutions/good/known-bad/mislabelled.py" in annotations[0]
    assert "❌ 1 of 5 checks failed" in summary.read_text()


def test_flaky_exercise_is_named_flaky(repo: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = _check(repo, "-e", "flaky", "--seeds", "3", "-j", "2", "--junit", str(junit))
    assert run.returncode == 1
    case = _cases(junit)["flaky/solution solution.py"]
    failure = case.find("failure")
    assert failure is not None and "FLAKY exercise" in failure.get("message")
    assert "passed 1 of 3 seeds" in failure.text or "passed 2 of 3 seeds" in failure.text
    assert "seed 20240603" in failure.text  # the seed that failed, to reproduce it


def test_release_replaces_solution_regions(tmp_path: Path) -> None:
    text, regions = release_source("a = 1\n    ### BEGIN SOLUTION\n    secret()\n    ### END SOLUTION\nb = 2",
                                   placeholder="# YOUR CODE HERE\nraise NotImplementedError()", where="x")
    assert regions == 1 and text == "a = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\nb = 2"
    for broken in ("### BEGIN SOLUTION\nx", "### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION"):
        with pytest.raises(MarkerError):
            release_source(broken, placeholder="#", where="cell 2")
    solution = ROOT / "solutions" / "mnist-single-conv" / "reference_notebook.ipynb"
    out = tmp_path / "starter.ipynb"
    result = CliRunner().invoke(main, ["release", str(solution), "-o", str(out)])
    assert result.exit_code == 0, result.output
    released = nbformat.read(out, as_version=4)
    assert "BEGIN SOLUTION" not in out.read_text() and "Conv2D" not in out.read_text()
    assert all(not c.get("outputs") for c in released.cells)
    # The shipped starter is exactly this release (cnngrade check verifies it in CI too).
    assert out.read_bytes() == (ROOT / "exercises" / "mnist-single-conv" / "starter.ipynb").read_bytes()
    unmarked = CliRunner().invoke(main, ["release", str(ROOT / "exercises" / "mnist-single-conv" / "starter.ipynb"),
                                         "-o", str(tmp_path / "x.ipynb")])
    assert unmarked.exit_code == 2 and "no ### BEGIN SOLUTION" in unmarked.output


def test_validate_names_file_and_field(tmp_path: Path, mnist_path: Path) -> None:
    ex = tmp_path / "exercises" / "broken"
    ex.mkdir(parents=True)
    (ex / "exercise.toml").write_text(SMALL_SPEC.read_text().replace("epoch_budget = 12", "epoch_budget = -3"))
    other = tmp_path / "exercises" / "nostarter"
    other.mkdir()
    (other / "exercise.toml").write_text(_spec(SMALL_SPEC.read_text(), id="nostarter", train=10, test=10))
    bad = tmp_path / "solutions" / "nostarter" / "known-bad"
    bad.mkdir(parents=True)
    (bad / "undeclared.py").write_text("print(1)\n")
    (bad / "typo.py").write_text("print(1)\n")
    (bad / "typo.toml").write_text('fails = "architectur"\n')
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    out = result.output
    assert "broken/exercise.toml" in out and "goal.epoch_budget" in out
    assert "starter notebook students download is missing" in out
    assert "undeclared.toml is missing" in out and "'architectur' is not a check" in out
    assert "no reference solution" in out
    # In check, each finding is a failing case filed under its own exercise (JUnit's classname).
    checked = run_check(repo=tmp_path, data=str(mnist_path))
    failing = {(c.exercise, c.path.name) for c in checked.cases if not c.ok}
    assert {("nostarter", "undeclared.py"), ("nostarter", "nostarter"), ("broken", "exercise.toml")} <= failing
    assert not checked.ok
    good = CliRunner().invoke(main, ["validate", str(ROOT)])
    assert good.exit_code == 0 and "3 exercise(s), 0 problem(s)" in good.output
    assert good.output.splitlines()[0] == f"solutions repository: {ROOT}"
    listing = CliRunner().invoke(main, ["exercises", str(ROOT)])
    assert listing.exit_code == 0 and "within 20 epochs" in listing.output
    assert CliRunner().invoke(main, ["check", str(tmp_path / "nowhere")]).exit_code == 2


# --- issue 10: check and validate agree; notebooks' problems are explained -----------------------------------------

@pytest.mark.parametrize("layout", ["empty", "folders without exercise.toml"])
def test_empty_exercises_folder_agrees_in_check_and_validate(tmp_path: Path, layout: str) -> None:
    """Nothing to check is a wrong path, not success (validate) nor "0/0 checks hold" failure (check): both exit 2."""
    (tmp_path / "exercises").mkdir()
    if layout != "empty":
        (tmp_path / "exercises" / "hw1").mkdir()
        (tmp_path / "exercises" / "hw1" / "notes.md").write_text("draft\n")
    junit = tmp_path / "check.xml"
    outcomes = {command: CliRunner().invoke(main, [command, str(tmp_path), *extra])
                for command, extra in (("check", ["--junit", str(junit)]), ("validate", []), ("exercises", []))}
    for command, result in outcomes.items():
        assert result.exit_code == 2, (command, result.output)
        assert "holds no exercise" in result.output and "nothing to check" in result.output, command
        assert "0/0" not in result.output
    assert not junit.exists()


def test_starter_with_malformed_json_is_explained(tmp_path: Path) -> None:
    ex = tmp_path / "exercises" / "hw"
    ex.mkdir(parents=True)
    (ex / "exercise.toml").write_text(_spec(SMALL_SPEC.read_text(), id="hw", train=10, test=10))
    (ex / "starter.ipynb").write_text('{\n "cells": [,]\n}\n')
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "starter.ipynb is not a valid notebook: its JSON is malformed at line 2, column 12" in result.output
    (ex / "starter.ipynb").write_text("{}")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert "starter.ipynb is not a Jupyter notebook: its JSON has no cells and no nbformat version" in result.output
    released = CliRunner().invoke(main, ["release", str(ex / "starter.ipynb"), "-o", str(tmp_path / "out.ipynb")])
    assert released.exit_code == 2 and "is not a Jupyter notebook" in released.output
    assert "version 1 to version 2" not in released.output
