"""Batch grading on a real Dask cluster on loopback, with a worker killed while it grades: every result still
arrives, exactly once, written by the coordinating process."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, SMALL_SPEC
from grader.batch.coordinator import BatchEvent, grade_batch
from grader.errors import ClusterError
from grader.report import Report

distributed = pytest.importorskip("distributed")


def test_cluster_survives_a_killed_worker(tmp_path: Path, mnist_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNGRADE_DATA", str(mnist_path))  # what the workers use to find MNIST
    folder = tmp_path / "class"
    folder.mkdir()
    students = ["ann", "ben", "cat", "dan"]
    for i, name in enumerate(students):
        (folder / f"{name}.py").write_text((FIXTURES / "two_convolutions.py").read_text() + f"\n# {i}\n")
    results = tmp_path / "results"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        events: list[BatchEvent] = []
        outcome: dict[str, object] = {}

        def coordinate() -> None:
            outcome["result"] = grade_batch(submissions=folder, results=results, exercise=SMALL_SPEC,
                                            cluster=cluster.scheduler_address, on_event=events.append)

        runner = threading.Thread(target=coordinate)
        runner.start()
        victim = _busy_worker(client)
        time.sleep(2.0)  # well into that worker's grading run
        pids = client.run(os.getpid)
        os.kill(pids[victim], signal.SIGKILL)
        runner.join(timeout=300)
        assert not runner.is_alive()
        assert victim not in client.scheduler_info()["workers"]  # the worker really died mid-task
    result = outcome["result"]
    assert result.total == 4 and result.graded == 4
    reports = [Report.model_validate_json(p.read_bytes()) for p in (results / "students").glob("*.json")]
    assert sorted(r.extra_data.student for r in reports) == students
    assert all(r.extra_data.status == "failed" and not r.tests[1].score for r in reports)  # architecture failed
    log = [json.loads(line)["student"] for line in (results / "batch-log.jsonl").read_text().splitlines()]
    assert sorted(log) == students  # exactly once each, despite the rerun of the killed worker's task
    assert sum(e.kind == "result" for e in events) == 4
    assert any("Dask cluster" in e.text for e in events if e.kind == "workers")


def _busy_worker(client: object, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]  # type: ignore[attr-defined]
        if busy:
            return busy[0]
        time.sleep(0.1)
    raise AssertionError("no worker started a task")


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.py").write_text((FIXTURES / "two_convolutions.py").read_text())
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        grade_batch(submissions=folder, results=tmp_path / "r", exercise=SMALL_SPEC, cluster="tcp://127.0.0.1:9")
