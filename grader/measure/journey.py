"""The "journey of an image": the student's convolution filters and what the first convolution and pooling layer
make of a few test images, computed from the exported graph's constants. No student Python runs: the serving
graph is frozen (variables become constants) and the tensors after the first convolution (with its bias and
activation) and the first max pooling are fetched from a pruned copy of it.

Maps are quantised to 0-255 per map so that the measurement file stays small (the images are for looking at).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from grader.protocol import Journey

MAX_FILTERS = 32
MAX_MAPS = 8  # channels shown per image
# Pixels per side of a map: a model that resizes its input before the convolution (Resizing(160, 160)) would
# otherwise send maps of megabytes, and the measurement file (read capped at 1 MiB) would fail, costing the
# student the accuracy checks for a picture. Larger maps are sampled with a stride.
MAX_SIDE = 64
ACTIVATIONS = {"Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "LeakyRelu", "Softplus", "Gelu"}
FOLLOWERS = {"BiasAdd", "Add", "AddV2", *ACTIVATIONS}


def _consumers(graph_def: Any) -> dict[str, list[Any]]:
    users: dict[str, list[Any]] = {}
    for node in graph_def.node:
        for name in node.input:
            users.setdefault(name.lstrip("^").split(":")[0], []).append(node)
    return users


def _after_conv(conv: Any, users: dict[str, list[Any]]) -> str:
    """The conv's output with its bias and activation applied, when they follow it directly."""
    current = conv
    for _ in range(3):
        nxt = [n for n in users.get(current.name, []) if n.op in FOLLOWERS]
        if len(nxt) != 1:
            break
        current = nxt[0]
    return current.name


def _quantise(maps: np.ndarray) -> list[list[list[int]]]:
    """(H, W, C) -> C maps of 0-255, each scaled to its own range, at most MAX_SIDE pixels a side."""
    out = []
    step = max(1, -(-max(maps.shape[0], maps.shape[1]) // MAX_SIDE))
    for c in range(min(maps.shape[-1], MAX_MAPS)):
        m = maps[::step, ::step, c].astype(np.float64)
        span = float(m.max() - m.min())
        scaled = np.zeros_like(m) if span == 0 or not np.isfinite(span) else (m - m.min()) / span * 255
        out.append(np.round(scaled).astype(int).tolist())
    return out


def journey(fn: Any, images: np.ndarray, indices: list[int]) -> Journey | None:
    """Filters and feature maps for ``images`` (already shaped for the model); None when the graph has no plain
    Conv2D (a model that fails the architecture check, or an unusual export)."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(fn)
    graph_def = frozen.graph.as_graph_def()
    conv = next((n for n in graph_def.node if n.op == "Conv2D"), None)
    pool = next((n for n in graph_def.node if n.op in ("MaxPool", "MaxPoolV2")), None)
    if conv is None or len(frozen.inputs) != 1:
        return None
    users = _consumers(graph_def)
    fetch = [conv.input[1].split(":")[0] + ":0" if ":" not in conv.input[1] else conv.input[1],
             _after_conv(conv, users) + ":0"] + ([pool.name + ":0"] if pool is not None else [])

    def imports() -> None:
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(imports, [])
    graph = wrapped.graph
    pruned = wrapped.prune(feeds=graph.get_tensor_by_name(frozen.inputs[0].name),
                           fetches=[graph.get_tensor_by_name(name) for name in fetch])
    outputs = [t.numpy() for t in pruned(tf.cast(tf.constant(images, tf.float32), frozen.inputs[0].dtype))]
    kernel = outputs[0]  # (kh, kw, in, out)
    if kernel.ndim != 4:
        return None
    filters = [np.round(kernel[:, :, 0, i].astype(np.float64), 4).tolist() for i in range(min(kernel.shape[3], MAX_FILTERS))]
    conv_maps = [_quantise(outputs[1][i]) for i in range(len(indices))]
    pool_maps = [_quantise(outputs[2][i]) for i in range(len(indices))] if pool is not None else []
    return Journey(filters=filters, images=indices, conv_maps=conv_maps, pool_maps=pool_maps)
