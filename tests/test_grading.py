"""Integration: real submissions, really executed and trained on a slice of real MNIST (tests/specs/mnist-small.toml).

Each fixture is named after its mistake; each test asserts which checks fail and what the feedback says.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, SMALL_SPEC, SOLUTIONS
from grader.api import grade
from grader.report import Report

ALL = {"ran", "architecture", "budget", "stopped", "message", "train_accuracy", "test_accuracy"}


_CACHE: dict[tuple[Path, tuple[tuple[str, object], ...]], Report] = {}


def _grade(path: Path, mnist_path: Path, **kwargs: object) -> Report:
    """Grade once per (file, options) in this session: several tests look at the same verdict."""
    key = (path, tuple(sorted(kwargs.items())))
    if key not in _CACHE:
        _CACHE[key] = grade(submission=path, exercise=SMALL_SPEC, data=mnist_path, **kwargs)  # type: ignore[arg-type]
    return _CACHE[key]


def _failed(report: Report) -> set[str]:
    return {t.extra_data.check for t in report.tests if t.status == "failed"}


def _test(report: Report, check: str) -> str:
    return next(t.output for t in report.tests if t.extra_data.check == check)


@pytest.mark.parametrize("path", [SOLUTIONS / "reference_module.py", SOLUTIONS / "reference_notebook.ipynb"],
                         ids=lambda p: p.name)
def test_reference_solutions_pass(path: Path, mnist_path: Path) -> None:
    report = _grade(path, mnist_path)
    assert _failed(report) == set(), report.output
    d = report.extra_data
    assert report.score == report.max_score == 10
    assert d.stopped_by == "myCallback.on_epoch_end" if path.suffix == ".ipynb" else d.stopped_by == "StopAt998.on_epoch_end"
    assert d.history[d.stop_epoch - 1].accuracy > 0.998
    assert all(e.accuracy <= 0.998 for e in d.history[: d.stop_epoch - 1])
    assert d.epochs_run == d.stop_epoch <= 12 and d.epochs_asked == 20
    assert d.train_accuracy is not None and d.train_accuracy >= 0.99
    assert d.test_accuracy is not None and d.test_accuracy >= 0.9
    assert d.preprocessing == "reshape to (28, 28, 1), divide by 255"
    assert "entry point train_mnist_conv()" in (d.graded_fit_source or "")


# After one epoch on the slice, test accuracy sits near the floor: it may pass or fail.
CRASHED_AFTER_EPOCH_1 = {"ran", "budget", "stopped", "message", "train_accuracy", "test_accuracy?"}

# fixture, checks that must fail ("name?" may fail), (check, text in its output or hint)
CASES = [
    ("two_convolutions.py", ALL - {"ran"}, ("architecture", "found 2 convolution layers")),
    ("no_flatten.py", ALL - {"ran"}, ("architecture", "Flatten()")),
    ("logs_acc_key.ipynb", CRASHED_AFTER_EPOCH_1, ("ran", "logs.get('accuracy')")),
    ("stops_too_early.py", {"stopped", "budget", "train_accuracy?"}, ("stopped", "threshold")),
    ("wrong_message.ipynb", {"message"}, ("message", "got: Reached 99,8% accuracy so cancelled training!")),
    ("no_callback.py", {"stopped", "message"}, ("stopped", "callbacks=[")),
    ("misspelled_hook.py", {"stopped", "message"}, ("stopped", "Keras never calls Stop.on_epoch_ends()")),
    ("message_without_training.py", ALL - {"ran"}, ("message", "no model was trained")),
    ("forged_history.py", ALL - {"ran", "architecture"}, ("train_accuracy", "on 2000 training images")),
    ("syntax_error_in_cell_3.ipynb", ALL, ("message", "not reached: cell 3, line 1 raised SyntaxError")),
    ("error_after_training.ipynb", {"ran"}, ("ran", "cell 5, line 1")),
    ("one_hot_sparse.py", ALL, ("ran", "one-hot")),
    ("missing_channel_axis.py", ALL, ("ran", "channel axis")),
    ("lambda_hidden_conv.py", ALL - {"ran"}, ("architecture", "Lambda")),
    ("stale_outputs.ipynb", CRASHED_AFTER_EPOCH_1, ("ran", "logs.get('accuracy')")),
    ("metrics_acc_key.py", set(), ("stopped", "epoch")),
    ("closure_stop.py", set(), ("message", "printed")),
    ("tf1_config_cell.ipynb", set(), ("ran", "TensorFlow 1 API")),
    ("shell_escapes.ipynb", set(), ("ran", "skipped '!pip install tensorflow==1.15'")),
    ("several_models.ipynb", set(), ("architecture", "Conv2D")),
    ("other_language_kernel.ipynb", set(), ("ran", "ran without errors")),
    # Issue 9: legitimate shapes that failed, and tricks that passed.
    ("no_channel_axis_input_layer.py", set(), ("architecture", "input (28, 28, 1)")),
    ("tf_data_pipeline.py", set(), ("train_accuracy", "examples the tf.data dataset yielded")),
    ("diverged_first_experiment.py", set(), ("stopped", "stopped training at epoch")),
    ("tf_print_message.py", set(), ("message", "printed 'Reached 99.8% accuracy so cancelling training!'")),
    ("lambda_adds_channel_axis.py", set(), ("architecture", "Lambda")),
    ("bfloat16_inputs.py", set(), ("train_accuracy", "divide by 255")),
    ("lambda_patches_convolution.py", ALL - {"ran"}, ("architecture", "ExtractImagePatches")),
    ("lambda_shifted_slices_convolution.py", ALL - {"ran"}, ("architecture", "arithmetic between two tensors")),
    ("subclassed_unused_layers.py", ALL - {"ran"}, ("architecture", "never called")),
    ("top2_named_accuracy.py", {"budget", "stopped", "message?", "train_accuracy?"},
     ("budget", "SparseTopKCategoricalAccuracy(")),
    ("budget_split_across_fits.py", {"budget", "stopped", "message"}, ("budget", "counts every epoch a model trains")),
    ("empty_training_set.py", ALL - {"ran", "architecture"}, ("budget", "empty x of shape (0, 28, 28, 1)")),
    ("percent_threshold.py", {"stopped", "message"}, ("stopped", "compare with 0.998, not 99.8")),
    # Found by review of the issue 9 fixes.
    ("generator_input.py", set(), ("train_accuracy", "examples the generator yielded")),
    ("pydataset_num_batches.py", set(), ("train_accuracy", "examples the PyDataset yielded")),
    ("initial_epoch_continuation.py", set(), ("budget", "had trained 2 epoch(s) in earlier fit calls")),
    ("experiment_then_fresh_model.py", set(), ("stopped", "stopped training at epoch")),
    # Its accuracies are not credited either: what it learned outside fit could have been the test images.
    ("trained_outside_fit.py", {"budget", "train_accuracy", "test_accuracy"}, ("test_accuracy", "not credited")),
    ("forged_train_step.py", {"budget", "stopped"}, ("budget", "custom train_step")),
    ("tiled_epochs.py", {"budget"}, ("budget", "8.0 times the 2000 training images")),
    ("subclassed_call_patches.py", ALL - {"ran"}, ("architecture", "the model's own code, outside its layers")),
    ("lambda_scope_escape.py", ALL - {"ran"}, ("architecture", "image patches (ExtractImagePatches)")),
    ("dead_convolution.py", ALL - {"ran"}, ("architecture", "result is thrown away")),
]


@pytest.mark.parametrize("name, failing, expect", CASES, ids=[c[0] for c in CASES])
def test_fixture_verdict(name: str, failing: set[str], expect: tuple[str, str], mnist_path: Path) -> None:
    report = _grade(FIXTURES / name, mnist_path)
    must = {c for c in failing if not c.endswith("?")}
    may = {c.rstrip("?") for c in failing if c.endswith("?")}
    assert must <= _failed(report) <= must | may, [(t.name, t.output) for t in report.tests if t.status == "failed"]
    check, text = expect
    shown = _test(report, check)
    assert text in shown, shown
    assert report.extra_data.status == ("passed" if not failing else "failed")


def test_fail_fast_architecture_verdict_is_quick(mnist_path: Path) -> None:
    report = _grade(FIXTURES / "two_convolutions.py", mnist_path)
    assert report.extra_data.epochs_run == 0
    assert report.extra_data.timings.total_s < 20
    assert "seen when training started" in _test(report, "architecture")


def test_full_trains_despite_wrong_architecture(mnist_path: Path) -> None:
    report = _grade(FIXTURES / "two_convolutions.py", mnist_path, full=True)
    assert report.extra_data.epochs_run >= 1
    assert "2 convolution layers" in _test(report, "architecture")
    assert report.extra_data.train_accuracy is not None


def test_shell_escapes_are_listed_and_not_run(mnist_path: Path) -> None:
    marker = Path("/tmp/cnngrade-should-not-exist")
    marker.unlink(missing_ok=True)
    report = _grade(FIXTURES / "shell_escapes.ipynb", mnist_path)
    commands = [s.command for s in report.extra_data.skipped]
    assert "!pip install tensorflow==1.15" in commands and "%pip install keras" in commands
    assert any(c.startswith("%%bash") for c in commands)
    assert not marker.exists()


def test_several_models_grade_the_last_fit(mnist_path: Path) -> None:
    report = _grade(FIXTURES / "several_models.ipynb", mnist_path)
    assert report.extra_data.fit_calls == 2 and report.extra_data.graded_fit == 2
    assert "fit call 2 of 2" in (report.extra_data.graded_fit_source or "")


def test_infinite_loop_times_out(mnist_path: Path) -> None:
    report = _grade(FIXTURES / "infinite_loop.py", mnist_path, timeout_s=20)
    assert "timeout" in _test(report, "ran")
    assert report.extra_data.timings.total_s < 40


def test_seed_is_recorded_and_training_is_reproducible(mnist_path: Path) -> None:
    a = _grade(SOLUTIONS / "reference_module.py", mnist_path, seed=7)
    b = grade(submission=SOLUTIONS / "reference_module.py", exercise=SMALL_SPEC, data=mnist_path, seed=7)
    assert a.extra_data.seed == b.extra_data.seed == 7
    assert [e.accuracy for e in a.extra_data.history] == [e.accuracy for e in b.extra_data.history]


def test_a_diverged_experiment_is_recorded_not_refused(mnist_path: Path) -> None:
    report = _grade(FIXTURES / "diverged_first_experiment.py", mnist_path)
    assert report.extra_data.fit_calls == 2 and report.extra_data.graded_fit == 2
    assert report.extra_data.status == "passed"
