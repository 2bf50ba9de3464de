"""Likely fixes for the common mistakes, in words a student can act on."""
from __future__ import annotations

import difflib
import re

from grader.architecture import missing_flatten
from grader.evidence import Evidence

STANDARD_HOOKS = ("on_epoch_end", "on_epoch_begin", "on_train_batch_end", "on_batch_end", "on_train_end")


def _keys_read(ev: Evidence) -> list[str]:
    fit = ev.fit
    return [k for cb in (fit.callbacks if fit else []) for k in cb.logs_keys_read]


def callback_hint(ev: Evidence) -> str | None:
    """Why the callback did not stop training at the right epoch."""
    fit = ev.fit
    if fit is None:
        return None
    if not fit.callbacks:
        return "Pass your callback to fit, e.g. model.fit(x, y, epochs=20, callbacks=[callbacks])."
    logged = set(fit.epochs[-1].metrics) if fit.epochs else set()
    for cb in fit.callbacks:
        for method in cb.unknown_methods:
            close = difflib.get_close_matches(method, STANDARD_HOOKS, n=1)
            if close:
                return f"Keras never calls {cb.class_name}.{method}(): the hook is named {close[0]}."
        if not cb.hooks and not cb.unknown_methods:
            return f"{cb.class_name} overrides no Keras hook; define on_epoch_end(self, epoch, logs={{}})."
    reads = _keys_read(ev)
    if "acc" in reads and "acc" not in logged and "accuracy" in logged:
        return ("Your callback reads logs['acc'] (or logs.get('acc')), but with metrics=['accuracy'] TensorFlow 2 "
                "names the key 'accuracy': use logs.get('accuracy').")
    missing = [k for k in reads if k not in logged]
    if missing:
        return f"Your callback reads {', '.join(repr(k) for k in missing)}, but the logs hold only {', '.join(sorted(logged))}."
    if reads and ev.accuracy_key not in reads:
        return (f"Your callback tests {', '.join(repr(k) for k in reads)}; the exercise asks for the training "
                f"accuracy, logs['{ev.accuracy_key or 'accuracy'}'] > {ev.spec.training.threshold}.")
    return None


def threshold_hint(ev: Evidence, stop_accuracy: float) -> str:
    t = ev.spec.training.threshold
    return (f"Training stopped at accuracy {stop_accuracy:.4f}, not above {t}: check the threshold "
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
