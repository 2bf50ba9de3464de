"""A synthetic class of reports for the dashboard (tests and benchmarks/dashboard.py): each one built by the real
report builder from a synthetic run record, then varied and re-validated by the real Report model."""
from __future__ import annotations

import random
from pathlib import Path

from grader.api import build_report, problem_report
from grader.checks import run_checks
from grader.evidence import Evidence
from grader.exercises import find_exercise
from grader.isolation import Isolation
from grader.preprocessing import Preprocessing
from grader.protocol import CallbackInfo, FitRecord, Measurement, RunRecord, StopEvent
from grader.report import Report, Timings
from grader.submission import CodeUnit, Submission

SPEC, _ = find_exercise(None)


def _graded(accs: list[float], *, test: float, stop: bool, seconds: float) -> Report:
    first = next((i for i, a in enumerate(accs, start=1) if a > SPEC.goal.threshold), None)
    accs = accs[:first] if stop and first else accs
    said = SPEC.goal.message if stop else ""
    epochs = [{"epoch": i, "metrics": {"accuracy": a, "loss": 1 - a}, "seconds": 1.0,
               "output": said if i == len(accs) else ""} for i, a in enumerate(accs, start=1)]
    stops = [StopEvent(callback="myCallback", hook="on_epoch_end", epoch=len(accs))] if stop else []
    callbacks = [CallbackInfo(class_name="myCallback", hooks=["on_epoch_end"], unknown_methods=[],
                              logs_keys_read=["accuracy"])] if stop else []
    fit = FitRecord(index=1, cell=3, epochs_asked=20, epochs_allowed=20, epochs=epochs, stops=stops, callbacks=callbacks,
                    metric_classes={"accuracy": "SparseCategoricalAccuracy"})
    sub = Submission(Path("s.ipynb"), "notebook", "0" * 64, units=(CodeUnit(3, "x"),))
    m = Measurement(layer_classes=["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"], input_shape=[28, 28, 1],
                    output_shape=[10], conv_ops=1, max_pool_ops=1, forbidden_ops=[], train_accuracy=accs[-1] - 0.001,
                    test_accuracy=test)
    ev = Evidence(spec=SPEC, submission=sub, record=RunRecord(seed=1, fits=[fit], finished=True), measurement=m,
                  preprocessing=Preprocessing(reshape=(28, 28, 1), scale=1 / 255, offset=0.0))
    return build_report(ev, run_checks(ev), seed=1, timings=Timings(total_s=seconds), isolation=Isolation.FULL)


def synthetic_class(n: int, *, seed: int = 7) -> list[Report]:
    """``n`` students: mostly passing, some stopping late or early, some without a notebook, a few not graded."""
    rng = random.Random(seed)
    reports = []
    for i in range(n):
        student = f"student{i:04d}@example.edu"
        kind = rng.random()
        if kind < 0.06:
            report = problem_report(spec=SPEC, shown=f"{student}.pdf", sha256=f"{i:064x}",
                                    problem="no .ipynb notebook or .py module was found (found: essay.pdf)")
        else:
            epochs = rng.randint(3, 14)
            accs = [min(0.9999, 0.9 + 0.1 * (1 - 0.45 ** k) + rng.uniform(-0.002, 0.002)) for k in range(1, epochs + 1)]
            report = _graded(accs, test=rng.uniform(0.975, 0.992), stop=kind > 0.2, seconds=rng.uniform(40, 240))
        d = report.extra_data.model_copy(update={"student": student, "submission": f"{student}/exercise.ipynb"})
        if kind > 0.985:
            d = d.model_copy(update={"status": "not_graded", "error": "the grading task failed: worker lost"})
        reports.append(Report.model_validate(report.model_copy(update={"extra_data": d}).model_dump()))
    return reports
