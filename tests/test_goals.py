"""Goals as data: a loss goal, a re-measured test-accuracy goal and legacy metric names, judged by the same checks.

Unit tests on synthetic run records, plus one real grading of the lesson's logs.get('acc') callback under
legacy_metric_names.
"""
from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, SMALL_SPEC
from test_checks import _evidence

from grader.api import LEGACY_NOTE, grade
from grader.checks import check_budget, check_stopped, run_checks
from grader.exercises import find_exercise
from grader.spec import ExerciseSpec, GoalSpec, TrainingSpec, load_spec

SPEC, _ = find_exercise(None)
FASHION, _ = find_exercise("fashion-mnist-conv")


def _with_goal(spec: ExerciseSpec, **goal: object) -> ExerciseSpec:
    return spec.model_copy(update={"goal": GoalSpec.model_validate({**spec.goal.model_dump(), **goal})})


def test_loss_goal_is_judged_on_the_logged_loss() -> None:
    # _evidence logs loss = 1 - accuracy: 0.05, 0.015, 0.007... ; the goal is loss below 0.01.
    spec = _with_goal(SPEC, metric="train_loss", direction="below", threshold=0.01, message=None)
    ev = _evidence([0.95, 0.985, 0.993, 0.9975], stop_at=3)
    ev.spec = spec
    budget, stopped = check_budget(ev), check_stopped(ev)
    assert budget.passed and "loss 0.0070 at epoch 3" in budget.output
    assert stopped.passed and "training loss < 0.01" in stopped.name
    early = _evidence([0.95, 0.985, 0.993], stop_at=2)
    early.spec = spec
    out = check_stopped(early)
    assert not out.passed and "loss 0.0150, not below 0.01" in out.output


def test_test_accuracy_goal_has_no_callback_checks() -> None:
    ev = _evidence([0.80, 0.88, 0.91], callbacks=False)
    ev.spec = FASHION
    outcomes = run_checks(ev)
    assert [o.id for o in outcomes] == ["ran", "architecture", "budget", "test_accuracy"]
    budget = next(o for o in outcomes if o.id == "budget")
    assert budget.passed and budget.name == "Trained within the budget of 20 epochs" and "trained 3 epoch(s)" in budget.output
    assert FASHION.test_accuracy_floor == 0.89 and FASHION.max_points == 10


def test_fashion_architecture_names_the_rules() -> None:
    ev = _evidence([0.9], callbacks=False)
    ev.spec = FASHION
    arch = next(o for o in run_checks(ev) if o.id == "architecture")
    assert arch.name == "Architecture: exactly 2 convolution layers, exactly 2 MaxPooling2D layers"


def test_lesson_callback_passes_under_legacy_metric_names(mnist_path: Path) -> None:
    """The lesson's own solution reads logs.get('acc'): strict by default (test_grading), accepted under the
    option, and the report says which rule graded it."""
    small = load_spec(SMALL_SPEC)
    legacy = small.model_copy(update={"training": TrainingSpec(legacy_metric_names=True)})
    report = grade(submission=FIXTURES / "logs_acc_key.ipynb", exercise=legacy, data=mnist_path)
    checks = {t.extra_data.check: t for t in report.tests}
    assert checks["stopped"].status == "passed", checks["stopped"].output
    assert checks["message"].status == "passed"
    assert report.extra_data.stop_epoch is not None and report.extra_data.stop_epoch <= small.goal.epoch_budget
    assert LEGACY_NOTE in report.extra_data.notes and "legacy_metric_names" in report.output
