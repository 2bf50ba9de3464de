"""Every file cnngrade writes (reports, grades.csv, summary.json, JUnit, a released starter) gets the mode the umask
gives any new file, atomic writes included: a TA must be able to read results, students a starter (issue 10)."""
from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, SMALL_SPEC
from grader.authoring.check import CaseResult, CheckResult
from grader.authoring.ci_output import write_junit
from grader.cli import main
from grader.report import write_atomic


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_honour_umask(tmp_path: Path, mask: int, expected: int) -> None:
    solution = ROOT / "solutions" / "mnist-single-conv" / "reference_notebook.ipynb"
    with umask(mask):
        write_atomic(tmp_path / "new" / "plain.txt", "x\n")
        write_atomic(tmp_path / "replaced.txt", "old\n")
        os.chmod(tmp_path / "replaced.txt", 0o600)  # replacing a private file gives the new file the umask's mode
        write_atomic(tmp_path / "replaced.txt", "new\n")
        write_junit(CheckResult([CaseResult("ex", "case", tmp_path, True)]), tmp_path / "check.xml")
        released = CliRunner().invoke(main, ["release", str(solution), "-o", str(tmp_path / "starter.ipynb")])
        assert released.exit_code == 0, released.output
    for name in ("new/plain.txt", "replaced.txt", "check.xml", "starter.ipynb"):
        assert oct(mode(tmp_path / name)) == oct(expected), name
    assert (tmp_path / "replaced.txt").read_text() == "new\n"
    assert not list(tmp_path.rglob("*.tmp"))  # no temporary file left beside the targets


def test_batch_results_honour_umask(tmp_path: Path, mnist_path: Path) -> None:
    """A real batch (one fail-fast submission): the per-student report, grades.csv and summary.json are 0644."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "alice.py")
    results = tmp_path / "results"
    with umask(0o022):
        run = CliRunner().invoke(main, ["grade", str(folder), "-o", str(results), "-e", str(SMALL_SPEC), "--data",
                                        str(mnist_path), "--quiet", "--timeout", "300"])
    assert run.exit_code == 0, run.output
    written = [results / "students" / "alice.json", results / "grades.csv", results / "summary.json"]
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(0o644) for p in written}
