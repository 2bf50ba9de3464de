from grader.architecture import ArchitectureFacts, architecture_problems, missing_flatten
from grader.spec import ArchitectureSpec

SPEC = ArchitectureSpec()
GOOD = ["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]


def test_reference_architecture_passes() -> None:
    assert architecture_problems(ArchitectureFacts(GOOD, [28, 28, 1], [10], conv_ops=1, max_pool_ops=1), SPEC) == []


def test_two_convolutions_fail() -> None:
    facts = ArchitectureFacts(["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"], [28, 28, 1], [10])
    problems = architecture_problems(facts, SPEC)
    assert any("2 convolution layers" in p for p in problems)
    assert any("2 MaxPooling2D" in p for p in problems)


def test_any_convolution_class_counts() -> None:
    facts = ArchitectureFacts(["SeparableConv2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"], [28, 28, 1], [10])
    assert any("2 convolution layers (SeparableConv2D, Conv2D)" in p for p in architecture_problems(facts, SPEC))


def test_convolution_hidden_in_the_graph_is_caught() -> None:
    facts = ArchitectureFacts(GOOD, [28, 28, 1], [10], conv_ops=2, max_pool_ops=1)
    assert any("Lambda or custom layer" in p for p in architecture_problems(facts, SPEC))


def test_separable_convolution_ops_are_explained_by_its_layer() -> None:
    spec = ArchitectureSpec(layers={"convolutions": 1})
    facts = ArchitectureFacts(["SeparableConv2D", "MaxPooling2D", "Flatten", "Dense"], [28, 28, 1], [10], 2, 1)
    assert architecture_problems(facts, spec) == []


def test_input_with_or_without_channel_axis() -> None:
    assert architecture_problems(ArchitectureFacts(GOOD, [28, 28], [10]), SPEC) == []
    assert any("input shape is (32, 32, 3)" in p for p in architecture_problems(ArchitectureFacts(GOOD, [32, 32, 3], [10]), SPEC))


def test_unflattened_output_is_reported() -> None:
    facts = ArchitectureFacts(["Conv2D", "MaxPooling2D", "Dense"], [28, 28, 1], [13, 13, 10])
    assert any("output shape is (13, 13, 10)" in p for p in architecture_problems(facts, SPEC))
    assert missing_flatten(facts.output_shape) and not missing_flatten([10])


def test_feature_computing_lambda_fails() -> None:
    facts = ArchitectureFacts(["Lambda", *GOOD], [28, 28, 1], [10], feature_layers=["Lambda 'lambda' computes Einsum"])
    assert any("hidden layer: Lambda 'lambda' computes Einsum" in p for p in architecture_problems(facts, SPEC))


def test_declared_but_unused_layers_fail() -> None:
    facts = ArchitectureFacts(None, [28, 28, 1], [10], conv_ops=0, max_pool_ops=0)
    problems = architecture_problems(facts, SPEC)
    assert any("0 convolution operation(s) that reach its output; 1 required" in p for p in problems)
    assert any("0 max-pooling operation(s) that reach its output; 1 required" in p for p in problems)
    assert architecture_problems(ArchitectureFacts(GOOD, [28, 28, 1], [10], conv_ops=1, max_pool_ops=1), SPEC) == []


FASHION = ArchitectureSpec(layers={"convolutions": 2, "max_pooling_2d": 2})
LESSON = ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]


def test_counts_are_rules_in_the_spec() -> None:
    assert architecture_problems(ArchitectureFacts(LESSON, [28, 28, 1], [10], conv_ops=2, max_pool_ops=2), FASHION) == []
    three = ["Conv2D", "MaxPooling2D", "Conv2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert "found 3 convolution layers (Conv2D, Conv2D, Conv2D); exactly 2 required" in architecture_problems(
        ArchitectureFacts(three, [28, 28, 1], [10]), FASHION)
    no_pool = ["Conv2D", "Conv2D", "Flatten", "Dense"]
    assert "found 0 MaxPooling2D layers; exactly 2 required" in architecture_problems(
        ArchitectureFacts(no_pool, [28, 28, 1], [10]), FASHION)


def test_ranges_and_other_kinds() -> None:
    spec = ArchitectureSpec(layers={"convolutions": {"min": 1, "max": 3}, "dense": {"min": 2}})
    one_dense = ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert architecture_problems(ArchitectureFacts(one_dense, [28, 28, 1], [10]), spec) == [
        "found 1 Dense layers; at least 2 required"]
    four = ["Conv2D"] * 4 + ["Flatten", "Dense", "Dense"]
    assert architecture_problems(ArchitectureFacts(four, [28, 28, 1], [10]), spec) == [
        "found 4 convolution layers (Conv2D, Conv2D, Conv2D, Conv2D); 1 to 3 required"]
