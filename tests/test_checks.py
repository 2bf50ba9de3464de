"""Checks and hints on synthetic run records: no training, only the decision logic."""
from __future__ import annotations

from pathlib import Path

from grader.api import build_report, with_notes
from grader.checks import check_budget, check_message, check_ran, check_stopped, run_checks
from grader.evidence import Evidence
from grader.exercises import find_exercise
from grader.isolation import Isolation
from grader.protocol import CallbackInfo, CellError, FitRecord, RunRecord, StopEvent
from grader.render import render
from grader.report import Report, Timings
from grader.submission import CodeUnit, Submission

SPEC, _ = find_exercise(None)
MESSAGE = SPEC.goal.message


def _evidence(accs: list[float], *, stop_at: int | None = None, key: str = "accuracy", reads: tuple[str, ...] = ("accuracy",),
              outputs: dict[int, str] | None = None, unknown: tuple[str, ...] = (), callbacks: bool = True,
              errors: tuple[CellError, ...] = (), fits: int = 1, fit_error: str | None = None, rejected: bool = False,
              x_kind: str = "array", source: str = "x", notes: tuple[str, ...] = ()) -> Evidence:
    """``fits=0``: the code never called fit; otherwise the last of ``fits`` calls is the graded one."""
    outputs = outputs or {}
    epochs = [{"epoch": i, "metrics": {key: a, "loss": 1 - a}, "seconds": 1.0, "output": outputs.get(i, "")}
              for i, a in enumerate(accs, start=1)]
    cbs = [CallbackInfo(class_name="myCallback", hooks=[] if unknown else ["on_epoch_end"], unknown_methods=list(unknown),
                        logs_keys_read=list(reads))] if callbacks else []
    stops = [StopEvent(callback="myCallback", hook="on_epoch_end", epoch=stop_at)] if stop_at else []
    records = [FitRecord(index=i, cell=3, epochs_asked=20, epochs_allowed=20, epochs=epochs, stops=stops, callbacks=cbs,
                         stop_training_at_end=bool(stop_at), error=fit_error, rejected=rejected, x_kind=x_kind,
                         architecture_problems=["found 2 convolution layers; exactly 1 required"] if rejected else [],
                         # What the run records for metrics=['accuracy'] (or ['acc']): Keras' own top-1 metric.
                         metric_classes={key: "SparseCategoricalAccuracy"})
               for i in range(1, fits + 1)]
    record = RunRecord(seed=1, fits=records, errors=list(errors), finished=True)
    sub = Submission(Path("s.ipynb"), "notebook", "0" * 64, units=(CodeUnit(3, source),))
    return Evidence(spec=SPEC, submission=sub, record=record, notes=list(notes))


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


# Feedback: the hint on a failed check names the error that failed it; a cause is said once, where it is read.

TF1 = CellError(cell=3, line=1, where="cell 3", type="AttributeError",
                message="module 'tensorflow' has no attribute 'ConfigProto'", traceback="  cell 3, line 1\nAttributeError: ...")
INDENT = CellError(cell=4, line=2, where="cell 4", type="IndentationError", message="unexpected indent",
                   traceback="  cell 4, line 2\n    model = 1\nIndentationError: unexpected indent")
SYNTAX = CellError(cell=3, line=1, where="cell 3", type="SyntaxError", message="invalid syntax",
                   traceback="  cell 3, line 1\n    def train_mnist_conv(:\nSyntaxError: invalid syntax")
DEPENDENT = ("architecture", "budget", "stopped", "message", "train_accuracy", "test_accuracy")


def _report(ev: Evidence) -> Report:
    return build_report(ev, run_checks(ev), seed=1, timings=Timings(), isolation=Isolation.FULL)


def _outputs(report: Report) -> dict[str, str]:
    return {t.extra_data.check: t.output for t in report.tests}


def test_indentation_error_is_the_hint_not_the_tolerated_tf1_cell() -> None:
    ev = _evidence([], fits=0, errors=(TF1, INDENT))
    out = check_ran(ev)
    assert not out.passed and out.hint
    assert "IndentationError" in out.hint and "cell 4, line 2" in out.hint and "indent" in out.hint
    assert "TensorFlow 1" not in out.hint and "delete" not in out.hint
    assert "cell 3: AttributeError from TensorFlow 1 API, ignored" in out.output  # still said, as a note line


def test_key_error_acc_hint_is_on_ran() -> None:
    acc = CellError(cell=5, line=1, where="cell 5", type="KeyError", message="'acc'",
                    traceback="  cell 5, line 1\n    print(history.history['acc'][-1])\nKeyError: 'acc'")
    ev = _evidence(ACCS[:5], stop_at=5, errors=(TF1, acc))
    out = check_ran(ev)
    assert not out.passed and out.hint and "'accuracy'" in out.hint and "'acc'" in out.hint
    assert check_stopped(ev).passed


def test_syntax_error_other_checks_say_not_reached_because_of_its_cell() -> None:
    outputs = _outputs(_report(_evidence([], fits=0, errors=(SYNTAX,))))
    assert "cell 3, line 1" in outputs["ran"] or "cell 3" in outputs["ran"]
    for check in DEPENDENT:
        assert "not reached: cell 3, line 1 raised SyntaxError (see 'Code ran')" in outputs[check], check
        assert "model.fit was never called" not in outputs[check] and "Hint" not in outputs[check], check


def test_fail_fast_outputs_never_mention_full() -> None:
    report = _report(_evidence([], rejected=True))
    assert "--full" not in report.output
    for check, text in _outputs(report).items():
        assert "--full" not in text, check
    assert "training was skipped" in _outputs(report)["budget"]
    assert "found 2 convolution layers" in _outputs(report)["architecture"]


def test_percentage_threshold_gets_the_scale_hint() -> None:
    out = check_stopped(_evidence([0.95, 0.99, 0.997, 0.9985, 0.999, 0.9992]))
    assert not out.passed and "accuracy passed 0.998 at epoch 4" in out.output
    assert out.hint and "compare with 0.998, not 99.8" in out.hint and "epoch 4" in out.hint


def test_message_without_stop_training_gets_its_own_hint() -> None:
    out = check_stopped(_evidence(ACCS, outputs={5: MESSAGE}))
    assert out.hint and "stop_training = True" in out.hint and "99.8 " not in out.hint


def test_callback_crash_on_logs_acc_is_explained_once_on_ran() -> None:
    crash = CellError(cell=3, line=9, where="cell 3", type="TypeError",
                      message="'>' not supported between instances of 'NoneType' and 'float'",
                      traceback="  cell 3, line 9, in on_epoch_end\nTypeError: ...")
    ev = _evidence(ACCS[:1], reads=("acc",), errors=(crash,), fit_error=f"TypeError: {crash.message}")
    report = _report(ev)
    ran, stopped = (next(t for t in report.tests if t.extra_data.check == c) for c in ("ran", "stopped"))
    assert ran.extra_data.hint and "logs.get('accuracy')" in ran.extra_data.hint
    assert stopped.extra_data.hint is None and "(see 'Code ran')" in stopped.output
    assert report.extra_data.hints.count(ran.extra_data.hint) == 1


def test_unfilled_starter_says_what_is_missing() -> None:
    pop = CellError(cell=None, line=24, where="entry point train_mnist_conv()", type="KeyError",
                    message="'pop from an empty set'",
                    traceback="  cell 3, line 24, in train_mnist_conv\n    history = model.fit(\n"
                              "KeyError: 'pop from an empty set'")
    source = "model = tf.keras.models.Sequential([\n    # YOUR CODE HERE\n])\nhistory = model.fit(\n)"
    ev = _evidence([], errors=(pop,), fit_error="KeyError: 'pop from an empty set'", x_kind="NoneType", source=source)
    report = _report(ev)
    hint = next(t.extra_data.hint for t in report.tests if t.extra_data.check == "ran")
    assert hint and "no layers" in hint and "without training data" in hint
    for check, text in _outputs(report).items():
        if check != "ran":
            assert "not reached" in text and "cell 3, line 24 raised KeyError" in text and "pop from" not in text, check


def test_each_hint_is_printed_once() -> None:
    crash = CellError(cell=3, line=9, where="cell 3", type="TypeError", message="'>' not supported",
                      traceback="  cell 3, line 9\nTypeError: '>' not supported")
    ev = _evidence(ACCS[:1], reads=("acc",), errors=(crash,), fit_error="TypeError: '>' not supported")
    report = _report(ev)
    shown = render(report)
    assert report.extra_data.hints
    for hint in report.extra_data.hints:
        assert shown.count(hint[:40]) == 1, hint  # the terminal wraps long lines: look for the start
        assert sum(t.output.count(hint) for t in report.tests) == 1, hint
    assert shown.count("Hint: ") == sum(1 for t in report.tests if t.extra_data.hint)
    assert "Hints:" not in shown


def test_long_output_keeps_its_hint_in_the_terminal() -> None:
    long = CellError(cell=4, line=2, where="cell 4", type="IndentationError", message="unexpected indent",
                     traceback="\n".join(["  frame"] * 50 + ["IndentationError: unexpected indent"]))
    report = _report(_evidence([], fits=0, errors=(long,)))
    shown = render(report)
    assert "more line(s) in the JSON report" in shown and "Hint: " in shown


def test_graded_file_and_fit_are_in_the_visible_output() -> None:
    chosen = "2 files were submitted (a.ipynb, b.ipynb); graded b.ipynb: the latest file that trains a model."
    report = _report(_evidence(ACCS[:5], stop_at=5, fits=2, notes=(chosen,)))
    lines = report.output.splitlines()
    assert lines[0].startswith("0/10 points") or "points" in lines[0]
    assert f"Note: {chosen}" in lines and any(line.startswith("Graded: fit call 2 of 2") for line in lines)
    noted = with_notes(report, ["graded c.py: the only file"])
    assert noted.output.splitlines()[1] == "Note: graded c.py: the only file"
    assert noted.extra_data.notes[0] == "graded c.py: the only file" and noted.output.startswith(lines[0])


def test_name_error_hint_names_the_import() -> None:
    plt = CellError(cell=5, line=1, where="cell 5", type="NameError", message="name 'plt' is not defined",
                    traceback="  cell 5, line 1, in <module>\n    plt.plot(x)\nNameError: name 'plt' is not defined")
    out = check_ran(_evidence(ACCS[:5], stop_at=5, errors=(plt,)))
    assert out.hint and "import matplotlib.pyplot as plt" in out.hint and "cell 5, line 1" in out.hint


def test_module_syntax_error_is_placed_by_line() -> None:
    bad = CellError(cell=None, line=7, where="line 7", type="SyntaxError", message="invalid syntax",
                    traceback="  module, line 7\n    def f(:\nSyntaxError: invalid syntax")
    out = check_ran(_evidence([], fits=0, errors=(bad,)))
    assert out.hint and out.hint.startswith("line 7: SyntaxError") and "the file" in out.hint


def test_fit_error_the_student_caught_is_said_in_full() -> None:
    ev = _evidence([], fit_error="ValueError: Unrecognized data type: x=[[1, 2]]")
    out = check_budget(ev)
    assert not out.passed and "Unrecognized data type" in out.output and "see 'Code ran'" not in out.output


def test_budget_used_up_by_earlier_fits_is_not_called_an_error() -> None:
    ev = _evidence([], fit_error="BudgetExhausted: this model already trained 20 epochs in earlier fit calls; "
                                 "the budget is 20 epochs in all")
    ev.record = ev.record.model_copy(update={"fits": [ev.fit.model_copy(update={"budget_exhausted": True})]})
    out = check_budget(ev)
    assert out.output.startswith("not run: this model already trained 20 epochs") and "BudgetExhausted" not in out.output
