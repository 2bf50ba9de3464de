"""Gradebook files an LMS imports (issue 14), built from a real results folder: a class graded once by
``cnngrade grade`` (Canvas downloads and a Gradescope export mixed, fail-fast and unrunnable submissions only, so it
takes seconds), with --canvas-gradebook and --gradescope-scores. Every student is matched or reported."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, SMALL_SPEC, _data_path

from grader.api import not_graded_report
from grader.platforms.canvas import fill, read_export
from grader.report import Report
from grader.spec import load_spec

EXPORT = ROOT / "tests" / "fixtures" / "lms" / "canvas-gradebook-export.csv"
COLUMN = "Exercise 3 (12345)"


def _grade(folder: Path, results: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CNNGRADE_DATA": str(_data_path())}
    return subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "-o", str(results), "-e",
                           str(SMALL_SPEC), "--no-progress", *extra], capture_output=True, text=True, timeout=600,
                          env=env)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("class")
    bad = FIXTURES / "two_convolutions.py"
    shutil.copy(bad, folder / "smithjane_1234_5678_hw.py")                 # Canvas download: user id 1234
    shutil.copy(FIXTURES / "malformed.ipynb", folder / "doejohn_late_2345_6790_hw.ipynb")  # late, cannot run
    (folder / "leeann_3456_7891_essay.pdf").write_bytes(b"%PDF-1.4")        # no notebook: matched by name
    shutil.copy(bad, folder / "ghostcasper_9999_1111_hw.py")               # dropped the course: no Canvas row
    for n in (101, 102):                                                    # a Gradescope export, one group
        (folder / f"submission_{n}").mkdir()
        shutil.copy(bad, folder / f"submission_{n}" / "hw.py")
    (folder / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Grace Hopper\n    :email: grace@uni.edu\n    :sid: G7\n"
        "submission_102:\n  :submitters:\n  - :name: Ada Lovelace\n    :email: ada@uni.edu\n  - :name: Alan T\n"
        "    :sid: A42\n")
    results = tmp_path_factory.mktemp("results")
    run = _grade(folder, results, "--canvas-gradebook", str(EXPORT), "--canvas-column", "Exercise 3",
                 "--gradescope-scores")
    return results, run


def test_canvas_import_fills_one_column_and_keeps_everything_else(graded: tuple[Path, subprocess.CompletedProcess[str]]
                                                                  ) -> None:
    results, run = graded
    assert run.returncode == 0, run.stderr
    exported, imported = _rows(EXPORT), _rows(results / "canvas-import.csv")
    assert (results / "canvas-import.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # as Canvas wrote it
    assert imported[:3] == exported[:3] and len(imported) == len(exported)  # header rows kept as exported
    col = exported[0].index(COLUMN)
    for before, after in zip(exported, imported):
        assert before[:col] + before[col + 1:] == after[:col] + after[col + 1:]  # every other column untouched
    by_name = {row[0]: row[col] for row in imported[3:]}
    # two convolutions: 1 of 10 points ("ran"), scaled to the column's 20 points possible; the others 0.
    assert by_name == {"Smith, Jane": "2", "Doe, John": "0", "Lee, Ann": "0", "Brown, Bob": "", "Test Student": ""}


def test_every_student_is_matched_or_reported(graded: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, run = graded
    out = run.stdout
    assert "3 scores in 'Exercise 3 (12345)', scores scaled by 2" in out
    unmatched = next(line for line in out.splitlines() if "matching no Canvas student" in line)
    assert all(name in unmatched for name in ("ghostcasper", "grace@uni.edu", "ada@uni.edu+A42"))
    assert "Canvas students without a result (cells left as they were): Brown, Bob, Test Student" in out


def test_gradescope_scores_name_each_person_by_email_or_sid(graded: tuple[Path, subprocess.CompletedProcess[str]]
                                                            ) -> None:
    results, run = graded
    rows = _rows(results / "gradescope-scores.csv")
    assert rows[0] == ["Email", "SID", "Score"]
    assert sorted(rows[1:]) == [["", "A42", "1"], ["ada@uni.edu", "", "1"], ["grace@uni.edu", "", "1"]]
    reported = next(line for line in run.stdout.splitlines() if "neither an e-mail nor a Gradescope SID" in line)
    assert all(name in reported for name in ("smithjane", "doejohn", "leeann", "ghostcasper"))


def test_not_graded_leaves_the_cell_and_a_namesake_matches_by_user_id() -> None:
    spec = load_spec(SMALL_SPEC)

    def named(report: Report, student: str) -> Report:
        return report.model_copy(update={"extra_data": report.extra_data.model_copy(update={"student": student})})

    lost = named(not_graded_report(spec=spec, shown="smithjane_1234_5678_hw.py", sha256="0", error="worker lost"),
                 "smithjane")
    namesake = named(not_graded_report(spec=spec, shown="doejohn", sha256="0", error="x"), "doejohn_2345")
    filled = fill(read_export(EXPORT, "12345"), [lost, namesake])
    assert filled.not_graded == ["doejohn_2345", "smithjane"] and filled.filled == {}
    assert _rows(EXPORT) == list(csv.reader(io.StringIO(filled.text.lstrip("\ufeff"), newline="")))


def test_a_wrong_export_or_column_stops_before_grading(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", tmp_path / "class" / "alice.py")
    run = _grade(tmp_path / "class", tmp_path / "r1", "--canvas-gradebook", str(EXPORT))
    assert run.returncode == 2 and "2 assignment columns" in run.stderr and "Exercise 2 (12344)" in run.stderr
    assert not (tmp_path / "r1" / "students").exists()  # nothing was graded
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nalice,a@x\n")
    run = _grade(tmp_path / "class", tmp_path / "r2", "--canvas-gradebook", str(roster))
    assert run.returncode == 2 and "not a Canvas gradebook export" in run.stderr


def _scored(spec_path: Path, shown: str, student: str, score: float) -> Report:
    report = not_graded_report(spec=load_spec(spec_path), shown=shown, sha256="0", error="")
    details = report.extra_data.model_copy(update={"student": student, "status": "failed", "error": None})
    return report.model_copy(update={"score": score, "extra_data": details})


def test_two_results_for_one_student_are_reported_not_chosen_between() -> None:
    first = _scored(SMALL_SPEC, "smithjane_1234_5678_a.py", "smithjane", 4)
    second = _scored(SMALL_SPEC, "smithjane_1234_5690_b.py", "smithjane_b", 9)
    lee = _scored(SMALL_SPEC, "leeann_3456_7891_hw.py", "leeann", 7)
    filled = fill(read_export(EXPORT, "12345"), [first, second, lee])
    assert filled.several_results == ["Smith, Jane (smithjane, smithjane_b)"] and filled.filled == {"leeann": "Lee, Ann"}
    rows = {row[1]: row for row in csv.reader(io.StringIO(filled.text.lstrip("\ufeff"), newline=""))}
    assert rows["1234"][6] == "" and rows["3456"][6] == "14"  # left as exported; 7 of 10 scaled to the column's 20


def test_gradescope_scores_never_write_a_formula() -> None:
    from grader.platforms.gradescope_scores import scores_csv

    shown = "submission_7/hw.py"
    evil = _scored(SMALL_SPEC, shown, '=HYPERLINK("http://x")@uni.edu + -2+3', 5)
    fine = _scored(SMALL_SPEC, shown, "ok@uni.edu", 5)
    scores = scores_csv([evil, fine])
    assert scores.text == "Email,SID,Score\n,3,5\nok@uni.edu,,5\n" and scores.written == 2  # 3: a SID
    assert scores.unusable == ['=HYPERLINK("http://x")@uni.edu', "-2"]
