"""What a model's computation graph does, read from its nodes: shared by fail-fast (in the run) and the trusted
measurement (after it). Pure Python on ``(name, op, inputs)`` triples: no TensorFlow, no student objects.

Keras puts each layer's ops under the layer's name scope (``sequential/lambda/ExpandDims``), so the ops of a
``Lambda`` or custom layer can be told apart and judged: one that only reshapes, casts or scales the images is
plumbing; one that computes features (a convolution, patch extraction, a matrix product, slices of shifted
images) is a hidden layer and is refused.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CONV_OPS = {"Conv", "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "Conv3DBackpropInputV2",
            "_FusedConv2D", "FusedResizeAndPadConv2D", "FusedPadConv2D"}
MAX_POOL_OPS = {"MaxPool", "MaxPoolV2", "MaxPool3D", "MaxPoolWithArgmax"}
# Ops a reshape/cast/scale layer may contain. Binary arithmetic must take a constant operand: arithmetic between
# two image-sized tensors is how a convolution is rebuilt from shifted slices.
PLUMBING_OPS = {"Const", "Identity", "IdentityN", "NoOp", "Placeholder", "ReadVariableOp", "Reshape", "ExpandDims",
                "Squeeze", "Cast", "Shape", "Pack", "StopGradient", "EnsureShape", "Relu", "Relu6", "Sigmoid",
                "Tanh", "Softmax", "Abs", "Neg", "Sqrt", "Square", "Exp", "Log", "ClipByValue", "Floor", "Round"}
SCALING_OPS = {"Mul", "RealDiv", "Div", "DivNoNan", "Truediv", "AddV2", "Add", "Sub", "Maximum", "Minimum"}
SHAPE_ONLY_OPS = {"StridedSlice"}  # allowed only on a Shape op's output (Flatten computes its target shape)


@dataclass(frozen=True)
class Node:
    name: str
    op: str
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerRef:
    name: str
    class_name: str
    verifiable: bool  # a built-in Keras layer other than Lambda: its computation is known


@dataclass(frozen=True)
class GraphFacts:
    conv_ops: int
    max_pool_ops: int
    # class name and name of each Lambda/custom layer that computes more than a reshape, cast or scale, with why
    feature_layers: tuple[str, ...] = ()
    op_types: dict[str, int] = field(default_factory=dict)


def _source(name: str) -> str:
    """``node:0`` / ``^node`` input spelling -> the node name."""
    return name.lstrip("^").split(":")[0]


def _scope_matches(component: str, layer: str) -> bool:
    # Tracing the same layer twice in one graph uniquifies its scope: ``lambda`` becomes ``lambda_1``.
    return component == layer or re.fullmatch(re.escape(layer) + r"_\d+", component) is not None


def _owners(node: Node, layers: Sequence[LayerRef]) -> list[LayerRef]:
    scopes = node.name.split("/")[:-1]
    return [l for l in layers if any(_scope_matches(c, l.name) for c in scopes)]


def _plumbing(node: Node, by_name: dict[str, Node]) -> bool:
    if node.op in PLUMBING_OPS:
        return True
    sources = [by_name.get(_source(i)) for i in node.inputs if not i.startswith("^")]
    if node.op in SCALING_OPS:
        return any(s is not None and s.op == "Const" for s in sources)
    if node.op in SHAPE_ONLY_OPS:
        return bool(sources) and sources[0] is not None and sources[0].op == "Shape"
    return False


def graph_facts(nodes: Iterable[Node], layers: Sequence[LayerRef]) -> GraphFacts:
    """Convolution and pooling op counts, and the Lambda/custom layers whose ops compute features."""
    nodes = list(nodes)
    by_name = {n.name: n for n in nodes}
    ops = Counter(n.op for n in nodes)
    unverifiable = [l for l in layers if not l.verifiable]
    offending: dict[str, set[str]] = {}
    for node in nodes:
        for layer in _owners(node, unverifiable):
            if not _plumbing(node, by_name):
                offending.setdefault(f"{layer.class_name} '{layer.name}'", set()).add(node.op)
    feature = tuple(f"{who} computes {', '.join(sorted(why))}" for who, why in sorted(offending.items()))
    return GraphFacts(conv_ops=sum(ops[o] for o in CONV_OPS), max_pool_ops=sum(ops[o] for o in MAX_POOL_OPS),
                      feature_layers=feature, op_types=dict(ops))
