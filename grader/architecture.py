"""Architecture rules, shared by the fail-fast check in the run and the trusted check after it.

Pure Python on layer class names, shapes and graph op counts: no TensorFlow, no student objects.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grader.spec import ArchitectureSpec

# Every Keras convolution class counts as "a convolution" (aliases such as Convolution2D are these classes).
CONV_CLASSES: dict[str, int] = {  # class -> convolution ops it puts in the inference graph
    "Conv1D": 1, "Conv2D": 1, "Conv3D": 1,
    "Conv1DTranspose": 1, "Conv2DTranspose": 1, "Conv3DTranspose": 1,
    "SeparableConv1D": 2, "SeparableConv2D": 2,
    "DepthwiseConv1D": 1, "DepthwiseConv2D": 1,
    "ConvLSTM1D": 0, "ConvLSTM2D": 0, "ConvLSTM3D": 0,  # 0: recurrent, op count varies with sequence length
}
MAX_POOL_CLASSES = {"MaxPooling1D", "MaxPooling2D", "MaxPooling3D"}
MAX_POOL_2D = "MaxPooling2D"


@dataclass(frozen=True)
class ArchitectureFacts:
    """What is known of a model. ``None`` means unknown (e.g. layer list of a subclassed model)."""

    layer_classes: Sequence[str] | None
    input_shape: Sequence[int | None] | None
    output_shape: Sequence[int | None] | None
    conv_ops: int | None = None
    max_pool_ops: int | None = None
    feature_layers: Sequence[str] = field(default=())  # Lambda/custom layers that compute features


def _shape(shape: Sequence[int | None] | None) -> str:
    return "unknown" if shape is None else "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


# Which Keras classes each counted kind holds (the spec's [architecture.layers] names these kinds).
KIND_CLASSES: dict[str, frozenset[str]] = {
    "convolutions": frozenset(CONV_CLASSES),
    "max_pooling_2d": frozenset({MAX_POOL_2D}),
    "pooling": frozenset({*MAX_POOL_CLASSES, "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
                          "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
                          "GlobalAveragePooling2D", "GlobalAveragePooling3D"}),
    "dense": frozenset({"Dense", "EinsumDense"}),
    "dropout": frozenset({"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"}),
    "batch_normalization": frozenset({"BatchNormalization"}),
}
KIND_WORDS = {"convolutions": "convolution layers", "max_pooling_2d": "MaxPooling2D layers", "pooling": "pooling layers",
              "dense": "Dense layers", "dropout": "dropout layers", "batch_normalization": "BatchNormalization layers"}


def describe_rules(spec: ArchitectureSpec) -> str:
    """'exactly 2 convolution layers, exactly 2 MaxPooling2D layers' for check names and hints."""
    return ", ".join(f"{count.describe()} {KIND_WORDS[kind]}" for kind, count in spec.layers.items())


def _layer_problems(classes: Sequence[str], spec: ArchitectureSpec) -> list[str]:
    problems = []
    for kind, count in spec.layers.items():
        found = [c for c in classes if c in KIND_CLASSES[kind]]
        if not count.allows(len(found)):
            listed = f" ({', '.join(found)})" if found and kind in ("convolutions", "pooling") else ""
            problems.append(f"found {len(found)} {KIND_WORDS[kind]}{listed}; {count.describe()} required")
    return problems


def _graph_problems(facts: ArchitectureFacts, spec: ArchitectureSpec) -> list[str]:
    problems = []
    classes = facts.layer_classes
    recurrent = any(CONV_CLASSES.get(c) == 0 for c in classes or ())
    conv, pool = spec.count("convolutions"), spec.count("max_pooling_2d")
    if facts.conv_ops is not None and not recurrent:
        if classes is None:  # a subclassed model: the rule's maximum is what it may declare
            declared = expected = conv.max if conv and conv.max is not None else None
        else:
            declared = sum(1 for c in classes if c in CONV_CLASSES)
            expected = sum(CONV_CLASSES.get(c, 0) for c in classes)
        needed = conv.min if conv and conv.min is not None else 0
        if expected is not None and facts.conv_ops > expected:
            problems.append(
                f"the model's computation contains {facts.conv_ops} convolution operations, more than its "
                f"{declared} declared convolution layer(s) explain: a convolution inside a Lambda or custom layer counts too"
            )
        elif facts.conv_ops < min(expected if expected is not None else needed, needed):
            problems.append(_unused("convolution", facts.conv_ops, needed))
    if facts.max_pool_ops is not None:
        if classes is None:
            declared_pools = pool.max if pool and pool.max is not None else None
        else:
            declared_pools = sum(1 for c in classes if c in MAX_POOL_CLASSES)
        needed = pool.min if pool and pool.min is not None else 0
        if declared_pools is not None and facts.max_pool_ops > declared_pools:
            problems.append(
                f"the model's computation contains {facts.max_pool_ops} max-pooling operations but only "
                f"{declared_pools} max-pooling layer(s) are declared"
            )
        elif facts.max_pool_ops < min(declared_pools if declared_pools is not None else needed, needed):
            problems.append(_unused("max-pooling", facts.max_pool_ops, needed))
    return problems


def _unused(kind: str, found: int, required: int) -> str:
    # A layer that is created but never called (a subclassed model's call() skipping it) does no work.
    return (f"the model's computation contains {found} {kind} operation(s) that reach its output; {required} "
            "required: a layer that is never called, or whose result is thrown away, does not count")


def _shape_problems(facts: ArchitectureFacts, spec: ArchitectureSpec) -> list[str]:
    problems = []
    if facts.input_shape is not None:
        accepted = [tuple(s) for s in spec.input_shapes]
        if tuple(facts.input_shape) not in accepted:
            problems.append(
                f"input shape is {_shape(facts.input_shape)}; expected one of {', '.join(_shape(s) for s in accepted)}"
            )
    if facts.output_shape is not None:
        if len(facts.output_shape) != 1 or facts.output_shape[0] != spec.outputs:
            problems.append(f"output shape is {_shape(facts.output_shape)}; expected ({spec.outputs},)")
    return problems


def architecture_problems(facts: ArchitectureFacts, spec: ArchitectureSpec) -> list[str]:
    """Each way ``facts`` break ``spec``, as a sentence; empty when the architecture is right."""
    problems: list[str] = []
    if facts.feature_layers:
        problems.append(
            "Lambda layers, custom layers and the model's own code between layers may only reshape, cast or scale; "
            "computing features there is a hidden layer: " + "; ".join(facts.feature_layers)
        )
    if facts.layer_classes is not None:
        problems += _layer_problems(facts.layer_classes, spec)
    problems += _graph_problems(facts, spec)
    problems += _shape_problems(facts, spec)
    return problems


def missing_flatten(output_shape: Sequence[int | None] | None) -> bool:
    """True when Dense layers act on an unflattened image: the output (without batch axis) keeps spatial axes."""
    return output_shape is not None and len(output_shape) > 1
