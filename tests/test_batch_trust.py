"""A class an instructor can trust (issue 10), on real batches: no student's feedback names another student's file,
a rerun with other options regrades, a scheduler's SIGTERM/SIGHUP stops like Ctrl-C, and scratch left by a hard
kill is removed by the next run."""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, SMALL_SPEC, SOLUTIONS, _data_path, leftovers
from grader.report import Report
from grader.scratch import scratch_dir, sweep

CLI = [sys.executable, "-m", "grader"]


def _env(tmp: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, CNNGRADE_DATA=str(_data_path()))
    if tmp is not None:
        env["TMPDIR"] = str(tmp)  # a private temp folder: what the run leaves there is this test's to inspect
    return env


def _grade(folder: Path, results: Path, *extra: str, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "grade", str(folder), "-o", str(results), "-e", str(SMALL_SPEC), "--no-progress",
                           *extra], capture_output=True, text=True, timeout=900, env=_env(tmp))


def _results(results: Path) -> dict[str, tuple[Report, str]]:
    out = {}
    for path in (results / "students").glob("*.json"):
        text = path.read_text()
        report = Report.model_validate_json(text)
        out[report.extra_data.student or ""] = (report, text)
    return out


# Pairs of byte-identical files, one pair per kind of outcome; each member's name must stay its own.
PAIRS = {
    "empty": (b"", ".ipynb"),
    "malformed": ((FIXTURES / "malformed.ipynb").read_bytes(), ".ipynb"),
    "failfast": ((FIXTURES / "two_convolutions.py").read_bytes(), ".py"),
    "failing": ((FIXTURES / "message_without_training.py").read_bytes(), ".py"),
    "passing": ((SOLUTIONS / "reference_module.py").read_bytes(), ".py"),
}


def test_duplicate_feedback_names_own_file(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    names: dict[str, list[str]] = {}
    for n, (kind, (content, suffix)) in enumerate(PAIRS.items()):
        # Canvas downloads: the file name carries the student's login and ids.
        first, second = f"smith{kind}_1{n}00_5{n}00_hw{suffix}", f"doe{kind}_2{n}00_6{n}00_hw{suffix}"
        (folder / first).write_bytes(content)
        (folder / second).write_bytes(content)
        names[kind] = [first, second]
    results = tmp_path / "results"
    run = _grade(folder, results, tmp=tmp_path)
    assert run.returncode == 0, run.stderr
    graded = _results(results)
    assert len(graded) == 10
    statuses = {}
    for kind, (first, second) in names.items():
        for own, other in ((first, second), (second, first)):
            student = own.split("_")[0]
            report, text = graded[student]
            assert other.split("_")[0] not in text and other not in text, (kind, own)
            assert report.extra_data.submission == own
            statuses[kind] = report.extra_data.status
        assert graded[first.split("_")[0]][0].score == graded[second.split("_")[0]][0].score
    assert statuses == {"empty": "error", "malformed": "error", "failfast": "failed", "failing": "failed",
                        "passing": "passed"}
    empty_report, _ = graded["smithempty"]
    assert names["empty"][0] in empty_report.tests[0].output  # the student's own file is named, not a classmate's
    csv = (results / "grades.csv").read_text()
    smith_row = next(line for line in csv.splitlines() if line.startswith("smithempty,"))
    assert "doeempty" not in smith_row


def test_rerun_with_other_options_regrades(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "ann.py")
    results = tmp_path / "results"
    assert _grade(folder, results).returncode == 0
    same = _grade(folder, results)
    assert "(0 graded now, 1 unchanged)" in same.stdout
    other = _grade(folder, results, "--timeout", "200")
    assert "(1 graded now, 0 unchanged; 1 regraded because the grading options changed)" in other.stdout
    report, _ = _results(results)["ann"]
    assert report.extra_data.grading_options["timeout_s"] == "200"


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_scheduler_signal_keeps_gradebook_and_removes_scratch(tmp_path: Path, sig: signal.Signals, status: int) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(FIXTURES / "two_convolutions.py", folder / "ann.py")
    shutil.copy(FIXTURES / "infinite_loop.py", folder / "ben.py")
    results, tmp = tmp_path / "results", tmp_path / "tmp"
    tmp.mkdir()
    # Started as a non-interactive shell starts a background job: SIGINT ignored, so only SIGTERM can stop it.
    proc = subprocess.Popen([*CLI, "grade", str(folder), "-o", str(results), "-e", str(SMALL_SPEC), "-j", "1",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tmp), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((results / "students").glob("*.json")):
        time.sleep(0.2)
    time.sleep(3.0)  # ben's endless loop is running now
    proc.send_signal(sig)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status and time.monotonic() - started < 15, err
    assert [p.name for p in (results / "students").glob("*.json")] == ["ann.json"]
    assert "ann" in (results / "grades.csv").read_text() and (results / "summary.json").is_file()
    assert list(tmp.glob("cnngrade-*")) == [], "scratch holding student code must be removed"
    assert leftovers(str(tmp)) == []  # this run's sandboxed children (their scratch is under tmp)


def test_single_grading_sigterm_removes_scratch(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([*CLI, "submit", str(FIXTURES / "infinite_loop.py"), "-e", str(SMALL_SPEC)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp))
    time.sleep(8.0)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert list(tmp.glob("cnngrade-*")) == []


def test_scratch_of_a_killed_run_is_swept_and_a_live_one_kept(tmp_path: Path) -> None:
    dead = tmp_path / "cnngrade-abc123"
    dead.mkdir()
    (dead / "student.py").write_text("secret")
    (tmp_path / "cnngrade-abc123.lock").touch()  # its owner died holding nothing
    os.environ["TMPDIR"] = str(tmp_path)
    try:
        import tempfile
        tempfile.tempdir = None
        with scratch_dir("task-") as live:
            removed = sweep()
            assert removed == [dead] and live.is_dir() and not dead.exists()
        assert not live.exists() and list(tmp_path.iterdir()) == []
    finally:
        del os.environ["TMPDIR"]
        tempfile.tempdir = None
    held = tmp_path / "cnngrade-held"
    held.mkdir()
    fd = os.open(tmp_path / "cnngrade-held.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert sweep(tmp_path) == [] and held.is_dir()
    finally:
        os.close(fd)


def test_same_bytes_under_another_suffix_are_graded_as_their_own_kind(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.ipynb").write_text("{}")  # not a notebook
    (folder / "bob.py").write_text("{}")  # a valid (if idle) module
    shutil.copy(FIXTURES / "malformed.ipynb", folder / "carol.IPYNB")  # the suffix's case does not matter
    run = _grade(folder, tmp_path / "results")
    assert run.returncode == 0, run.stderr
    graded = _results(tmp_path / "results")
    assert "not a Jupyter notebook" in graded["alice"][0].tests[0].output
    assert "alice" not in graded["bob"][1] and graded["bob"][0].tests[0].status == "passed"  # ran as a module
    assert graded["carol"][0].extra_data.status == "error" and "carol.IPYNB" in graded["carol"][0].tests[0].output


def test_gradebook_is_the_class_as_it_is_now(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("张伟.ipynb", "li.ipynb", "dropped.ipynb"):
        (folder / name).write_bytes(b"")
    results = tmp_path / "results"
    assert _grade(folder, results).returncode == 0
    (folder / "dropped.ipynb").unlink()
    (folder / "new.ipynb").write_bytes(b"")
    again = _grade(folder, results)
    assert "(1 graded now, 2 unchanged)" in again.stdout  # adding or removing a classmate moves nobody's result
    rows = (results / "grades.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == sorted(["张伟", "li", "new"])
    assert (results / "students" / "张伟.json").is_file()

