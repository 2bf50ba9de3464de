"""Facts about the student's model, read in the run: the epochs it already trained (the budget is the model's,
not one fit call's), what computes each logged metric, and its traced computation graph for fail-fast."""
from __future__ import annotations

import hashlib
from typing import Any

import keras
import numpy as np

from grader.graph_rules import GraphFacts, LayerRef, Node, graph_facts
from grader.metric_kinds import TOP1_CLASSES


class EpochLedger:
    """Epochs trained per model across fit calls.

    A model is known by identity and by its weights: a model that starts from weights an earlier fit ended with
    (``set_weights``, ``clone_model`` plus copied weights, a reloaded file) continues that training.
    """

    def __init__(self) -> None:
        self._by_model: dict[int, tuple[Any, int]] = {}  # id -> (model kept alive so ids are not reused, epochs)
        self._by_weights: dict[str, int] = {}

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

    def prior(self, model: keras.Model) -> int:
        own = self._by_model.get(id(model), (None, 0))[1]
        digest = self._digest(model)
        return max(own, self._by_weights.get(digest, 0) if digest else 0)

    def add(self, model: keras.Model, prior: int, epochs: int) -> None:
        total = prior + epochs
        self._by_model[id(model)] = (model, total)
        digest = self._digest(model)
        if digest:
            self._by_weights[digest] = max(total, self._by_weights.get(digest, 0))


def _describe_metric(metric: Any) -> str:
    cls = type(metric)
    fn = getattr(metric, "_fn", None)
    kwargs = {k: v for k, v in (getattr(metric, "_fn_kwargs", None) or {}).items() if isinstance(v, (int, float, str))}
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    builtin = cls.__module__.startswith("keras.")
    if cls.__name__ in TOP1_CLASSES and builtin and not args:
        return cls.__name__
    if fn is not None:
        where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
        return f"{cls.__name__}({where}{', ' + args if args else ''})"
    return f"{cls.__module__}.{cls.__name__}({args})"


def metric_classes(model: keras.Model) -> dict[str, str]:
    """Logged metric name -> what computes it; a standard top-1 accuracy reads as its Keras class name."""
    out: dict[str, str] = {}
    try:
        for metric in model.metrics:
            for inner in getattr(metric, "metrics", None) or [metric]:
                out.setdefault(str(inner.name), _describe_metric(inner))
    except Exception:
        pass
    return out


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
    except Exception:
        return None
    nodes = [Node(n.name, n.op, tuple(n.input)) for n in graph_def.node]
    nodes += [Node(n.name, n.op, tuple(n.input)) for f in graph_def.library.function for n in f.node_def]
    layers = [LayerRef(str(l.name), type(l).__name__,
                       verifiable=type(l).__name__ != "Lambda" and type(l).__module__.startswith("keras."))
              for l in model._flatten_layers(include_self=False, recursive=True)]
    return graph_facts(nodes, layers)
