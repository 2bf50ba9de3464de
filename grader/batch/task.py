"""One unit of batch work: grade one file's content. Self-contained (content and spec travel with it), so it
runs the same in a local worker thread and on a Dask worker on another machine."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from grader.errors import CnngradeError
from grader.scratch import scratch_dir
from grader.spec import ExerciseSpec


@dataclass(frozen=True)
class GradeTask:
    key: str  # what the caller knows the task by: the file's sha256 in a batch, its path in `check`
    name: str  # the file name, whose suffix says notebook or module
    content: bytes
    spec: ExerciseSpec
    seed: int
    data: str | None = None
    full: bool = False
    cpu: bool = False
    timeout_s: float | None = None
    hide: tuple[str, ...] = ()  # folders the student's run must not see (other students' files, the results)


@dataclass(frozen=True)
class TaskOutcome:
    key: str
    report_json: str | None = None
    error: str | None = None  # the grader could not grade (not the student's fault): retried on a rerun
    seconds: float = 0.0
    feedback_json: str | None = None  # what the HTML report shows beyond the JSON (grader.feedback)


def run_task(task: GradeTask, *, threads: int | None = None, gpu: str | None = None,
             cancel: threading.Event | None = None) -> TaskOutcome:
    """Grade ``task`` in a fresh temporary folder; grading problems come back as ``error``, never raised."""
    from grader.api import grade_with_feedback

    with scratch_dir("task-") as tmp:
        path = tmp / Path(task.name).name
        path.write_bytes(task.content)
        try:
            report, feedback = grade_with_feedback(
                submission=path, exercise=task.spec, data=task.data, seed=task.seed, full=task.full, cpu=task.cpu,
                timeout_s=task.timeout_s, threads=threads, gpu=gpu, cancel=cancel, hide=tuple(Path(h) for h in task.hide))
        except CnngradeError as exc:
            return TaskOutcome(task.key, error=str(exc))
    return TaskOutcome(task.key, report_json=report.model_dump_json(), seconds=report.extra_data.timings.total_s,
                       feedback_json=feedback.model_dump_json())


def run_on_dask_worker(task: GradeTask, threads: int | None) -> TaskOutcome:
    """The function Dask workers run; the worker needs cnngrade installed and the data configured."""
    return run_task(task, threads=threads)
