"""fashion-mnist-conv graded for real on slices of Fashion-MNIST (tests/specs/fashion-small.toml).

The shipped reference notebook hard-codes reshape(60000, ...), as the lesson does, so it runs only on the full data
(`cnngrade check` proves it); here: the function-style reference, the lesson's order of experiments, and the
known-bad examples, each asserting the failing check and its hint.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from grader.api import grade
from grader.report import Report

SPEC = ROOT / "tests" / "specs" / "fashion-small.toml"
SOLUTIONS = ROOT / "solutions" / "fashion-mnist-conv"
FIXTURES = ROOT / "tests" / "fixtures" / "fashion-mnist"


def _checks(report: Report) -> dict[str, tuple[str, str]]:
    return {t.extra_data.check: (t.status, t.output) for t in report.tests}


def test_function_style_reference_passes(mnist_path: Path) -> None:
    report = grade(submission=SOLUTIONS / "reference_function.py", exercise=SPEC, data=mnist_path.parent)
    checks = _checks(report)
    assert list(checks) == ["ran", "architecture", "budget", "test_accuracy"]
    assert all(status == "passed" for status, _ in checks.values()), report.output
    d = report.extra_data
    assert d.epochs_run == 5 and d.test_accuracy is not None and d.test_accuracy >= 0.7
    assert "entry point train_fashion_mnist()" in (d.graded_fit_source or "")
    assert "exactly 2 convolution layers" in report.tests[1].name and "2 convolution" in checks["architecture"][1]


def test_the_fashion_fit_is_graded_when_an_mnist_experiment_follows(mnist_path: Path) -> None:
    """The lesson's order: the Fashion model, then an MNIST experiment with one convolution whose history a later
    cell prints. The experiment breaks the layer rules but trains on other data: it runs (not refused), and the
    Fashion fit, recognised from its pixels, is graded."""
    report = grade(submission=FIXTURES / "fashion_model_then_mnist_experiment.ipynb", exercise=SPEC,
                   data=mnist_path.parent)
    d = report.extra_data
    assert d.fit_calls == 2 and d.graded_fit == 1, report.output
    assert "its training data is Fashion-MNIST" in (d.graded_fit_source or "") and "fit call 2 (cell 4)" in report.output
    assert d.errors == [] and d.epochs_run == 6
    assert all(t.status == "passed" for t in report.tests), report.output


@pytest.mark.parametrize(("name", "check", "says", "hint"), [
    ("three_convolutions.py", "architecture", "found 3 convolution layers", "remove 1 of them"),
    ("no_pooling.py", "architecture", "found 0 MaxPooling2D layers", "each Conv2D followed by MaxPooling2D(2, 2)"),
    ("no_channel_axis.py", "ran", "ValueError", "reshape the images with x.reshape(-1, 28, 28, 1)"),
])
def test_known_bad_examples_fail_with_a_hint(name: str, check: str, says: str, hint: str, mnist_path: Path) -> None:
    report = grade(submission=SOLUTIONS / "known-bad" / name, exercise=SPEC, data=mnist_path.parent)
    failed = [t for t in report.tests if t.status == "failed"]
    assert failed and failed[0].extra_data.check == check, report.output
    assert says in failed[0].output and hint in (failed[0].extra_data.hint or ""), failed[0].output
    assert report.score < report.max_score


@pytest.mark.parametrize(("name", "says"), [
    # Found in review: each passed 5/5 (or 4/5 with the test accuracy credited).
    ("trains_on_test_set_then_small_fashion_fit.py", "in fit call 1 on the Fashion-MNIST test images"),
    ("trains_on_test_set_then_copies_weights.py", "in fit call 1 on the Fashion-MNIST test images"),
    ("trains_on_test_images_outside_fit.py", "it was trained outside model.fit"),
])
def test_a_model_that_learned_the_test_images_gets_no_test_accuracy(name: str, says: str, mnist_path: Path) -> None:
    """The graded fit is the last on the training images, but its model learned the test images before it (an
    earlier fit, a model whose weights it copied, train_on_batch): its re-measured test accuracy is not credited."""
    report = grade(submission=FIXTURES / name, exercise=SPEC, data=mnist_path.parent)
    checks = _checks(report)
    status, output = checks["test_accuracy"]
    assert status == "failed" and "not credited" in output and says in output, output
    assert report.extra_data.test_accuracy is not None and report.extra_data.test_accuracy >= 0.7  # what it learned
    assert checks["architecture"][0] == "passed"


@pytest.mark.parametrize("name", ["functional_api_dropout_batchnorm_validation.py", "subclassed_model_tf_data.py"])
def test_legitimate_shapes_pass(name: str, mnist_path: Path) -> None:
    """Found correct in review: the functional API with Dropout, BatchNormalization and validation_data; a
    subclassed model fed by a shuffling tf.data pipeline scaled to [-1, 1]."""
    report = grade(submission=FIXTURES / name, exercise=SPEC, data=mnist_path.parent)
    assert all(t.status == "passed" for t in report.tests), report.output
    assert report.extra_data.test_accuracy is not None and report.extra_data.test_accuracy >= 0.7


@pytest.mark.parametrize(("name", "says"), [
    # Found in review: passed 5/5 when only the first rows of fit's arrays were sampled.
    ("trains_on_test_set_behind_a_few_training_images.py", "sampled inputs are training images"),
    ("trains_on_mnist_evaluates_on_fashion.py", "not a rescaling of the training images"),
])
def test_training_on_other_images_is_not_measured(name: str, says: str, mnist_path: Path) -> None:
    report = grade(submission=FIXTURES / name, exercise=SPEC, data=mnist_path.parent)
    status, output = _checks(report)["test_accuracy"]
    assert status == "failed" and "cannot measure" in output and says in output, output
