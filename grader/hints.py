"""Likely fixes for the common mistakes, in words a student can act on."""
from __future__ import annotations

import difflib
import re

from grader.metric_kinds import legacy_aliases
from grader.architecture import KIND_CLASSES, describe_rules, layers_of, missing_flatten
from grader.evidence import ACCURACY_KEYS, Evidence
from grader.protocol import CellError

STANDARD_HOOKS = ("on_epoch_end", "on_epoch_begin", "on_train_batch_end", "on_batch_end", "on_train_end")
SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
SHAPE_ERRORS = ("ValueError", "InvalidArgumentError")
ACC_HINT = ("TensorFlow 2 names the accuracy 'accuracy', not 'acc' (with metrics=['accuracy']): "
            "use history.history['accuracy'] and logs.get('accuracy').")
KNOWN_IMPORTS = {"tf": "import tensorflow as tf", "np": "import numpy as np",
                 "plt": "import matplotlib.pyplot as plt", "keras": "from tensorflow import keras"}
# The last student frame of a trimmed traceback: "  cell 3, line 24, in train_mnist_conv" or "  module, line 5".
_FRAME = re.compile(r"^\s*(cell \d+|cell \?|module|line), line (\d+)", re.MULTILINE)
# The starter's empty model: Sequential([ ...only comments... ]).
_EMPTY_SEQUENTIAL = re.compile(r"Sequential\(\s*\[\s*\]\s*\)")
_COMMENT = re.compile(r"#[^\n]*")


def first_error(ev: Evidence) -> CellError | None:
    """The error that stopped the submission first.

    ``ev.errors`` already leaves out the tolerated TensorFlow 1 leftovers and cnngrade's own fail-fast stop, so a
    course's tf.ConfigProto cell never hides the error that really broke the notebook.
    """
    errors = ev.errors
    return errors[0] if errors else None


def fit_error(ev: Evidence) -> CellError | None:
    """The recorded error that the graded fit raised, or None (no fit error, or the student caught it)."""
    fit = ev.fit
    if fit is None or not fit.error:
        return None
    return next((e for e in ev.errors if fit.error.startswith(f"{e.type}: {e.message[:200]}")), None)


def place(error: CellError) -> str:
    """Where the student's code raised ``error``: its deepest own frame ('cell 3, line 24'), else its unit."""
    frames = _FRAME.findall(error.traceback)
    if frames:
        unit, line = frames[-1]
        if unit in ("module", "line"):  # a module's frame, or a syntax error the harness could not place
            unit = error.where if error.where.startswith("cell ") else ""
        return f"{unit}, line {line}" if unit else f"line {line}"
    if error.line is None or error.where.startswith("line "):
        return error.where
    return f"{error.where}, line {error.line}"


def error_hint(ev: Evidence, error: CellError) -> str:
    """What to do about ``error``: a specific fix for the common ones, else where to look."""
    for rule in (_syntax_hint, _starter_hint, _key_hint, _logs_hint, _name_hint, _module_hint, _shape_hint):
        hint = rule(ev, error)
        if hint:
            return hint
    return f"Fix the {error.type} at {place(error)}: the last line of its traceback says what went wrong."


def _syntax_hint(ev: Evidence, error: CellError) -> str | None:
    if error.type not in SYNTAX_ERRORS:
        return None
    unit = "that cell" if error.cell is not None else "the file"
    fix = ("indent each block by the same amount (4 spaces per level, no tabs mixed in)"
           if error.type != "SyntaxError" else
           "look for an unclosed bracket or quote, or a missing ':' on that line or the line before")
    return f"{place(error)}: {error.type} ({error.message}). Python could not read {unit}, so none of it ran: {fix}."


def _empty_sequential(ev: Evidence) -> bool:
    """The starter's Sequential([...]) still holds only comments (a failed fit never got to list the layers)."""
    fit = ev.fit
    if fit is not None and fit.model_class and not fit.layers:
        return True
    sources = [_COMMENT.sub("", u.source) for u in ev.submission.units]
    return any(_EMPTY_SEQUENTIAL.search(s) for s in sources) and not any(".add(" in s for s in sources)


def _starter_hint(ev: Evidence, error: CellError) -> str | None:
    """The unfilled starter: Keras then fails deep inside fit with a message that names neither cause."""
    fit = ev.fit
    if fit is None or error != fit_error(ev):
        return None
    parts = []
    if "has no layers" in error.message or _empty_sequential(ev):
        parts.append("the Sequential model has no layers: put the Conv2D, MaxPooling2D, Flatten and Dense layers "
                     "inside Sequential([...])")
    if fit.x_kind == "NoneType" or "pop from an empty set" in error.message:
        parts.append("model.fit() was called without training data: pass the images and labels, e.g. "
                     f"model.fit(training_images, training_labels, epochs={ev.spec.goal.epoch_budget}, "
                     "callbacks=[callbacks])")
    elif "Unrecognized data type" in error.message:
        parts.append(f"model.fit() got x of type {fit.x_kind}, which Keras cannot train on: pass the images as a "
                     "NumPy array")
    elif "None values not supported" in error.message and fit.x_kind == "array" and fit.y_shape is None:
        parts.append("model.fit() got the images but no labels: pass the labels as its second argument")
    if not parts:
        return None
    text = "; and ".join(parts)
    return text[0].upper() + text[1:] + "."


def _key_hint(ev: Evidence, error: CellError) -> str | None:
    """KeyError on a metric name, e.g. history.history['acc'] from TensorFlow 1 course code."""
    if error.type != "KeyError":
        return None
    key = error.message.strip("'\"")
    if key in ("acc", "val_acc"):
        return ACC_HINT
    logged = _logged(ev)
    if key in ACCURACY_KEYS and logged and key not in logged:
        if not any(k in logged for k in ACCURACY_KEYS):
            return (f"Training logged no accuracy, only {', '.join(sorted(logged))}: "
                    "compile with metrics=['accuracy'].")
        return f"Training logged {', '.join(sorted(logged))}, not {key!r}: read the key that was logged."
    return None


def _logs_hint(ev: Evidence, error: CellError) -> str | None:
    """A callback that read a key the logs lack crashes on None (logs.get) or KeyError (logs[...])."""
    if error.type not in ("TypeError", "KeyError") or error != fit_error(ev):
        return None
    return _logs_key_hint(ev)


def _name_hint(ev: Evidence, error: CellError) -> str | None:
    match = re.search(r"name '(\w+)' is not defined", error.message) if error.type == "NameError" else None
    if match is None:
        return None
    name = match.group(1)
    if name in KNOWN_IMPORTS:
        return f"{name!r} is not defined at {place(error)}: add {KNOWN_IMPORTS[name]} in a cell that runs before it."
    return (f"{name!r} is not defined at {place(error)}: define or import it before that line runs (names set "
            "inside a function, such as history inside train_mnist_conv(), are not visible outside it).")


def _module_hint(ev: Evidence, error: CellError) -> str | None:
    match = re.search(r"No module named '([\w.]+)'", error.message)
    if match is None:
        return None
    return (f"Module {match.group(1)!r} is not available where cnngrade runs your code, and installs are skipped: "
            "use TensorFlow's own tf.keras.")


def _shape_hint(ev: Evidence, error: CellError) -> str | None:
    return architecture_hint(ev) if error.type in SHAPE_ERRORS else None


def _logged(ev: Evidence) -> set[str]:
    """The keys a student callback saw: the logged metrics, plus 'acc' under legacy_metric_names."""
    fit = ev.fit
    keys = set(fit.epochs[-1].metrics) if fit and fit.epochs else set()
    if ev.spec.training.legacy_metric_names:
        keys |= legacy_aliases(keys)
    return keys


def _keys_read(ev: Evidence) -> list[str]:
    fit = ev.fit
    return [k for cb in (fit.callbacks if fit else []) for k in cb.logs_keys_read]


def callback_hint(ev: Evidence) -> str | None:
    """Why the callback did not stop training at the right epoch."""
    fit = ev.fit
    if fit is None:
        return None
    if not fit.callbacks:
        return (f"Pass your callback to fit, e.g. model.fit(x, y, epochs={ev.spec.goal.epoch_budget}, "
                "callbacks=[callbacks]).")
    for cb in fit.callbacks:
        for method in cb.unknown_methods:
            close = difflib.get_close_matches(method, STANDARD_HOOKS, n=1)
            if close:
                return f"Keras never calls {cb.class_name}.{method}(): the hook is named {close[0]}."
        if not cb.hooks and not cb.unknown_methods:
            return f"{cb.class_name} overrides no Keras hook; define on_epoch_end(self, epoch, logs={{}})."
    reads = _keys_read(ev)
    missed = _logs_key_hint(ev) or _never_stopped_hint(ev)
    if missed:
        return missed
    if reads and ev.accuracy_key not in reads:
        return (f"Your callback tests {', '.join(repr(k) for k in reads)}; the exercise asks for the training "
                f"{_goal_words(ev)}.")
    return None


def _logs_key_hint(ev: Evidence) -> str | None:
    """The callback read a key the logs do not hold (TensorFlow 1's 'acc', most often)."""
    reads, logged = _keys_read(ev), _logged(ev)
    if not logged:
        return None
    if "acc" in reads and "acc" not in logged and "accuracy" in logged:
        return ("Your callback reads logs['acc'] (or logs.get('acc')), but with metrics=['accuracy'] TensorFlow 2 "
                "names the key 'accuracy': use logs.get('accuracy').")
    missing = [k for k in reads if k not in logged]
    if missing:
        return f"Your callback reads {', '.join(repr(k) for k in missing)}, but the logs hold only {', '.join(sorted(logged))}."
    return None


def _never_stopped_hint(ev: Evidence) -> str | None:
    """The callback read the accuracy, the accuracy passed the threshold, and yet nothing stopped training."""
    fit, key, first = ev.fit, ev.goal_key, ev.first_met
    if fit is None or fit.error or ev.stop is not None or first is None or key not in _keys_read(ev):
        return None
    goal = ev.spec.goal
    passed = f"{key} passed {goal.threshold} at epoch {first}"
    if goal.message and any(goal.message in e.output for e in fit.epochs):
        return (f"Your callback printed the message but never stopped training, although {passed}: "
                "set self.model.stop_training = True where it prints.")
    scale = (f": accuracy is a fraction, so compare with {goal.threshold}, not {goal.threshold * 100:g}"
             if goal.metric == "train_accuracy" else "")
    return (f"Your callback reads logs['{key}'] every epoch but never stopped training, although {passed}"
            f"{scale} (and set self.model.stop_training = True).")


def _goal_words(ev: Evidence) -> str:
    goal = ev.spec.goal
    if goal.metric == "train_loss":
        return f"training loss, logs['loss'] {'<' if goal.direction == 'below' else '>'} {goal.threshold}"
    return f"accuracy, logs['{ev.accuracy_key or 'accuracy'}'] > {goal.threshold}"


def threshold_hint(ev: Evidence, stopped_at: float) -> str:
    goal = ev.spec.goal
    if goal.metric == "train_loss":
        return (f"Training stopped at loss {stopped_at:.4f}, not {goal.direction} {goal.threshold}: check the "
                f"threshold and the comparison ('{'<' if goal.direction == 'below' else '>'}').")
    t = goal.threshold
    return (f"Training stopped at accuracy {stopped_at:.4f}, not above {t}: check the threshold "
            f"({t} means {t * 100:g}%) and compare with '>'.")


def architecture_hint(ev: Evidence) -> str | None:
    fit = ev.fit
    errors = [fit.error or ""] if fit else []
    errors += [e.message for e in (ev.record.errors if ev.record else [])]
    error = "\n".join(errors)
    if fit and fit.y_shape is not None and len(fit.y_shape) == 2 and "sparse" in (fit.loss or ""):
        return ("Your labels are one-hot but the loss is sparse_categorical_crossentropy: pass the integer labels, "
                "or use categorical_crossentropy.")
    if missing_flatten(fit.output_shape if fit else None) or re.search(r"Arguments `target` and `output` must have the same rank|"
                                                        r"expected shape=\(None, \d+\), found shape=\(None, \d+, \d+", error):
        return "Add tf.keras.layers.Flatten() between the pooling layer and the first Dense layer."
    if re.search(r"expected (min_)?ndim=4, found ndim=3", error) or (
            fit and fit.x_shape is not None and len(fit.x_shape) == 3 and fit.input_shape is not None
            and len(fit.input_shape) == 3):
        return ("Conv2D needs a channel axis: reshape the images with x.reshape(-1, 28, 28, 1) "
                "and use input_shape=(28, 28, 1).")
    if "input_shape" in error or "Incompatible shapes" in error or "expected shape" in error:
        return "Check input_shape: the images are 28x28 with one channel, input_shape=(28, 28, 1)."
    return layer_count_hint(ev)


def layer_count_hint(ev: Evidence) -> str | None:
    """What to change when the layers break the exercise's counts: three convolutions, a missing pooling layer."""
    m, fit = ev.measurement, ev.fit
    classes = m.layer_classes if m and m.layer_classes is not None else (
        [l.class_name for l in fit.layers] if fit and fit.layers else None)
    if classes is None:
        return None
    rules = ev.spec.architecture
    for kind, count in rules.layers.items():
        found = sum(1 for c in classes if c in KIND_CLASSES[kind])
        if count.allows(found):
            continue
        words = layers_of(kind, found)
        change = (f"remove {found - count.max} of them" if count.max is not None and found > count.max
                  else f"add {(count.min or 0) - found}")
        pool = (" (each Conv2D followed by MaxPooling2D(2, 2), as in the lesson)"
                if kind == "max_pooling_2d" and found < (count.min or 0) else "")
        return f"The exercise needs {describe_rules(rules)}; your model has {found} {words}: {change}{pool}."
    return None


def accuracy_hint(ev: Evidence) -> str | None:
    pre = ev.preprocessing
    if pre is not None and pre.scale == 1 and pre.offset == 0:
        return "Normalise the pixels (x_train = x_train / 255.0): raw 0-255 values train poorly."
    return None


def tf1_hint(ev: Evidence) -> str | None:
    if not ev.tf1_errors:
        return None
    where = ", ".join(e.where for e in ev.tf1_errors)
    return f"{where}: TensorFlow 1 API (tf.ConfigProto, tf.Session...) does not exist in TensorFlow 2; delete that code."


def _windows(line: str, size: int) -> list[str]:
    """``line`` itself, or each ``size``-long slice of it when the message shares the line with other text."""
    if len(line) <= size:
        return [line]
    return [line[i:i + size] for i in range(len(line) - size + 1)]


def message_diff(expected: str, text: str) -> tuple[str, str] | None:
    """The printed text closest to ``expected`` and a marker line under the first difference, or None."""
    candidates = [w.strip() for line in text.splitlines() if line.strip() for w in _windows(line, len(expected))]
    scored = [(difflib.SequenceMatcher(None, expected, c).ratio(), c) for c in candidates]
    scored = [item for item in scored if item[0] >= 0.6]
    if not scored:
        return None
    got = max(scored)[1]
    index = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    return got, " " * index + "^"
