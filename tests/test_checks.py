"""Checks and hints on synthetic run records: no training, only the decision logic."""
from __future__ import annotations

from pathlib import Path

from grader.checks import check_budget, check_message, check_ran, check_stopped
from grader.evidence import Evidence
from grader.exercises import find_exercise
from grader.protocol import CallbackInfo, CellError, FitRecord, RunRecord, StopEvent
from grader.submission import CodeUnit, Submission

SPEC, _ = find_exercise(None)
MESSAGE = SPEC.training.message


def _evidence(accs: list[float], *, stop_at: int | None = None, key: str = "accuracy", reads: tuple[str, ...] = ("accuracy",),
              outputs: dict[int, str] | None = None, unknown: tuple[str, ...] = (), callbacks: bool = True,
              errors: tuple[CellError, ...] = ()) -> Evidence:
    outputs = outputs or {}
    epochs = [{"epoch": i, "metrics": {key: a, "loss": 1 - a}, "seconds": 1.0, "output": outputs.get(i, "")}
              for i, a in enumerate(accs, start=1)]
    cbs = [CallbackInfo(class_name="myCallback", hooks=[] if unknown else ["on_epoch_end"], unknown_methods=list(unknown),
                        logs_keys_read=list(reads))] if callbacks else []
    stops = [StopEvent(callback="myCallback", hook="on_epoch_end", epoch=stop_at)] if stop_at else []
    fit = FitRecord(index=1, cell=3, epochs_asked=20, epochs_allowed=20, epochs=epochs, stops=stops, callbacks=cbs,
                    stop_training_at_end=bool(stop_at))
    record = RunRecord(seed=1, fits=[fit], errors=list(errors), finished=True)
    sub = Submission(Path("s.ipynb"), "notebook", "0" * 64, units=(CodeUnit(3, "x"),))
    return Evidence(spec=SPEC, submission=sub, record=record)


ACCS = [0.95, 0.985, 0.993, 0.9975, 0.9983, 0.999]


def test_stop_at_first_epoch_above_threshold_passes() -> None:
    out = check_stopped(_evidence(ACCS[:5], stop_at=5))
    assert out.passed and "epoch 5" in out.output


def test_stop_before_threshold_fails_with_threshold_hint() -> None:
    out = check_stopped(_evidence(ACCS[:2], stop_at=2))
    assert not out.passed and "not above 0.998" in out.output
    assert out.hint and "threshold" in out.hint


def test_stop_later_than_first_epoch_above_fails() -> None:
    out = check_stopped(_evidence(ACCS, stop_at=6))
    assert not out.passed and "already 0.9983 at epoch 5" in out.output


def test_exactly_at_threshold_is_not_above() -> None:
    out = check_stopped(_evidence([0.99, 0.998], stop_at=2))
    assert not out.passed


def test_logs_acc_key_hint() -> None:
    out = check_stopped(_evidence(ACCS, reads=("acc",)))
    assert not out.passed and "no callback stopped training" in out.output
    assert out.hint and "logs.get('accuracy')" in out.hint


def test_metrics_acc_is_judged_against_compiled_key() -> None:
    ev = _evidence(ACCS[:5], stop_at=5, key="acc", reads=("acc",))
    assert ev.accuracy_key == "acc"
    assert check_stopped(ev).passed and check_budget(ev).passed


def test_misspelled_hook_hint() -> None:
    out = check_stopped(_evidence(ACCS, unknown=("on_epoch_ends",)))
    assert out.hint and "on_epoch_end" in out.hint and "never calls" in out.hint


def test_no_callback_hint() -> None:
    out = check_stopped(_evidence(ACCS, callbacks=False))
    assert out.hint and "callbacks=[" in out.hint


def test_threshold_on_loss_hint() -> None:
    out = check_stopped(_evidence(ACCS[:2], stop_at=2, reads=("loss",)))
    assert out.hint and "'loss'" in out.hint


def test_budget_fails_when_never_above() -> None:
    out = check_budget(_evidence([0.9, 0.95, 0.99]))
    assert not out.passed and "0.9900" in out.output


def test_message_at_stop_epoch_passes_even_with_course_typo() -> None:
    ev = _evidence(ACCS[:5], stop_at=5, outputs={5: f"Epoch 5/20\n/n {MESSAGE}\n1875/1875 - acc"})
    assert check_message(ev).passed


def test_near_miss_message_shows_the_difference() -> None:
    ev = _evidence(ACCS[:5], stop_at=5, outputs={5: "Reached 99,8% accuracy so cancelling training!"})
    out = check_message(ev)
    assert not out.passed
    assert "got: Reached 99,8%" in out.output and "^" in out.output


def test_message_at_wrong_epoch_fails() -> None:
    ev = _evidence(ACCS[:5], stop_at=5, outputs={2: MESSAGE})
    out = check_message(ev)
    assert not out.passed and "printed at epoch 2" in out.output


def test_message_without_stop_fails() -> None:
    ev = _evidence(ACCS, outputs={6: MESSAGE})
    assert not check_message(ev).passed


def test_tf1_error_is_ignored_but_other_errors_fail() -> None:
    tf1 = CellError(cell=2, line=1, where="cell 2", type="AttributeError",
                    message="module 'tensorflow' has no attribute 'ConfigProto'", traceback="...")
    out = check_ran(_evidence(ACCS[:5], stop_at=5, errors=(tf1,)))
    assert out.passed and "TensorFlow 1" in out.output and out.hint
    other = CellError(cell=4, line=1, where="cell 4", type="NameError", message="name 'plt' is not defined", traceback="x")
    out = check_ran(_evidence(ACCS[:5], stop_at=5, errors=(tf1, other)))
    assert not out.passed and "cell 4" in out.output


def test_near_miss_inside_a_longer_line_is_found() -> None:
    ev = _evidence(ACCS[:5], stop_at=5, outputs={5: "epoch 5 done. Reached 99.8% accuracy so cancelled training! bye"})
    out = check_message(ev)
    assert not out.passed and "got: Reached 99.8% accuracy so cancelled training!" in out.output
