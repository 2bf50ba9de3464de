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


def test_journey_of_a_model_that_resizes_first_stays_small() -> None:
    """Resizing to 160 x 160 before the convolution: 3 images x 8 maps of 158 x 158 would be about 2 MB in the
    measurement file (read capped at 1 MiB: the accuracy checks would be lost for a picture). Sampled to 64 a side."""
    import tensorflow as tf

    from grader.measure.__main__ import JOURNEY_BYTES
    from grader.measure.journey import MAX_SIDE, journey

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((28, 28, 1)), tf.keras.layers.Resizing(160, 160),
                                 tf.keras.layers.Conv2D(8, 3, activation="relu"), tf.keras.layers.MaxPooling2D(),
                                 tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])
    fn = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec([None, 28, 28, 1], tf.float32))
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    found = journey(fn, images, [0, 1, 2])
    assert found is not None and len(found.conv_maps) == 3 and len(found.conv_maps[0]) == 8
    conv_sides = {(len(m), len(m[0])) for maps in found.conv_maps for m in maps}
    pool_sides = {(len(m), len(m[0])) for maps in found.pool_maps for m in maps}
    assert conv_sides == {(53, 53)} and pool_sides == {(40, 40)} and max(*conv_sides, *pool_sides)[0] <= MAX_SIDE
    assert len(found.model_dump_json()) < JOURNEY_BYTES
