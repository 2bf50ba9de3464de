"""The named checks. Each passes only on facts the grader recorded or re-measured itself."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from grader import hints
from grader.architecture import ArchitectureFacts, architecture_problems, describe_rules
from grader.evidence import PRETRAINED_ACCURACY, Evidence
from grader.spec import METRIC_WORDS


@dataclass(frozen=True)
class Outcome:
    id: str
    name: str
    passed: bool
    output: str
    hint: str | None = None


NOT_TRAINED = "no model was trained: model.fit was never called"
# Checks that depend on training point at the check that explains why there was none, instead of repeating it.
SEE_RAN = "(see 'Code ran')"
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000  # both MNIST and Fashion-MNIST
SKIPPED = "not run: the architecture check failed, so training was skipped (see 'Architecture')"
LIMIT_TEXT = {
    "memory": ("out of memory: the run used more than {limits.memory_mb} MB and was stopped",
               "Look for data copied in a loop or a model far larger than the exercise needs."),
    "processes": ("too many processes: the run tried to start more than {limits.max_processes}",
                  "Graded code must not start processes."),
    "disk": ("the run wrote more than {limits.disk_mb} MB of files and was stopped", "Do not write large files."),
}


def _run_stopped(ev: Evidence) -> str | None:
    """What ended the run before it trained, in a few words ('Code ran' explains it in full), or None."""
    child = ev.child
    if ev.submission.problem:
        return "the submission could not be run"
    if child and child.timed_out:
        return f"the run reached the {child.limit_s:g} s time limit" if child.limit_s else "the run timed out"
    if child and child.limit in LIMIT_TEXT:
        return f"the run went over the {child.limit} limit"
    if ev.record is None:
        return "the run ended without a result"
    if not ev.record.harness_intact:
        return "the submission replaced cnngrade's interception of model.fit"
    error = hints.first_error(ev)
    return f"{hints.place(error)} raised {error.type}" if error else None


def _before_training(ev: Evidence) -> str | None:
    """Why no epoch was trained, pointing at the check that says why; None when the graded fit ran epochs."""
    if ev.aborted:
        return SKIPPED
    fit = ev.fit
    if fit is None:
        stopped = _run_stopped(ev)
        return f"not reached: {stopped} {SEE_RAN}" if stopped else NOT_TRAINED
    if fit.epochs:
        return None
    if fit.budget_exhausted:  # cnngrade's refusal, not an error in the code
        return f"not run: {(fit.error or '').split(': ', 1)[-1] or 'earlier fit calls used the whole epoch budget'}"
    error = hints.fit_error(ev)
    if error:
        cause: str | None = f"{hints.place(error)} raised {error.type}"
    elif fit.error:  # no cell saw it (caught by the student, or cnngrade refused to train): said here in full
        cause = None
    else:
        cause = _run_stopped(ev)
    if cause:
        return f"not reached: training failed before its first epoch ended: {cause} {SEE_RAN}"
    return f"training failed before the first epoch ended: {fit.error or 'no epoch completed'}"


def _no_training(ev: Evidence) -> str | None:
    """Why there is nothing to judge about training, or None when a graded, trustworthy fit ran epochs."""
    return _before_training(ev) or _empty_data(ev) or ev.tampering


def _empty_data(ev: Evidence) -> str | None:
    fit = ev.fit
    if fit and fit.x_shape and fit.x_shape[0] == 0:
        return (f"training saw no examples: fit received an empty x of shape {tuple(fit.x_shape)}; check the filter "
                "or slice that built the training set")
    return None


def _no_top1_accuracy(ev: Evidence) -> tuple[str, str]:
    """(what is wrong, the fix) when no logged metric is a standard top-1 accuracy."""
    if ev.lookalike_metric:
        return (f"{ev.lookalike_metric}, not the top-1 training accuracy the threshold is about",
                "Compile with metrics=['accuracy'] and let your callback read logs['accuracy'].")
    return "no accuracy was logged during training", "Compile with metrics=['accuracy'] so that training reports its accuracy."


def _over_budget(ev: Evidence) -> str | None:
    """Training the graded model got that the epoch count does not show, or None."""
    fit, budget = ev.fit, ev.spec.goal.epoch_budget
    assert fit is not None
    refused = [f for f in ev.budget_refusals if f.model_key == fit.model_key]
    if refused:
        f = refused[0]
        where = f" (cell {f.cell})" if f.cell is not None else ""
        return (f"fit call {f.index}{where} asked for more epochs after this model had trained {f.prior_epochs}: the "
                f"budget of {budget} counts every epoch a model trains, across fit calls, so that call was not run")
    if fit.prior_epochs == 0 and fit.start_accuracy is not None and fit.start_accuracy > PRETRAINED_ACCURACY:
        return (f"the model already classified {fit.start_accuracy:.0%} of the training images correctly when this "
                "fit started (an untrained one gets about 10%): it was trained outside model.fit, so those epochs "
                "cannot be counted against the budget")
    size = ev.spec.dataset.train_limit or TRAIN_SIZE
    if fit.x_shape and fit.x_shape[0] > size:
        return (f"fit received {fit.x_shape[0]} training examples, {fit.x_shape[0] / size:.1f} times the {size} "
                "training images: each epoch went over the data several times, and the budget is in passes over it")
    return None


def _crashed(ev: Evidence) -> str:
    """' (training ended with an error, see ...)' when the graded fit crashed after some epochs, else ''."""
    fit = ev.fit
    if fit is None or not fit.error:
        return ""
    return " (training ended with an error, see 'Code ran')" if hints.fit_error(ev) else ""


def check_ran(ev: Evidence) -> Outcome:
    name = "Code ran"
    sub = ev.submission
    if sub.problem:
        return Outcome("ran", name, False, sub.problem)
    child = ev.child
    if child and child.timed_out:
        where = f"cell {child.last_cell}" if child.last_cell else "the code"
        return Outcome("ran", name, False, f"timeout: {where} was still running at the {child.limit_s:g} s limit",
                       "Look for an endless loop or input(): graded code must run unattended.")
    if child and child.limit in LIMIT_TEXT:
        text, hint = LIMIT_TEXT[child.limit]
        return Outcome("ran", name, False, text.format(limits=ev.spec.limits), hint)
    if ev.record is None:
        return Outcome("ran", name, False, f"the run ended without a result: {ev.record_problem}")
    if not ev.record.harness_intact:
        return Outcome("ran", name, False, "the submission replaced cnngrade's interception of model.fit; "
                       "its training cannot be graded", "Call model.fit as usual; do not reassign keras.Model.fit.")
    errors = ev.errors
    notes = [f"skipped {s.command!r} ({s.reason})" for s in ev.record.skipped]
    notes += [f"{e.where}: {e.type} from TensorFlow 1 API, ignored" for e in ev.tf1_errors]
    suffix = ("\n" + "\n".join(notes)) if notes else ""
    if errors:
        # The hint addresses the first error: a tolerated TensorFlow 1 leftover stays a note line.
        text = "\n\n".join(f"{e.where}:\n{e.traceback}" for e in errors)
        return Outcome("ran", name, False, f"{len(errors)} error(s):\n{text}{suffix}",
                       hints.error_hint(ev, errors[0]))
    if ev.aborted:
        return Outcome("ran", name, True, f"ran without errors (cnngrade refused to train the model){suffix}")
    units = len(sub.units)
    what = f"all {units} code cells" if sub.kind == "notebook" else "the module"
    return Outcome("ran", name, True, f"{what} ran without errors{suffix}", hints.tf1_hint(ev))


def _measured_facts(ev: Evidence) -> ArchitectureFacts | None:
    m = ev.measurement
    if m is None or m.error and m.output_shape is None and m.input_shape is None:
        return None
    return ArchitectureFacts(m.layer_classes, m.input_shape, m.output_shape, m.conv_ops, m.max_pool_ops,
                             m.feature_layers)


def check_architecture(ev: Evidence) -> Outcome:
    name = f"Architecture: {describe_rules(ev.spec.architecture)}"
    fit = ev.fit
    if fit is None:
        return Outcome("architecture", name, False, _before_training(ev) or NOT_TRAINED,
                       hints.architecture_hint(ev) if ev.record else None)
    if fit.architecture_problems and (ev.aborted or ev.measurement is None):
        text = "; ".join(fit.architecture_problems)
        return Outcome("architecture", name, False, f"{text} (seen when training started)", hints.architecture_hint(ev))
    facts = _measured_facts(ev)
    if facts is None:
        why = ev.measurement_problem or fit.export_error or fit.error or "the trained model could not be exported"
        text = (not fit.epochs and _before_training(ev)) or f"could not verify the trained model: {why}"
        return Outcome("architecture", name, False, text, hints.architecture_hint(ev))
    problems = architecture_problems(facts, ev.spec.architecture)
    # What the run saw when training started counts too (--full trained anyway): a subclassed model's own code
    # and a Dense on image axes are visible there, not in the saved config.
    problems += [p for p in fit.architecture_problems if p not in problems and "shape is" not in p]
    if ev.measurement and ev.measurement.forbidden_ops:
        problems.append(ev.measurement.error or "forbidden operations in the model")
    if problems:
        return Outcome("architecture", name, False, "; ".join(problems), hints.architecture_hint(ev))
    layers = ", ".join(facts.layer_classes) if facts.layer_classes is not None else "subclassed model"
    return Outcome("architecture", name, True,
                   f"layers {layers}; {facts.conv_ops} convolution and {facts.max_pool_ops} max-pooling operation(s) "
                   f"in the exported graph; input {tuple(facts.input_shape or ())}, output {tuple(facts.output_shape or ())}")


def _goal_missing(ev: Evidence) -> tuple[str, str] | None:
    """(what is wrong, the fix) when the logged metric the goal is about was not logged, else None."""
    goal = ev.spec.goal
    if not goal.logged or ev.goal_key is not None:
        return None
    if goal.metric == "train_accuracy":
        return _no_top1_accuracy(ev)
    return "no training loss was logged", "Compile the model with a loss and train it with model.fit."


def _budget_name(ev: Evidence) -> str:
    goal = ev.spec.goal
    if goal.logged:
        return f"Reached {goal.describe()} within {goal.epoch_budget} epochs"
    return f"Trained within the budget of {goal.epoch_budget} epochs"


def _asked(ev: Evidence) -> str:
    fit, budget = ev.fit, ev.spec.goal.epoch_budget
    assert fit is not None
    asked = "" if fit.epochs_asked is None or fit.epochs_asked <= budget else (
        f" (fit asked for {fit.epochs_asked} epochs; cnngrade allows {budget})")
    if fit.prior_epochs:
        asked += (f" (this model had trained {fit.prior_epochs} epoch(s) in earlier fit calls; the budget counts "
                  f"them, so this call was allowed {fit.epochs_allowed})")
    return asked


def _word(ev: Evidence) -> str:
    return "loss" if ev.spec.goal.metric == "train_loss" else "accuracy"


def check_budget(ev: Evidence) -> Outcome:
    goal, budget = ev.spec.goal, ev.spec.goal.epoch_budget
    name = _budget_name(ev)
    why = _no_training(ev)
    if why:
        return Outcome("budget", name, False, why)
    fit = ev.fit
    assert fit is not None
    missing = _goal_missing(ev)
    if missing:
        return Outcome("budget", name, False, *missing)
    over = _over_budget(ev)
    if over:
        callback = " and your callback" if goal.stop_callback else ""
        return Outcome("budget", name, False, over,
                       f"Train the graded model once, in one model.fit call with epochs={budget}{callback}.")
    if not goal.logged:
        return Outcome("budget", name, True, f"trained {fit.prior_epochs + len(fit.epochs)} epoch(s){_asked(ev)}")
    first, values = ev.first_met, ev.goal_values()
    if first is None:
        best = max(values) if goal.direction == "above" else min(values)
        return Outcome("budget", name, False, f"best {METRIC_WORDS[goal.metric]} in {len(fit.epochs)} epochs was "
                       f"{best:.4f}{_asked(ev)}{_crashed(ev)}", hints.accuracy_hint(ev))
    return Outcome("budget", name, True,
                   f"{_word(ev)} {values[first - 1]:.4f} at epoch {fit.prior_epochs + first}{_asked(ev)}")


def check_stopped(ev: Evidence) -> Outcome:
    goal = ev.spec.goal
    name = f"Callback stopped training at the first epoch with {goal.describe()}"
    why = _no_training(ev)
    if why:
        return Outcome("stopped", name, False, why)
    fit, first, stop = ev.fit, ev.first_met, ev.stop
    assert fit is not None
    missing = _goal_missing(ev)
    if missing:  # the cause and its fix are said once, under the budget check
        return Outcome("stopped", name, False, f"not judged: {missing[0]} (see '{_budget_name(ev)}')")
    values, word, t = ev.goal_values(), _word(ev), goal.threshold
    if stop is None:
        if fit.error:
            see = f" {SEE_RAN}" if hints.fit_error(ev) else ""
            return Outcome("stopped", name, False, f"training ended with an error after {len(fit.epochs)} epoch(s): "
                           f"{fit.error.splitlines()[0][:300]}{see}", hints.callback_hint(ev))
        if fit.stop_training_at_end:
            return Outcome("stopped", name, False, "training stopped, but not by one of the callbacks passed to fit")
        if first is None:
            return Outcome("stopped", name, False,
                           f"training ran all {len(fit.epochs)} epochs without reaching {goal.describe()}, and no "
                           "callback stopped it", hints.callback_hint(ev) or hints.accuracy_hint(ev))
        return Outcome("stopped", name, False,
                       f"{word} passed {t} at epoch {first}, but no callback stopped training "
                       f"(it ran {len(fit.epochs)} epochs)", hints.callback_hint(ev))
    at = values[stop.epoch - 1] if 0 < stop.epoch <= len(values) else float("nan")
    by = f"{stop.callback}.{stop.hook}"
    if first is None or stop.epoch < first:
        return Outcome("stopped", name, False, f"{by} stopped training at epoch {stop.epoch} with {word} {at:.4f}, "
                       f"not {goal.direction} {t}", hints.callback_hint(ev) or hints.threshold_hint(ev, at))
    if stop.epoch > first:
        return Outcome("stopped", name, False, f"{by} stopped training at epoch {stop.epoch}, but {word} was already "
                       f"{values[first - 1]:.4f} at epoch {first}", hints.callback_hint(ev))
    return Outcome("stopped", name, True, f"{by} stopped training at epoch {stop.epoch} ({word} {at:.4f})")


def check_message(ev: Evidence) -> Outcome:
    expected = ev.spec.goal.message or ""
    name = "Printed the required message when stopping"
    why = _no_training(ev)
    if why:
        return Outcome("message", name, False, why)
    stop = ev.stop
    if stop is None:
        return Outcome("message", name, False,
                       f"no callback stopped training, so there was no stopping epoch to print at{_crashed(ev)}")
    text = ev.epoch_output(stop.epoch)
    if any(expected in line for line in text.splitlines()):
        return Outcome("message", name, True, f"printed {expected!r} at epoch {stop.epoch}")
    elsewhere = [e.epoch for e in ev.fit.epochs if expected in e.output] if ev.fit else []
    if elsewhere:
        return Outcome("message", name, False, f"the message was printed at epoch {elsewhere[0]}, "
                       f"but training stopped at epoch {stop.epoch}")
    near = hints.message_diff(expected, text)
    if near:
        got, marker = near
        return Outcome("message", name, False,
                       f"expected: {expected}\n     got: {got}\n          {marker}",
                       "Print the message exactly as given (copy it from the exercise).")
    return Outcome("message", name, False, f"{expected!r} was not printed at the stopping epoch {stop.epoch}",
                   "Print the message in the callback, right where it sets self.model.stop_training = True.")


def _measured_accuracy(ev: Evidence, split: str, floor: float, id_: str, name: str) -> Outcome:
    why = _no_training(ev)
    if why:
        return Outcome(id_, name, False, why)
    if ev.preprocessing is None:
        return Outcome(id_, name, False, f"cannot measure: {ev.preprocessing_problem}")
    if ev.untrusted_weights:
        return Outcome(id_, name, False, f"not credited: {ev.untrusted_weights}; the accuracy of a model that "
                       "learned from other data cannot be credited to this training",
                       "Train the graded model from scratch, with model.fit on the training images only; use the "
                       "test images only to evaluate it.")
    m = ev.measurement
    value = None if m is None else (m.train_accuracy if split == "train" else m.test_accuracy)
    if value is None:
        problem = (m.error if m else None) or ev.measurement_problem or "the model could not be evaluated"
        return Outcome(id_, name, False, f"cannot measure: {problem}")
    limit = ev.spec.dataset.train_limit if split == "train" else ev.spec.dataset.test_limit
    count = limit or (TRAIN_SIZE if split == "train" else TEST_SIZE)
    text = (f"{value:.4f} on {count} {split}ing images (needs >= {floor}); "
            f"inputs prepared as in training: {ev.preprocessing.describe()}{'' if value >= floor else _crashed(ev)}")
    return Outcome(id_, name, value >= floor, text, None if value >= floor else hints.accuracy_hint(ev))


def check_train_accuracy(ev: Evidence) -> Outcome:
    floor = ev.spec.train_accuracy_floor or 0.0
    return _measured_accuracy(ev, "train", floor, "train_accuracy", f"Re-measured training accuracy >= {floor}")


def check_test_accuracy(ev: Evidence) -> Outcome:
    floor = ev.spec.test_accuracy_floor or 0.0
    return _measured_accuracy(ev, "test", floor, "test_accuracy", f"Test accuracy >= {floor}")


# Every check a training exercise may have; the spec says which ones it has (ExerciseSpec.check_ids).
CHECKS: dict[str, Callable[[Evidence], Outcome]] = {
    "ran": check_ran, "architecture": check_architecture, "budget": check_budget, "stopped": check_stopped,
    "message": check_message, "train_accuracy": check_train_accuracy, "test_accuracy": check_test_accuracy,
}


def run_checks(ev: Evidence) -> list[Outcome]:
    return hint_once([CHECKS[check](ev) for check in ev.spec.check_ids])


def hint_once(outcomes: list[Outcome]) -> list[Outcome]:
    """Each hint on the first check that gives it: a cause is explained once, where the student reads first."""
    seen: set[str] = set()
    kept = []
    for o in outcomes:
        if o.hint and o.hint in seen:
            o = replace(o, hint=None)
        elif o.hint:
            seen.add(o.hint)
        kept.append(o)
    return kept
