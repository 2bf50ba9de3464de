"""Batch grading on a real Dask cluster on loopback, run the way README tells users to: `dask scheduler` and
`dask worker ADDRESS --nthreads 1` as separate processes, `cnngrade grade ... --cluster ADDRESS` as a third process
with no Dask client of its own, and a worker killed while it grades. Every result still arrives, exactly once,
written by the coordinating process, and nothing ends in a traceback."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, SMALL_SPEC

from grader.batch.coordinator import grade_batch
from grader.errors import ClusterError
from grader.report import Report

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # a dependency of distributed


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process the test starts: this checkout's grader importable, and no MNIST unless given
    (an empty Keras cache, a download URL where nothing listens)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CNNGRADE_DATA", "PYTHONPATH")}
    env.update(PYTHONPATH=str(ROOT), KERAS_HOME=str(tmp_path / "no-keras-cache"),
               CNNGRADE_MNIST_URL="http://127.0.0.1:9/mnist.npz")
    return {**env, **extra}


def _start(argv: list[str], log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """A process in its own process group (killing the group takes the nanny, the worker and its grading runs,
    as when a machine dies), its output in ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=_env(log.parent, **extra), start_new_session=True)


def _wait_for(what: str, condition: Callable[[], object], procs: list[subprocess.Popen[bytes]],
              timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                said = b"".join(stream.read() for stream in (proc.stdout, proc.stderr) if stream)
                raise AssertionError(f"{proc.args} exited ({proc.returncode}) while waiting for {what}:\n"
                                     f"{said.decode(errors='replace')[-4000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _grading_runs(proc: subprocess.Popen[bytes]) -> list[int]:
    """The student runs (grader.harness children) below a worker process: proof that it is grading a task."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    runs = []
    for child in children:
        try:
            if "grader.harness" in " ".join(child.cmdline()):
                runs.append(child.pid)
        except psutil.Error:
            pass
    return runs


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


class Processes:
    """The scheduler, workers and grader a test starts; every one killed (its whole process group) at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.all: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def scheduler(self) -> subprocess.Popen[bytes]:
        """`dask scheduler` on a free loopback port; its address read back from its scheduler file."""
        file = self.tmp / "scheduler.json"
        proc = _start([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                       "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(file)],
                      self.tmp / "scheduler.log")
        self.all.append(proc)
        address = _wait_for("the scheduler address", lambda: _address(file), self.all)
        assert isinstance(address, str) and address.startswith("tcp://127.0.0.1:")
        self.address = address
        return proc

    def workers(self, count: int, mnist_path: Path) -> list[subprocess.Popen[bytes]]:
        """`dask worker ADDRESS --nthreads 1`, as README says, each with MNIST via CNNGRADE_DATA; all registered."""
        started = []
        for n in range(count):
            proc = _start([sys.executable, "-m", "dask", "worker", self.address, "--nthreads", "1",
                           "--dashboard-address", "127.0.0.1:0", "--name", f"w{n}",
                           "--local-directory", str(self.tmp / f"w{n}")],
                          self.tmp / f"worker{n}.log", CNNGRADE_DATA=str(mnist_path))
            self.all.append(proc)
            started.append(proc)
        for n in range(count):
            log = self.tmp / f"worker{n}.log"
            _wait_for(f"worker {n} to register", lambda log=log: b"Registered to" in log.read_bytes(), self.all)
        return started

    def grader(self, folder: Path, results: Path) -> subprocess.Popen[bytes]:
        """The grader as users run it: its own process, no Dask client made for it, no MNIST of its own."""
        proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(folder), "-o", str(results),
                                 "--cluster", self.address, "-e", str(SMALL_SPEC)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_env(self.tmp), cwd=self.tmp, start_new_session=True)
        self.all.append(proc)
        return proc

    def busy(self, workers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        """The first worker seen grading a student (its harness child running), 1 s into that run."""
        victim = _wait_for("a worker to start grading", lambda: next((w for w in workers if _grading_runs(w)), None),
                           self.all, timeout=120)
        assert isinstance(victim, subprocess.Popen)
        time.sleep(1.0)  # into that student's run (a fail-fast run lasts about 5 s)
        assert _grading_runs(victim), "the task finished before the worker could be killed mid-task"
        return victim

    def finish(self, grader: subprocess.Popen[bytes], timeout: float = 240) -> tuple[str, str]:
        try:
            stdout, stderr = grader.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(grader)
            stdout, stderr = grader.communicate()
            pytest.fail(f"the grader did not finish:\n{stdout.decode()}\n{stderr.decode()}")
        return stdout.decode(errors="replace"), stderr.decode(errors="replace")

    def close(self) -> None:
        for proc in reversed(self.all):
            _kill_group(proc)


def _class(tmp_path: Path, students: list[str]) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for i, name in enumerate(students):  # distinct files (each its own task), each failing fast on its architecture
        (folder / f"{name}.py").write_text((FIXTURES / "two_convolutions.py").read_text() + f"\n# {i}\n")
    return folder


def _logged(results: Path) -> list[str]:
    return sorted(json.loads(line)["student"] for line in (results / "batch-log.jsonl").read_text().splitlines())


def test_cluster_as_users_run_it_survives_a_killed_worker(tmp_path: Path, mnist_path: Path) -> None:
    students = ["ann", "ben", "cat", "dan"]
    folder, results = _class(tmp_path, students), tmp_path / "results"
    procs = Processes(tmp_path)
    try:
        procs.scheduler()
        workers = procs.workers(2, mnist_path)
        grader = procs.grader(folder, results)
        victim = procs.busy(workers)
        _kill_group(victim)  # the nanny, the worker and the student run it was grading, all at once
        out, err = procs.finish(grader)
    finally:
        procs.close()
    assert grader.returncode == 0, f"exit {grader.returncode}\n{out}\n{err}"
    assert "Traceback" not in out + err, err
    assert "Dask cluster at" in out + err and "(2 workers)" in out + err
    reports = [Report.model_validate_json(p.read_bytes()) for p in (results / "students").glob("*.json")]
    assert sorted(r.extra_data.student for r in reports) == students
    assert all(r.extra_data.status == "failed" and not r.tests[1].score for r in reports)  # architecture failed
    assert _logged(results) == students  # exactly once each, despite the rerun of the killed worker's task
    scheduler_log = (tmp_path / "scheduler.log").read_text(errors="replace")
    assert "Remove worker" in scheduler_log, scheduler_log[-3000:]  # the scheduler saw the worker die


def test_lost_scheduler_leaves_a_clear_rerunnable_result(tmp_path: Path, mnist_path: Path) -> None:
    """The scheduler dies mid-run: exit 3 (rerun), each student exactly once, the unfinished ones not_graded with
    the reason (which a rerun regrades), and no traceback, not even from Dask's client logging while it closes."""
    students = ["ann", "ben", "cat"]
    folder, results = _class(tmp_path, students), tmp_path / "results"
    procs = Processes(tmp_path)
    try:
        scheduler = procs.scheduler()
        workers = procs.workers(1, mnist_path)
        grader = procs.grader(folder, results)
        procs.busy(workers)
        _kill_group(scheduler)
        out, err = procs.finish(grader)
    finally:
        procs.close()
    assert grader.returncode == 3, f"exit {grader.returncode}\n{out}\n{err}"
    assert "Traceback" not in out + err, err
    assert _logged(results) == students
    lost = [Report.model_validate_json(p.read_bytes()) for p in (results / "students").glob("*.json")]
    lost = [r for r in lost if r.extra_data.status == "not_graded"]
    assert lost and all("lost the connection to the scheduler" in (r.extra_data.error or "") for r in lost), lost


def _address(scheduler_file: Path) -> str | None:
    try:
        return json.loads(scheduler_file.read_text())["address"]
    except (ValueError, KeyError, OSError):
        return None  # still being written


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.py").write_text((FIXTURES / "two_convolutions.py").read_text())
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        grade_batch(submissions=folder, results=tmp_path / "r", exercise=SMALL_SPEC, cluster="tcp://127.0.0.1:9")
