"""The report: Gradescope's ``results.json`` shape, with cnngrade's own fields under ``extra_data``.

Versioned (``extra_data.schema_version``), validated by frozen pydantic models, written atomically.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.protocol import CellError, Skipped

SCHEMA_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckExtra(_Frozen):
    check: str
    hint: str | None = None
    text: str | None = None  # the plain-text output, kept here when ``output`` is HTML (``--gradescope-html``)


class TestResult(_Frozen):
    """One named check, as Gradescope shows it."""

    name: str
    number: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    # How Gradescope renders ``output``: plain text unless ``--gradescope-html`` embedded the training curve.
    output_format: Literal["text", "html", "md", "simple_format", "ansi"] = "text"
    visibility: Literal["visible", "hidden", "after_due_date", "after_published"] = "visible"
    tags: list[str] = Field(default_factory=list)
    extra_data: CheckExtra


class EpochSummary(_Frozen):
    epoch: int
    accuracy: float | None
    loss: float | None
    seconds: float
    metrics: dict[str, float | None]  # a diverged epoch's NaN or infinite values are null: results.json is strict JSON


class Timings(_Frozen):
    run_s: float = 0.0
    measure_s: float = 0.0
    total_s: float = 0.0
    mean_epoch_s: float | None = None


class ImageFacts(_Frozen):
    """An arrays exercise's run on one image (ascent, then one only the grader knows)."""

    image: str
    source: str
    asked_as: list[str] = Field(default_factory=list)  # scipy.misc.ascent(), scipy.datasets.ascent()
    results_from: str | None = None  # "top level" or "function main()"
    transformed_shape: list[int] | None = None
    pooled_shape: list[int] | None = None
    filter: list[list[float]] | None = None
    weight: float | None = None
    orientation: str | None = None  # which accepted orientation the result matched, when it did
    run_s: float = 0.0


class GradeDetails(_Frozen):
    schema_version: Literal[1] = 1  # SCHEMA_VERSION
    grader_version: str
    exercise_id: str
    exercise_version: str
    submission: str
    submission_sha256: str
    # "error": the submission could not run (its fault, graded 0); "not_graded": the grader could not grade it
    # (data missing, sandbox failure, a lost batch worker): nothing is decided and a batch rerun retries it.
    status: Literal["passed", "failed", "error", "not_graded"]
    error: str | None = None
    student: str | None = None  # set by batch grading: who this result belongs to
    # Set by batch grading: the options that can change a verdict; a rerun with other options regrades.
    grading_options: dict[str, str] = Field(default_factory=dict)
    seed: int
    isolation: str
    device: str | None = None
    tensorflow_version: str | None = None
    graded_fit: int | None = None
    graded_fit_source: str | None = None
    fit_calls: int = 0
    epoch_budget: int
    threshold: float | None = None  # the exercise's training-accuracy threshold, drawn on the HTML training curve
    epochs_asked: int | None = None
    epochs_run: int = 0
    stop_epoch: int | None = None
    stopped_by: str | None = None
    history: list[EpochSummary] = Field(default_factory=list)
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    preprocessing: str | None = None
    errors: list[CellError] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    hints: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    timings: Timings = Timings()
    images: list[ImageFacts] = Field(default_factory=list)  # arrays exercises: one entry per run


class Report(_Frozen):
    score: float
    max_score: float
    execution_time: float
    output: str
    visibility: Literal["visible", "hidden", "after_due_date", "after_published"] = "visible"
    stdout_visibility: Literal["visible", "hidden"] = "visible"
    tests: list[TestResult]
    extra_data: GradeDetails

    @property
    def passed(self) -> bool:
        return self.extra_data.status == "passed"


def report_schema() -> dict[str, object]:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://cnngrade.invalid/schema/report-v{SCHEMA_VERSION}.json"
    return schema


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` so that ``path`` is either the old file or the whole new one, never a torn one.

    The temporary file is created as any new file is (mode 0666 less the umask), not with ``tempfile.mkstemp``,
    which forces 0600 whatever the umask: results a TA could not read, a starter only its author could.
    """
    path = Path(os.path.realpath(path))  # a link given as the output: write its target, keep the link
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            if attempt == 99:
                raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(report: Report, path: Path) -> None:
    write_atomic(path, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
