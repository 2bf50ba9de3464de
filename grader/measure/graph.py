"""Scan and run a SavedModel's serving graph: a graph of TensorFlow ops, no student Python inside."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from grader.graph_rules import LayerRef, Node, graph_facts, live_nodes
from grader.protocol import MeasureJob, Misclassified

# Ops that touch files, print, call back into Python or talk to the outside: a model needs none of them.
FORBIDDEN_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc", "PrintV2", "Print", "SaveV2", "Save", "RestoreV2",
                 "Restore", "MergeV2Checkpoints", "ShardedFilename", "ImmutableConst"}
FORBIDDEN_PARTS = ("File", "Summary", "Dataset", "Iterator", "Send", "Recv", "Queue", "Reader", "Socket", "Rpc")
BATCH = 2048


def _forbidden(ops: dict[str, int]) -> list[str]:
    return sorted(op for op in ops if op in FORBIDDEN_OPS or any(part in op for part in FORBIDDEN_PARTS))


def _shape(spec: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in spec.shape.as_list()[1:]]
    except (AttributeError, ValueError, TypeError):
        return None


class Model:
    """The serving signature of an exported model, with its one input and one output."""

    def __init__(self, folder: Path) -> None:
        # The loaded object owns the variables: freezing the signature (journey) needs it alive.
        self.loaded = tf.saved_model.load(str(folder))
        self.fn = self.loaded.signatures["serving_default"]
        inputs, outputs = self.fn.structured_input_signature[1], self.fn.structured_outputs
        self.arity = (len(inputs), len(outputs))
        if self.arity == (1, 1):
            (self.input_name, self.input_spec), (self.output_name, output_spec) = (
                next(iter(inputs.items())), next(iter(outputs.items())))
            self.input_shape, self.output_shape = _shape(self.input_spec), _shape(output_spec)
        else:
            self.input_shape = self.output_shape = None

    def nodes(self) -> list[Node]:
        return live_nodes(self.fn.graph.as_graph_def(), [t.name for t in self.fn.outputs])

    def feed_shape(self, per_example: Sequence[int]) -> tuple[int, ...]:
        """The model's own input shape when it is known and holds one image; else the shape seen in training.

        Keras 3 adds a missing channel axis when it trains (N x 28 x 28 data into Input((28, 28, 1))), but the
        exported signature wants the axis: the images are prepared for the signature, not for the data.
        """
        known = [d for d in self.input_shape or [] if d is not None]
        if self.input_shape and len(known) == len(self.input_shape) and int(np.prod(known)) == int(np.prod(per_example)):
            return tuple(known)
        return tuple(per_example)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        tensor = tf.cast(tf.constant(batch, dtype=tf.float32), self.input_spec.dtype)
        return self.fn(**{self.input_name: tensor})[self.output_name].numpy()


def structure(model: Model, layers: Sequence[LayerRef] | None) -> dict[str, Any]:
    """Op counts, refused ops and shapes: what the architecture verdict needs, before any accuracy."""
    facts = graph_facts(model.nodes(), layers)
    result: dict[str, Any] = {"input_shape": model.input_shape, "output_shape": model.output_shape,
                              "conv_ops": facts.conv_ops, "max_pool_ops": facts.max_pool_ops,
                              "feature_layers": list(facts.feature_layers), "forbidden_ops": _forbidden(facts.op_types),
                              "train_accuracy": None, "test_accuracy": None, "error": None}
    if model.arity != (1, 1):
        result["error"] = f"the model has {model.arity[0]} inputs and {model.arity[1]} outputs; expected one of each"
    elif result["forbidden_ops"]:
        result["error"] = ("the model's graph contains operations a classifier never needs: "
                           + ", ".join(result["forbidden_ops"]))
    elif model.output_shape is None or int(np.prod([d or 0 for d in model.output_shape])) != 10:
        result["error"] = f"the model's output shape {model.output_shape} cannot be read as 10 class scores"
    return result


CLASSES = 10
MAX_MISCLASSIFIED = 24


@dataclass
class Tally:
    """One pass over a split: the confusion matrix, the first mistakes, and the accuracy over every row.

    The accuracy counts rows, not the matrix: a prediction outside the 10 classes (a model with more outputs) has
    no cell in the matrix but is still a wrong answer; leaving it out of the total would raise the accuracy."""

    confusion: np.ndarray = field(default_factory=lambda: np.zeros((CLASSES, CLASSES), dtype=np.int64))
    mistakes: list[Misclassified] = field(default_factory=list)
    rows: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.rows if self.rows else float("nan")


def tally(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, job: MeasureJob,
          feed: tuple[int, ...]) -> Tally:
    result = Tally()
    for start in range(0, len(x), BATCH):
        rows = x[start:start + BATCH].astype(np.float32)
        batch = (rows.reshape((-1, *job.reshape)) * job.scale + job.offset).reshape((-1, *feed))
        predicted = np.argmax(predict(batch).reshape(len(batch), -1), axis=1)
        true = y[start:start + BATCH].astype(np.int64)
        result.rows += len(true)
        result.correct += int(np.sum(predicted == true))
        valid = (true >= 0) & (true < CLASSES) & (predicted < CLASSES)
        np.add.at(result.confusion, (true[valid], predicted[valid]), 1)
        for offset in np.flatnonzero(predicted != true)[:MAX_MISCLASSIFIED - len(result.mistakes)]:
            result.mistakes.append(Misclassified(index=start + int(offset), true=int(true[offset]),
                                                 predicted=int(predicted[offset])))
    return result


def accuracy(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, job: MeasureJob,
             feed: tuple[int, ...]) -> float:
    return tally(predict, x, y, job, feed).accuracy if len(x) else float("nan")


def load_split(job: MeasureJob) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(job.data_path, allow_pickle=False) as data:
        return (data["x_train"][:job.train_limit], data["y_train"][:job.train_limit],
                data["x_test"][:job.test_limit], data["y_test"][:job.test_limit])


def accuracies(model: Model, job: MeasureJob) -> tuple[float, Tally]:
    """Train accuracy, and the test set's tally (its accuracy, confusion matrix and mistakes in one pass)."""
    x_train, y_train, x_test, y_test = load_split(job)
    feed = model.feed_shape(job.reshape)
    test = tally(model.predict, x_test, y_test, job, feed)
    return accuracy(model.predict, x_train, y_train, job, feed), test
