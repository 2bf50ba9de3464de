"""The measurement's one pass over the test set: the accuracy a grade rests on, and the confusion matrix beside it."""
from __future__ import annotations

import numpy as np

from grader.measure.graph import tally
from grader.protocol import MeasureJob


def _job() -> MeasureJob:
    return MeasureJob(model_dir="unused", data_path="unused", reshape=[28, 28, 1], scale=1 / 255, offset=0.0)


def test_predictions_outside_the_ten_classes_count_as_wrong() -> None:
    """A model with an 11th output that answers it on the rows it would get wrong: those rows have no cell in
    the confusion matrix, but they must stay in the accuracy's denominator (else the accuracy reads 1.0)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    y = np.arange(300) % 10
    answers = np.where(np.arange(300) % 3 == 0, 10, y)  # a third answered with class 10

    def predict(batch: np.ndarray) -> np.ndarray:
        start = predict.seen  # type: ignore[attr-defined]
        predict.seen += len(batch)  # type: ignore[attr-defined]
        return np.eye(11, dtype=np.float32)[answers[start:start + len(batch)]]

    predict.seen = 0  # type: ignore[attr-defined]
    result = tally(predict, x, y, _job(), (28, 28, 1))
    assert result.accuracy == np.mean(answers == y) == 2 / 3
    assert int(result.confusion.sum()) == 200 and int(np.trace(result.confusion)) == 200
    assert len(result.mistakes) == 24 and all(m.predicted == 10 for m in result.mistakes)
