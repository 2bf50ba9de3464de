"""Scan and run a SavedModel's serving graph: a graph of TensorFlow ops, no student Python inside."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from grader.protocol import MeasureJob

CONV_OPS = {"Conv", "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "Conv3DBackpropInputV2",
            "_FusedConv2D", "FusedResizeAndPadConv2D", "FusedPadConv2D"}
MAX_POOL_OPS = {"MaxPool", "MaxPoolV2", "MaxPool3D", "MaxPoolWithArgmax"}
# Ops that touch files, print, call back into Python or talk to the outside: a model needs none of them.
FORBIDDEN_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc", "PrintV2", "Print", "SaveV2", "Save", "RestoreV2",
                 "Restore", "MergeV2Checkpoints", "ShardedFilename", "ImmutableConst"}
FORBIDDEN_PARTS = ("File", "Summary", "Dataset", "Iterator", "Send", "Recv", "Queue", "Reader", "Socket", "Rpc")
BATCH = 2048


def _op_types(graph_def: Any) -> Counter[str]:
    ops = Counter(node.op for node in graph_def.node)
    for function in graph_def.library.function:
        ops.update(node.op for node in function.node_def)
    return ops


def _forbidden(ops: Counter[str]) -> list[str]:
    return sorted(op for op in ops if op in FORBIDDEN_OPS or any(part in op for part in FORBIDDEN_PARTS))


def _shape(spec: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in spec.shape.as_list()[1:]]
    except (AttributeError, ValueError, TypeError):
        return None


def _accuracy(fn: Any, input_name: str, output_name: str, x: np.ndarray, y: np.ndarray, job: MeasureJob) -> float:
    correct = 0
    for start in range(0, len(x), BATCH):
        batch = x[start:start + BATCH].astype(np.float32).reshape((-1, *job.reshape)) * job.scale + job.offset
        probs = fn(**{input_name: tf.constant(batch, dtype=tf.float32)})[output_name].numpy()
        correct += int(np.sum(np.argmax(probs.reshape(len(batch), -1), axis=1) == y[start:start + BATCH]))
    return correct / len(x)


def measure_graph(job: MeasureJob) -> dict[str, Any]:
    result: dict[str, Any] = {"input_shape": None, "output_shape": None, "conv_ops": 0, "max_pool_ops": 0,
                              "forbidden_ops": [], "train_accuracy": None, "test_accuracy": None, "error": None}
    folder = Path(job.model_dir) / "savedmodel"
    if folder.is_symlink() or not (folder / "saved_model.pb").is_file():
        result["error"] = "no exported model was found"
        return result
    loaded = tf.saved_model.load(str(folder))
    fn = loaded.signatures["serving_default"]
    ops = _op_types(fn.graph.as_graph_def())
    result["conv_ops"] = sum(ops[o] for o in CONV_OPS)
    result["max_pool_ops"] = sum(ops[o] for o in MAX_POOL_OPS)
    result["forbidden_ops"] = _forbidden(ops)
    inputs = fn.structured_input_signature[1]
    outputs = fn.structured_outputs
    if len(inputs) != 1 or len(outputs) != 1:
        result["error"] = f"the model has {len(inputs)} inputs and {len(outputs)} outputs; expected one of each"
        return result
    (input_name, input_spec), (output_name, output_spec) = next(iter(inputs.items())), next(iter(outputs.items()))
    result["input_shape"], result["output_shape"] = _shape(input_spec), _shape(output_spec)
    if result["forbidden_ops"]:
        result["error"] = "the model's graph contains operations a classifier never needs: " + ", ".join(result["forbidden_ops"])
        return result
    if result["output_shape"] is None or int(np.prod([d or 0 for d in result["output_shape"]])) != 10:
        result["error"] = f"the model's output shape {result['output_shape']} cannot be read as 10 class scores"
        return result
    with np.load(job.data_path, allow_pickle=False) as data:
        x_train, y_train = data["x_train"][:job.train_limit], data["y_train"][:job.train_limit]
        x_test, y_test = data["x_test"][:job.test_limit], data["y_test"][:job.test_limit]
    result["train_accuracy"] = _accuracy(fn, input_name, output_name, x_train, y_train, job)
    result["test_accuracy"] = _accuracy(fn, input_name, output_name, x_test, y_test, job)
    return result
