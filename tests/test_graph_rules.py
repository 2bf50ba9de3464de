"""Lambda and custom layers judged by the ops traced under their name scope (pure Python on graph nodes)."""
from __future__ import annotations

from grader.graph_rules import LayerRef, Node, graph_facts, live

LAYERS = [LayerRef("lambda", "Lambda", False), LayerRef("conv2d", "Conv2D", True),
          LayerRef("max_pooling2d", "MaxPooling2D", True), LayerRef("flatten", "Flatten", True),
          LayerRef("dense", "Dense", True)]
BODY = [Node("seq/conv2d_1/convolution", "Conv2D", ("seq/lambda_1/ExpandDims", "w")),
        Node("seq/max_pooling2d_1/MaxPool2d", "MaxPool"),
        Node("seq/flatten_1/Shape", "Shape"), Node("seq/flatten_1/strided_slice", "StridedSlice", ("seq/flatten_1/Shape",)),
        Node("seq/dense_1/MatMul", "MatMul")]


def _lambda(*nodes: Node) -> list[Node]:
    return [Node("x", "Placeholder"), *nodes, *BODY]


def test_channel_axis_and_scaling_are_plumbing() -> None:
    facts = graph_facts(_lambda(Node("seq/lambda_1/ExpandDims/dim", "Const"),
                                Node("seq/lambda_1/ExpandDims", "ExpandDims", ("x", "seq/lambda_1/ExpandDims/dim")),
                                Node("seq/lambda_1/truediv/y", "Const"),
                                Node("seq/lambda_1/truediv", "RealDiv", ("seq/lambda_1/ExpandDims", "seq/lambda_1/truediv/y")),
                                Node("seq/lambda_1/Cast", "Cast", ("seq/lambda_1/truediv",))), LAYERS)
    assert facts.feature_layers == () and (facts.conv_ops, facts.max_pool_ops) == (1, 1)


def test_arithmetic_between_shifted_slices_is_a_feature() -> None:
    facts = graph_facts(_lambda(Node("seq/lambda/strided_slice", "StridedSlice", ("x",)),
                                Node("seq/lambda/strided_slice_1", "StridedSlice", ("x",)),
                                Node("seq/lambda/add", "AddV2", ("seq/lambda/strided_slice", "seq/lambda/strided_slice_1"))),
                        LAYERS)
    assert facts.feature_layers == ("Lambda 'lambda' computes arithmetic between two tensors (AddV2), "
                                    "slices of the image (StridedSlice)",)


def test_patches_and_nested_calls_are_features() -> None:
    facts = graph_facts(_lambda(Node("seq/lambda/ExtractImagePatches", "ExtractImagePatches", ("x",)),
                                Node("seq/lambda/PartitionedCall", "PartitionedCall", ("x",))), LAYERS)
    assert facts.feature_layers == ("Lambda 'lambda' computes image patches (ExtractImagePatches), "
                                    "a call of another function (PartitionedCall)",)


def test_builtin_layers_are_not_judged_by_op_and_a_look_alike_scope_is() -> None:
    # "lambda_12" is lambda's scope traced twice; "lambdas" is no layer's: the model's own code computes there.
    facts = graph_facts([Node("seq/lambda_12/conv", "Conv2D"), Node("seq/lambdas/conv", "Conv2D"), *BODY], LAYERS)
    assert facts.feature_layers == ("Lambda 'lambda' computes a convolution (Conv2D)",
                                    "the model's own code, outside its layers, computes a convolution (Conv2D)")
    assert facts.conv_ops == 3


def test_innermost_layer_owns_an_op() -> None:
    layers = [*LAYERS, LayerRef("block", "Block", False)]
    facts = graph_facts([Node("seq/block/conv2d/convolution", "Conv2D"), Node("seq/block/Relu", "Relu")], layers)
    assert facts.feature_layers == ()


def test_constant_crop_is_plumbing_but_slices_combined_are_not() -> None:
    crop = [Node("b", "Const"), Node("seq/lambda/strided_slice", "StridedSlice", ("x", "b", "b", "b"))]
    assert graph_facts(_lambda(*crop), LAYERS).feature_layers == ()


def test_ops_that_reach_no_output_do_no_work() -> None:
    nodes = [Node("x", "Placeholder"), Node("seq/conv2d/convolution", "Conv2D", ("x",)),
             Node("seq/dense/MatMul", "MatMul", ("x",)), Node("out", "Identity", ("seq/dense/MatMul",))]
    assert graph_facts(live(nodes, ["out:0"]), LAYERS).conv_ops == 0


def test_unknown_layer_list_only_counts() -> None:
    facts = graph_facts([Node("net/ExtractImagePatches", "ExtractImagePatches")], None)
    assert facts.feature_layers == ()
