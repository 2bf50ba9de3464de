"""Facts about the student's model, read in the run: the epochs it already trained (the budget is the model's,
not one fit call's), what computes each logged metric, and its traced computation graph for fail-fast."""
from __future__ import annotations

import hashlib
from typing import Any

import keras
import numpy as np

from grader.graph_rules import GraphFacts, LayerRef, graph_facts, live_nodes
from grader.metric_kinds import TOP1_CLASSES


class EpochLedger:
    """Epochs trained per model across fit calls.

    A model is known by identity and by its weights: a model that starts from weights an earlier fit ended with
    (``set_weights``, ``clone_model`` plus copied weights, a reloaded file) continues that training.
    """

    def __init__(self) -> None:
        # id -> (model kept alive so ids are not reused, epochs, the fit calls those epochs came from)
        self._by_model: dict[int, tuple[Any, int, tuple[int, ...]]] = {}
        self._by_weights: dict[str, tuple[int, tuple[int, ...]]] = {}
        self._keys: dict[int, int] = {}

    @staticmethod
    def _digest(model: keras.Model) -> str | None:
        try:
            weights = model.get_weights()
            h = hashlib.sha256()
            for w in weights:
                h.update(np.ascontiguousarray(w).tobytes())
            return h.hexdigest() if weights else None
        except Exception:  # an unbuilt model has no weights yet: nothing trained
            return None

    def key(self, model: keras.Model) -> int:
        """A number for this model, the same for every fit call on it (refusals are matched to their model)."""
        self._keys.setdefault(id(model), len(self._keys) + 1)
        return self._keys[id(model)]

    def prior(self, model: keras.Model) -> tuple[int, tuple[int, ...]]:
        """(epochs this model already trained, the fit calls that trained them): the grading process checks what
        data those calls trained on, since a model that learned the test images first is not graded on them."""
        _, own, own_fits = self._by_model.get(id(model), (None, 0, ()))
        digest = self._digest(model)
        copied, copied_fits = self._by_weights.get(digest, (0, ())) if digest else (0, ())
        return max(own, copied), tuple(sorted({*own_fits, *copied_fits}))

    def add(self, model: keras.Model, prior: tuple[int, tuple[int, ...]], epochs: int, fit_index: int) -> None:
        total = prior[0] + epochs
        fits = prior[1] + ((fit_index,) if epochs else ())
        self._by_model[id(model)] = (model, total, fits)
        digest = self._digest(model)
        if digest:
            known = self._by_weights.get(digest, (0, ()))
            self._by_weights[digest] = (max(total, known[0]), tuple(sorted({*fits, *known[1]})))


STEP_METHODS = ("train_step", "compute_metrics", "get_metrics_result")


def _top1_functions() -> set[Any]:
    from keras.src.metrics import accuracy_metrics as m

    return {m.sparse_categorical_accuracy, m.categorical_accuracy}


def _categorical_function() -> Any:
    from keras.src.metrics import accuracy_metrics as m

    return m.categorical_accuracy


def _top1_classes() -> tuple[type, ...]:
    return (keras.metrics.SparseCategoricalAccuracy, keras.metrics.CategoricalAccuracy)


def _describe_metric(metric: Any) -> str:
    """A top-1 accuracy is vouched for by identity (Keras' own class, or Keras' own function wrapped), never by
    names a student can set; anything else is described so that the feedback can name it."""
    cls, fn = type(metric), getattr(metric, "_fn", None)
    kwargs = {k: v for k, v in (getattr(metric, "_fn_kwargs", None) or {}).items() if isinstance(v, (int, float, str))}
    if not kwargs and (cls in _top1_classes() or (cls is keras.metrics.MeanMetricWrapper and fn in _top1_functions())):
        categorical = cls is keras.metrics.CategoricalAccuracy or fn is _categorical_function()
        return TOP1_CLASSES[1] if categorical else TOP1_CLASSES[0]
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    what = getattr(fn, "__name__", None) or cls.__name__
    return f"custom metric {cls.__name__}({what}{', ' + args if args else ''})"


def _overridden_step(model: keras.Model) -> str | None:
    """The training-step method a model overrides: its logs are whatever it returns, metrics or not."""
    for name in STEP_METHODS:
        mine = getattr(type(model), name, None)
        for base in type(model).__mro__:
            if base.__module__.startswith("keras.") and name in vars(base):
                if mine is not vars(base)[name]:
                    return name
                break
    return None


def metric_classes(model: keras.Model) -> dict[str, str]:
    """Logged metric name -> what computes it; only a metric object Keras computes can be a top-1 accuracy."""
    out: dict[str, str] = {}
    step = _overridden_step(model)
    try:
        for metric in model.metrics:
            for inner in getattr(metric, "metrics", None) or [metric]:
                described = _describe_metric(inner)
                out.setdefault(str(inner.name), f"reported by an overridden {step}()" if step else described)
    except Exception:
        pass
    return out


def sample_accuracy(model: keras.Model, x: np.ndarray | None, labels: Any) -> float | None:
    """The model's accuracy on the sampled training rows before a fit: an untrained model is near 0.1, so a high
    value at the start of a model's first fit means it was trained outside fit (a custom loop, train_on_batch)."""
    if x is None or labels is None:
        return None
    try:
        scores = np.asarray(model(x, training=False))
        return float(np.mean(scores.reshape(len(x), -1).argmax(axis=1) == np.asarray(labels)[: len(x)]))
    except Exception:
        return None


def dense_on_images(model: keras.Model) -> list[str]:
    """A Dense layer applied to a tensor that still has its image axes is a 1x1 convolution over them."""
    problems = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if type(layer).__name__ != "Dense":
            continue
        try:
            rank = len(layer.input.shape)
        except Exception:
            continue
        if rank > 3:  # (batch, height, width, channels)
            problems.append(f"Dense layer '{layer.name}' is applied to image-shaped data (rank {rank}): that is a "
                            "1x1 convolution; put Flatten() before the Dense layers")
    return problems


def traced_graph(model: keras.Model, per_example: list[int | None] | None) -> GraphFacts | None:
    """The model's computation traced as a graph, judged like the exported one; None when it cannot be traced."""
    import tensorflow as tf

    if not per_example or any(d is None for d in per_example):
        return None
    try:
        dtype = model.inputs[0].dtype if getattr(model, "_inputs", None) else tf.float32
    except Exception:
        dtype = tf.float32
    try:
        fn = tf.function(lambda t: model(t, training=False))
        concrete = fn.get_concrete_function(tf.TensorSpec([None, *per_example], dtype))
        graph_def = concrete.graph.as_graph_def()
        outputs = [t.name for t in concrete.outputs]
    except Exception:
        return None
    nodes = live_nodes(graph_def, outputs)
    layers = [LayerRef(str(l.name), type(l).__name__,
                       verifiable=type(l).__name__ != "Lambda" and type(l).__module__.startswith("keras."))
              for l in model._flatten_layers(include_self=False, recursive=True)]
    return graph_facts(nodes, layers)
