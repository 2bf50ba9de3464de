"""HTML report pages rendered without a browser: what each kind of exercise shows (test_html.py opens them in one)."""
from __future__ import annotations

from pathlib import Path

from grader.api import problem_report
from grader.exercises import find_exercise
from grader.html.report_page import render_report
from grader.report import ImageFacts, Report


def test_an_arrays_report_shows_its_images_and_no_training() -> None:
    """The homemade convolution trains nothing: no 'Training' section with '0 of 0 epochs', its images instead,
    their student-reachable text (the results' origin) escaped."""
    spec, _ = find_exercise("homemade-convolution")
    report = problem_report(spec=spec, shown=str(Path("conv.py")), sha256="0" * 64, problem="stand-in")
    images = [ImageFacts(image="ascent", source="scipy.misc.ascent()", results_from="function <b>main</b>()",
                         transformed_shape=[512, 512], pooled_shape=[256, 256], orientation="the lesson's", run_s=2.4)]
    d = report.extra_data.model_copy(update={"images": images})
    page = render_report(Report.model_validate(report.model_copy(update={"extra_data": d}).model_dump()))
    assert "<h2>Training</h2>" not in page and "Epochs run" not in page
    assert '<table id="images">' in page and "512 x 512" in page and "256 x 256" in page
    assert "function &lt;b&gt;main&lt;/b&gt;()" in page and "<b>main" not in page


def test_fashion_classes_are_named_on_the_test_set_pictures() -> None:
    """Fashion-MNIST's confusion matrix and misclassified images name the garments, not class numbers."""
    from grader.feedback import CLASS_NAMES, Feedback
    from grader.protocol import Measurement, Misclassified

    spec, _ = find_exercise("fashion-mnist-conv")
    report = problem_report(spec=spec, shown="fashion.ipynb", sha256="0" * 64, problem="stand-in")
    confusion = [[10 if i == j else 0 for j in range(10)] for i in range(10)]
    confusion[9][7] = 1
    measurement = Measurement(layer_classes=None, input_shape=None, output_shape=None, conv_ops=2, max_pool_ops=2,
                              forbidden_ops=[], train_accuracy=None, test_accuracy=0.99, confusion=confusion,
                              misclassified=[Misclassified(index=3, true=9, predicted=7)])
    feedback = Feedback(measurement=measurement, test_images={3: [[0] * 28 for _ in range(28)]},
                        class_names=CLASS_NAMES["fashion_mnist"])
    page = render_report(report, feedback)
    assert "<th>Ankle boot</th>" in page and "<th>T-shirt/top</th>" in page
    assert "Test image 3: a Ankle boot, predicted Sneaker" in page
