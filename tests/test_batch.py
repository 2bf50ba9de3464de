"""Batch grading for real: a class folder with good, bad, broken, duplicate and zipped submissions, graded by
``cnngrade grade`` on a slice of MNIST; then reruns (unchanged, changed) and a run killed with SIGKILL."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.report import Report
from conftest import FIXTURES, SMALL_SPEC, SOLUTIONS, _data_path, leftovers

CLI = [sys.executable, "-m", "grader"]


def _grade(folder: Path, results: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "grade", str(folder), "-o", str(results), "-e", str(SMALL_SPEC), *extra],
                          capture_output=True, text=True, timeout=600, env=_env())


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["CNNGRADE_DATA"] = str(_data_path())
    return env


def _results(results: Path) -> dict[str, Report]:
    reports = [Report.model_validate_json(p.read_bytes()) for p in (results / "students").glob("*.json")]
    return {r.extra_data.student: r for r in reports}


def _log(results: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (results / "batch-log.jsonl").read_text().splitlines()]


def _failing(report: Report) -> set[str]:
    return {t.extra_data.check for t in report.tests if t.status == "failed"}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("class")
    shutil.copy(SOLUTIONS / "reference_module.py", folder / "goodstudent_11_22_hw.py")  # a Canvas download
    (folder / "alice").mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "alice" / "hw.py")
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "carol.py")  # byte-identical to alice's
    with zipfile.ZipFile(folder / "bob.zip", "w") as zf:
        zf.write(FIXTURES / "malformed.ipynb", "hw/hw.ipynb")
    (folder / "dave").mkdir()
    (folder / "dave" / "report.docx").write_bytes(b"PK\x03\x04 a word document")
    shutil.copy(FIXTURES / "binary_renamed.ipynb", folder / "erin.ipynb")
    # The other two export layouts, mixed into the same folder (same file as alice's: trained once for all).
    (folder / "submission_777").mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "submission_777" / "hw.py")
    (folder / "submission_777" / "submission_metadata.json").write_text(
        json.dumps({"users": [{"email": "grace@uni.edu", "name": "Grace Hopper"}]}))
    (folder / "submitted" / "frank" / "ps1").mkdir(parents=True)
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "submitted" / "frank" / "ps1" / "ps1.py")
    results = tmp_path_factory.mktemp("results")
    run = _grade(folder, results, "-j", "2", "--no-progress")
    return folder, results, run


def test_class_is_graded_one_result_per_student(graded_class: tuple[Path, Path, subprocess.CompletedProcess[str]]
                                                ) -> None:
    _, results, run = graded_class
    assert run.returncode == 0, run.stderr
    reports = _results(results)
    assert set(reports) == {"goodstudent", "alice", "carol", "bob", "dave", "erin", "grace@uni.edu", "frank"}
    good = reports["goodstudent"]
    assert good.extra_data.status == "passed" and good.score == good.max_score
    assert good.extra_data.epochs_run >= 1 and good.extra_data.test_accuracy > 0.9  # trained for real
    assert "CPU (1 CPU thread)" == good.extra_data.device  # -j 2 on 2 cores: one thread each
    for name in ("alice", "carol", "grace@uni.edu", "frank"):
        assert "architecture" in _failing(reports[name]) and reports[name].extra_data.status == "failed"
        assert any("byte-identical" in n for n in reports[name].extra_data.notes)
    assert "not a valid notebook" in reports["bob"].extra_data.error
    assert reports["bob"].extra_data.submission == "bob.zip!hw/hw.ipynb"
    assert "report.docx" in reports["dave"].extra_data.error
    assert "binary file" in reports["erin"].extra_data.error
    progress = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 8 and progress[-1].startswith("[8/8] ")  # a log line per finished student
    assert "8 students: 1 passed, 4 failed, 3 could not run, 0 not graded" in run.stdout
    assert reports["frank"].extra_data.submission == "submitted/frank/ps1/ps1.py"


def test_gradebook_agrees_with_result_files(graded_class: tuple[Path, Path, subprocess.CompletedProcess[str]]
                                            ) -> None:
    import csv

    _, results, _ = graded_class
    reports = _results(results)
    rows = {r["student"]: r for r in csv.DictReader((results / "grades.csv").open())}
    assert set(rows) == set(reports)
    for student, report in reports.items():
        assert float(rows[student]["score"]) == report.score and rows[student]["status"] == report.extra_data.status
    summary = json.loads((results / "summary.json").read_text())
    assert summary["students"] == 8 and summary["status"] == {"passed": 1, "failed": 4, "error": 3}
    assert summary["duplicates"] == [["alice", "carol", "frank", "grace@uni.edu"]]
    # The first failing check per student; the cascade behind it is counted apart.
    assert summary["checks_failed"] == {"architecture": 4, "ran": 3} and summary["checks_failed_after"]["architecture"] == 3
    # Identical files were trained once, yet each student has exactly one result line.
    assert sorted(e["student"] for e in _log(results)) == sorted(reports)


def test_rerun_skips_unchanged_and_regrades_changed(graded_class: tuple[Path, Path, subprocess.CompletedProcess[str]],
                                                    tmp_path: Path) -> None:
    folder, original, _ = graded_class
    results = tmp_path / "results"
    shutil.copytree(original, results)
    before = {p.name: p.read_bytes() for p in (results / "students").glob("*.json")}
    started = time.monotonic()
    again = _grade(folder, results, "--no-progress")
    assert time.monotonic() - started < 5 and again.returncode == 0
    assert "(0 graded now, 8 unchanged)" in again.stdout
    assert {p.name: p.read_bytes() for p in (results / "students").glob("*.json")} == before

    changed = tmp_path / "class"
    shutil.copytree(folder, changed)
    with open(changed / "alice" / "hw.py", "a") as handle:
        handle.write("\n# resubmitted after the deadline\n")
    third = _grade(changed, results, "--no-progress")
    assert "(1 graded now, 7 unchanged)" in third.stdout, third.stdout + third.stderr
    reports = _results(results)
    assert reports["alice"].extra_data.submission_sha256 != json.loads(before["alice.json"])["extra_data"][
        "submission_sha256"]
    assert not any("byte-identical" in n for n in reports["alice"].extra_data.notes)
    assert (results / "students" / "carol.json").read_bytes() == before["carol.json"]


def _variant(folder: Path, name: str, tag: str) -> None:
    text = (FIXTURES / "two_convolutions.py").read_text()
    (folder / name).write_text(text + f"\n# {tag}\n")


def test_killed_run_leaves_only_complete_results_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for i, name in enumerate(("ann.py", "ben.py", "cat.py")):
        _variant(folder, name, f"student {i}")
    results = tmp_path / "results"
    proc = subprocess.Popen([*CLI, "grade", str(folder), "-o", str(results), "-e", str(SMALL_SPEC), "-j", "1",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env=_env())
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((results / "students").glob("*.json")):
        time.sleep(0.2)
    time.sleep(1.0)  # into the next student's run
    os.killpg(proc.pid, signal.SIGKILL)  # like power loss: no cleanup code runs
    proc.wait()
    first = {p.name: p.read_bytes() for p in (results / "students").glob("*.json")}
    assert 1 <= len(first) < 3, "the kill must land mid-batch for this test to mean anything"
    for data in first.values():
        Report.model_validate_json(data)  # every file there is complete
    time.sleep(1.0)
    assert leftovers("grader.harness") == [], "the killed grader's sandboxed runs must die with it"

    resumed = _grade(folder, results, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert f"({3 - len(first)} graded now, {len(first)} unchanged)" in resumed.stdout
    final = _results(results)
    assert set(final) == {"ann", "ben", "cat"} and all(r.extra_data.status == "failed" for r in final.values())
    for name, data in first.items():
        assert (results / "students" / name).read_bytes() == data  # finished work was kept, not redone
    assert sorted(e["student"] for e in _log(results)) == ["ann", "ben", "cat"]  # each written exactly once


def test_ctrl_c_stops_at_once_keeps_results_and_writes_the_gradebook(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for i, name in enumerate(("ann.py", "ben.py")):
        _variant(folder, name, f"student {i}")
    results = tmp_path / "results"
    proc = subprocess.Popen([*CLI, "grade", str(folder), "-o", str(results), "-e", str(SMALL_SPEC), "-j", "1",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((results / "students").glob("*.json")):
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and time.monotonic() - started < 10
    assert "Run the same command again" in err
    assert [p.name for p in (results / "students").glob("*.json")] == ["ann.json"]
    assert "ann" in (results / "grades.csv").read_text()  # the gradebook was rebuilt on the way out
    assert leftovers("grader.harness") == []
