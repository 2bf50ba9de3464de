"""Intercept ``keras.Model.fit``: enforce the epoch budget, record every epoch, find who stopped training.

The recorder callback is put first in the list, so it copies each epoch's logs before any student callback
can touch them; each student callback's hooks are wrapped to see whether *that* call set ``stop_training``.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras.src.utils import is_default

from grader.architecture import ArchitectureFacts, architecture_problems
from grader.harness.capture import EpochOutput
from grader.harness.model_facts import (EpochLedger, dense_on_images, metric_classes, sample_accuracy,
                                         traced_graph)
from grader.harness.sampling import Sample, take_sample
from grader.metric_kinds import LEGACY_NAMES
from grader.harness.state import RunState
from grader.protocol import CallbackInfo, LayerInfo, StopEvent

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_batch_begin", "on_batch_end")


class ArchitectureRejected(BaseException):
    """Raised out of ``fit`` when fail-fast refuses to train a model that breaks the rules.

    A BaseException, so a student's ``except Exception`` cannot swallow it; the notebook goes on with its next
    cell, so a later fit with a valid model (the graded one) still trains.
    """


class BudgetExhausted(RuntimeError):
    """Raised out of ``fit`` when earlier fit calls on this model already used the whole epoch budget.

    An ordinary exception: catching it gains nothing (nothing was trained), and code after it still runs.
    """


def with_legacy_names(logs: dict[str, Any]) -> dict[str, Any]:
    """``logs`` plus TensorFlow 1's name of each accuracy key (for exercises with legacy_metric_names)."""
    return {**logs, **{old: logs[new] for new, old in LEGACY_NAMES.items() if new in logs and old not in logs}}


class RecordingLogs(dict):
    """A copy of Keras' logs that remembers which keys the student's callback asked for."""

    def __init__(self, data: dict[str, Any], reads: list[str]) -> None:
        super().__init__(data)
        self._reads = reads

    def _note(self, key: Any) -> None:
        if isinstance(key, str) and key not in self._reads:
            self._reads.append(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


def _shape(shape: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in tuple(shape)]
    except (TypeError, ValueError):
        return None


def _built_shape(model: keras.Model) -> list[int | None] | None:
    """The input shape a model was built with (no sample of the data, no Input), when Keras kept it."""
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    first = _shape(next(iter(shapes.values()), None))
    return first[1:] if first else None


Shape = list[int | None] | None


def _describe(model: keras.Model, x_shape: list[int] | None) -> tuple[list[LayerInfo], Shape, Shape]:
    layers = [LayerInfo(class_name=type(l).__name__, name=str(l.name))
              for l in model._flatten_layers(include_self=False, recursive=True)
              if type(l).__name__ != "InputLayer"]
    try:
        input_shape = _shape(model.inputs[0].shape)[1:]  # type: ignore[index]
    except Exception:  # subclassed models have no symbolic inputs
        input_shape = list(x_shape) if x_shape else _built_shape(model)
    try:
        output_shape = _shape(model.outputs[0].shape)[1:]  # type: ignore[index]
    except Exception:
        output_shape = None
    return layers, input_shape, output_shape


def _callback_info(cb: Any, reads: list[str]) -> CallbackInfo:
    cls = type(cb)
    names = [n for n in dir(cls) if n.startswith("on_") and callable(getattr(cls, n, None))]
    known = set(dir(keras.callbacks.Callback))
    hooks = [n for n in names if n in known and not is_default(getattr(cb, n))]
    unknown = [n for n in names if n not in known]
    return CallbackInfo(class_name=cls.__name__, hooks=hooks, unknown_methods=unknown, logs_keys_read=reads)


def _wrap_hooks(cb: Any, model: keras.Model, state: RunState, stops: list[StopEvent], reads: list[str]) -> None:
    for hook in HOOKS:
        method = getattr(cb, hook, None)
        if method is None or is_default(method):
            continue  # leave defaults alone: Keras dispatches batches asynchronously only then

        def wrapper(*args: Any, _method: Callable[..., Any] = method, _hook: str = hook, **kwargs: Any) -> Any:
            seen = with_legacy_names if state.job.legacy_metric_names else dict
            args = tuple(RecordingLogs(seen(a), reads) if isinstance(a, dict) else a for a in args)
            if isinstance(kwargs.get("logs"), dict):
                kwargs["logs"] = RecordingLogs(seen(kwargs["logs"]), reads)
            before = bool(getattr(model, "stop_training", False))
            result = _method(*args, **kwargs)
            if not before and bool(getattr(model, "stop_training", False)):
                stops.append(StopEvent(callback=type(cb).__name__, hook=_hook, epoch=state.epoch))
            return result

        setattr(cb, hook, wrapper)


def _flatten_callbacks(callbacks: Any) -> list[Any]:
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return [c for item in callbacks for c in _flatten_callbacks(item)]
    return [callbacks]


def _metrics(logs: dict[str, Any] | None) -> dict[str, float]:
    out = {}
    for key, value in (logs or {}).items():
        with contextlib.suppress(TypeError, ValueError):
            out[str(key)] = float(np.asarray(value))
    return out


def _loss_name(model: keras.Model) -> str | None:
    loss = getattr(model, "loss", None)
    if loss is None or isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__)


def _export(model: keras.Model, folder: Path) -> str | None:
    """Export for the trusted process: a SavedModel (graph, no Python) and a .keras file (config)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            model.save(folder / "model.keras")
        except Exception:  # subclassed models may not serialise their config; the graph still tells
            pass
        try:
            model.export(str(folder / "savedmodel"), format="tf_saved_model", verbose=False)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:2000]
    return None


def _export_into(record: dict[str, Any], model: keras.Model, folder: Path) -> None:
    record["export_error"] = _export(model, folder)
    record["artifact"] = None if record["export_error"] else str(folder)


class Recorder(keras.callbacks.Callback):
    """First callback of every intercepted fit: times and copies each epoch's logs."""

    def __init__(self, fit: dict[str, Any], state: RunState, epochs_out: EpochOutput, *, initial_epoch: int,
                 sample: Sample) -> None:
        super().__init__()
        self.fit = fit
        self.state = state
        self.epochs_out = epochs_out
        self.initial_epoch = initial_epoch
        self.sample = sample
        self._deferred = False
        self._t0 = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.fit["start_accuracy"] = sample_accuracy(self.model, self.sample.rows, self.sample.labels)
        self._judge_architecture(final=False)

    def _judge_architecture(self, *, final: bool) -> None:
        """Fail fast on the rules; when the traced graph is not known yet (no input shape before the first batch),
        judge again after the first epoch."""
        layers, input_shape, output_shape = _describe(self.model, self.fit.get("per_example"))
        graph = traced_graph(self.model, input_shape)
        self._deferred = graph is None and not final
        facts = ArchitectureFacts([l.class_name for l in layers], input_shape, output_shape,
                                  graph.conv_ops if graph else None, graph.max_pool_ops if graph else None,
                                  graph.feature_layers if graph else ())
        problems = architecture_problems(facts, self.state.job.architecture) + dense_on_images(self.model)
        self.fit.update(layers=layers, input_shape=input_shape, output_shape=output_shape,
                        architecture_problems=problems, model_class=type(self.model).__name__)
        if problems and self.state.job.fail_fast and self.state.exercise_data(self.sample.rows, self.sample.rows_of):
            self.fit["rejected"] = True
            self.state.event("rejected", fit=self.fit["index"], problems=problems)
            raise ArchitectureRejected("cnngrade stopped this fit before training: " + "; ".join(problems))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        relative = epoch - self.initial_epoch + 1  # fit(initial_epoch=k) numbers its epochs from k
        self.state.epoch = relative
        self.epochs_out.start(relative)
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self._t0
        if not self.fit["metric_classes"]:  # metrics are built by the first batch
            self.fit["metric_classes"] = metric_classes(self.model)
        entry = {"epoch": epoch - self.initial_epoch + 1, "metrics": _metrics(logs), "seconds": round(seconds, 3)}
        self.fit["epochs"].append(entry)
        self.state.event("epoch", fit=self.fit["index"], of=self.fit["epochs_allowed"], **entry)
        if self._deferred:
            self._judge_architecture(final=True)


def _initial_epoch(value: Any) -> int:
    """``initial_epoch`` as Keras will use it; a negative one would add epochs, so it counts as 0."""
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _allowed(asked: Any, budget: int) -> int:
    try:
        return max(1, min(int(asked), budget))
    except (TypeError, ValueError):
        return budget


def install(state: RunState, epochs_out: EpochOutput, scratch: Path) -> Callable[..., Any]:
    """Replace ``keras.Model.fit`` (inherited by Sequential, functional and subclassed models)."""
    original = keras.Model.fit
    signature = inspect.signature(original)
    ledger = EpochLedger()

    def fit(self: keras.Model, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        params = bound.arguments
        initial = _initial_epoch(params.get("initial_epoch", 0))
        asked = params.get("epochs", 1)
        if isinstance(asked, int):
            asked -= initial  # fit(initial_epoch=k, epochs=n) trains n - k epochs
        trained, model_key = ledger.prior(self), ledger.key(self)
        prior = trained[0]
        allowed = min(_allowed(asked, state.job.epoch_budget), state.job.epoch_budget - prior)
        index = len(state.fits) + 1
        folder = scratch / "artifacts" / f"fit{index}"
        sample = take_sample(params.get("x"), params.get("y"), folder)
        params["x"] = sample.x
        record: dict[str, Any] = {
            "index": index, "cell": state.cell, "from_entry_point": state.in_entry_point,
            "epochs_asked": asked if isinstance(asked, int) else None, "epochs_allowed": max(allowed, 0),
            "verbose_asked": None if "verbose" not in params else str(params["verbose"]),
            "x_shape": sample.shape, "x_dtype": sample.dtype, "x_kind": sample.kind, "sample_file": sample.file,
            "sample_source": sample.source, "sample_problem": sample.problem, "per_example": sample.per_example,
            "y_shape": sample.y_shape, "prior_epochs": prior, "prior_fits": list(trained[1]),
            "model_key": model_key, "metric_classes": {},
            "loss": _loss_name(self), "epochs": [], "stops": [], "callbacks": [],
        }
        state.fits.append(record)
        if allowed <= 0:
            record.update(budget_exhausted=True, error=f"BudgetExhausted: this model already trained {prior} epochs "
                          f"in earlier fit calls; the budget is {state.job.epoch_budget} epochs in all")
            raise BudgetExhausted("cnngrade did not run this fit: " + record["error"].split(": ", 1)[1])
        student = _flatten_callbacks(params.get("callbacks"))
        reads: list[list[str]] = []
        for cb in student:
            reads.append([])
            _wrap_hooks(cb, self, state, record["stops"], reads[-1])
        recorder = Recorder(record, state, epochs_out, initial_epoch=initial, sample=sample)
        params.update(epochs=initial + allowed, initial_epoch=initial, verbose=2, callbacks=[recorder, *student])
        state.event("fit", fit=index, cell=state.cell, epochs_asked=record["epochs_asked"], epochs_allowed=allowed)
        try:
            history = original(*bound.args, **bound.kwargs)
        except BaseException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"[:4000]
            if record["epochs"]:  # trained for a while: the architecture can still be verified
                _export_into(record, self, folder)
            raise
        finally:
            epochs_out.stop()
            ledger.add(self, trained, len(record["epochs"]), index)
            record["callbacks"] = [_callback_info(cb, r) for cb, r in zip(student, reads)]
            record["stop_training_at_end"] = bool(getattr(self, "stop_training", False))
            for entry in record["epochs"]:
                entry["output"] = epochs_out.text(entry["epoch"])
            epochs_out.reset()
        _export_into(record, self, folder)
        return history

    # No __wrapped__: Keras' own fit must not be reachable from the student's code (training outside the budget).
    keras.Model.fit = fit
    return fit
