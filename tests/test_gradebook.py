"""summary.json's failure counts (no training): reports built from synthetic run records, as a batch writes them."""
from __future__ import annotations

import json
from pathlib import Path

from grader.api import build_report, problem_report
from grader.batch.gradebook import SUMMARY_VERSION, summary, write_gradebook
from grader.checks import run_checks
from grader.evidence import Evidence
from grader.exercises import find_exercise
from grader.isolation import Isolation
from grader.protocol import FitRecord, RunRecord
from grader.report import Report, Timings
from grader.submission import CodeUnit, Submission

SPEC, _ = find_exercise(None)
CHECKS = ["ran", "architecture", "budget", "stopped", "message", "train_accuracy", "test_accuracy"]


def _named(report: Report, student: str) -> Report:
    return report.model_copy(update={"extra_data": report.extra_data.model_copy(update={"student": student})})


def _never_ran(student: str) -> Report:
    """No notebook at all: "ran" fails and every later check says "not reached"."""
    return _named(problem_report(spec=SPEC, shown=f"{student}.py", sha256="0" * 64,
                                 problem="no .ipynb notebook or .py module was found (found: essay.pdf)"), student)


def _run(student: str, *, rejected: bool) -> Report:
    accs = [] if rejected else [0.95, 0.985, 0.993, 0.9975, 0.9983]
    epochs = [{"epoch": i, "metrics": {"accuracy": a, "loss": 1 - a}, "seconds": 1.0, "output": ""}
              for i, a in enumerate(accs, start=1)]
    fit = FitRecord(index=1, cell=3, epochs_asked=20, epochs_allowed=20, epochs=epochs, rejected=rejected,
                    architecture_problems=["found 2 convolution layers; exactly 1 required"] if rejected else [])
    sub = Submission(Path("s.ipynb"), "notebook", "0" * 64, units=(CodeUnit(3, "x"),))
    ev = Evidence(spec=SPEC, submission=sub, record=RunRecord(seed=1, fits=[fit], errors=[], finished=True))
    return _named(build_report(ev, run_checks(ev), seed=1, timings=Timings(), isolation=Isolation.FULL), student)


def _fail_fast(student: str) -> Report:
    """Two convolutions, refused by fail-fast: it ran, "architecture" fails, training was never reached."""
    report = _run(student, rejected=True)
    assert [t.status for t in report.tests][:2] == ["passed", "failed"]  # the premise of the counts below
    return report


def _only(student: str, failing: set[str]) -> Report:
    """A run whose checks all pass except ``failing`` (e.g. the callback's message was misspelled)."""
    report = _run(student, rejected=False)
    tests = [t.model_copy(update={"status": "failed" if t.extra_data.check in failing else "passed",
                                  "score": 0.0 if t.extra_data.check in failing else t.max_score})
             for t in report.tests]
    return report.model_copy(update={"tests": tests})


def _counts(reports: list[Report]) -> tuple[dict[str, int], dict[str, int]]:
    stats = summary(reports, ignored=[], duplicates=[], wall_s=None)
    assert stats["summary_version"] == SUMMARY_VERSION == 2
    return stats["checks_failed"], stats["checks_failed_after"]  # type: ignore[return-value]


def test_checks_failed_counts_the_cause_not_checks_that_never_ran() -> None:
    assert [t.extra_data.check for t in _never_ran("x").tests] == CHECKS  # tests come in check order
    first, after = _counts([_never_ran("ann"), _never_ran("ben")])
    assert first == {"ran": 2}  # not "architecture: 2" for code that never got to training
    assert after == {check: 2 for check in CHECKS[1:]}


def test_fail_fast_architecture_is_the_cause_and_training_checks_the_cascade() -> None:
    first, after = _counts([_fail_fast("cy"), _fail_fast("dee"), _never_ran("eve")])
    assert first == {"architecture": 2, "ran": 1}
    assert after == {"architecture": 1, "budget": 3, "stopped": 3, "message": 3, "train_accuracy": 3,
                     "test_accuracy": 3}


def test_a_lone_failing_check_has_no_cascade() -> None:
    report = _only("fay", {"message"})
    assert [t.extra_data.check for t in report.tests if t.status == "failed"] == ["message"]
    first, after = _counts([report, _only("gus", set()), _only("hal", {"stopped", "message"})])
    assert first == {"message": 1, "stopped": 1} and after == {"message": 1}


def test_a_class_with_no_failure_has_empty_counts() -> None:
    assert _counts([_only("ivy", set())]) == ({}, {})
    assert _counts([]) == ({}, {})


def test_written_summary_carries_both_counts(tmp_path: Path) -> None:
    write_gradebook(tmp_path, [_never_ran("ann"), _fail_fast("cy"), _only("fay", {"message"})], ignored=["README.md"],
                    duplicates=[], wall_s=1.0)
    stats = json.loads((tmp_path / "summary.json").read_text())
    assert stats["summary_version"] == 2 and stats["students"] == 3
    assert stats["checks_failed"] == {"ran": 1, "architecture": 1, "message": 1}
    assert stats["checks_failed_after"]["architecture"] == 1 and stats["checks_failed_after"]["message"] == 2
    assert stats["ignored_files"] == ["README.md"]
