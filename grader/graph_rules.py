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
from typing import Any

CONV_OPS = {"Conv", "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "Conv3DBackpropInputV2",
            "_FusedConv2D", "FusedResizeAndPadConv2D", "FusedPadConv2D"}
MAX_POOL_OPS = {"MaxPool", "MaxPoolV2", "MaxPool3D", "MaxPoolWithArgmax"}
# Ops a reshape/cast/scale layer may contain. Binary arithmetic must take a constant operand: arithmetic between
# two image-sized tensors is how a convolution is rebuilt from shifted slices.
PLUMBING_OPS = {"Const", "Identity", "IdentityN", "NoOp", "Placeholder", "ReadVariableOp", "Reshape", "ExpandDims",
                "Squeeze", "Cast", "Shape", "Pack", "StopGradient", "EnsureShape", "Relu", "Relu6", "Sigmoid",
                "Tanh", "Softmax", "Abs", "Neg", "Sqrt", "Square", "Exp", "Log", "ClipByValue", "Floor", "Round"}
SCALING_OPS = {"Mul", "RealDiv", "Div", "DivNoNan", "Truediv", "AddV2", "Add", "Sub", "Maximum", "Minimum"}
SLICE_OPS = {"StridedSlice"}  # a crop or a new axis, with constant bounds; on a Shape, Flatten's target shape
# A model-level call of a traced function: its body is judged by its own ops (a call inside a Lambda is not).
CALL_OPS = {"StatefulPartitionedCall", "PartitionedCall"}


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


def _owner(node: Node, layers: Sequence[LayerRef]) -> LayerRef | None:
    """The innermost layer whose name scope holds ``node`` (a Conv2D inside a custom block is the Conv2D's)."""
    for component in reversed(node.name.split("/")[:-1]):
        found = [l for l in layers if _scope_matches(component, l.name)]
        if found:
            return min(found, key=lambda l: l.verifiable)  # an ambiguous scope is judged strictly
    return None


def live_nodes(graph_def: Any, outputs: Iterable[str]) -> list[Node]:
    """The live nodes of a ``GraphDef`` (read as plain data): those its ``outputs`` depend on, and in each library
    function those its returned values depend on. Shared by the run's traced graph and the exported one."""
    nodes = live([Node(n.name, n.op, tuple(n.input)) for n in graph_def.node], outputs)
    for function in graph_def.library.function:
        nodes += live([Node(n.name, n.op, tuple(n.input)) for n in function.node_def], function.ret.values())
    return nodes


def live(nodes: list[Node], outputs: Iterable[str]) -> list[Node]:
    """The nodes an output depends on: an op whose result reaches no output (a layer called, then dropped)
    does no work."""
    by_name = {n.name: n for n in nodes}
    todo = [_source(o) for o in outputs]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(_source(i) for i in by_name[name].inputs)
    return [n for n in nodes if n.name in seen]


def _plumbing(node: Node, by_name: dict[str, Node]) -> bool:
    if node.op in PLUMBING_OPS:
        return True
    sources = [by_name.get(_source(i)) for i in node.inputs if not i.startswith("^")]
    if node.op in SCALING_OPS:
        return any(s is not None and s.op == "Const" for s in sources)
    if node.op in SLICE_OPS:
        # One slice alone only crops or adds an axis; combining slices needs arithmetic between two tensors,
        # which is refused above.
        return len(sources) > 1 and all(s is not None and s.op == "Const" for s in sources[1:])
    return False


WORDS = {"StridedSlice": "slices of the image", "Slice": "slices of the image", "ExtractImagePatches": "image patches",
         "MatMul": "a matrix product", "BatchMatMulV2": "a matrix product", "Einsum": "a matrix product",
         "ConcatV2": "a concatenation", "Pad": "padding", "PadV2": "padding", "GatherV2": "gathered pixels",
         "PartitionedCall": "a call of another function", "StatefulPartitionedCall": "a call of another function",
         **{op: "a convolution" for op in CONV_OPS}, **{op: "max pooling" for op in MAX_POOL_OPS},
         **{op: "arithmetic between two tensors" for op in SCALING_OPS}}


def _in_words(op: str) -> str:
    return f"{WORDS[op]} ({op})" if op in WORDS else op


def graph_facts(nodes: Iterable[Node], layers: Sequence[LayerRef] | None) -> GraphFacts:
    """Convolution and pooling op counts, and what computes features outside the built-in layers: a Lambda or
    custom layer, or the model's own code between its layers.

    ``layers`` None: the layer list is unknown (a subclassed model's saved config lists none); only the counts
    are given then.
    """
    nodes = list(nodes)
    by_name = {n.name: n for n in nodes}
    ops = Counter(n.op for n in nodes)
    offending: dict[str, set[str]] = {}
    known = list(layers) if layers is not None else []
    for node in nodes if layers is not None else []:
        owner = _owner(node, known)
        if owner is not None and owner.verifiable or node.op in CALL_OPS and owner is None:
            continue
        if not _plumbing(node, by_name):
            who = f"{owner.class_name} '{owner.name}'" if owner else "the model's own code, outside its layers,"
            offending.setdefault(who, set()).add(node.op)
    feature = tuple(f"{who} computes {', '.join(_in_words(op) for op in sorted(why))}"
                    for who, why in sorted(offending.items()))
    return GraphFacts(conv_ops=sum(ops[o] for o in CONV_OPS), max_pool_ops=sum(ops[o] for o in MAX_POOL_OPS),
                      feature_layers=feature, op_types=dict(ops))
