import numpy as np
import pytest

from grader.preprocessing import PreprocessingUnknown, infer


@pytest.fixture(scope="module")
def raw(mnist_path) -> np.ndarray:
    with np.load(mnist_path) as f:
        return f["x_train"][:64]


def test_divide_by_255_with_channel_axis(raw: np.ndarray) -> None:
    p = infer((raw.reshape(-1, 28, 28, 1) / 255.0).astype(np.float32), raw)
    assert p.reshape == (28, 28, 1) and p.scale == 1 / 255 and p.offset == 0
    assert p.describe() == "reshape to (28, 28, 1), divide by 255"


def test_standardisation(raw: np.ndarray) -> None:
    mean, std = 33.3, 78.6
    p = infer(((raw - mean) / std).astype(np.float32), raw)
    assert p.scale == pytest.approx(1 / std, rel=1e-4) and p.offset == pytest.approx(-mean / std, rel=1e-4)
    assert "subtract 33.3, divide by 78.6" in p.describe()


def test_raw_pixels(raw: np.ndarray) -> None:
    p = infer(raw.astype(np.float32), raw)
    assert (p.scale, p.offset) == (1.0, 0.0)


def test_shuffled_inputs_cannot_be_inferred(raw: np.ndarray) -> None:
    with pytest.raises(PreprocessingUnknown, match="original order"):
        infer((raw[::-1] / 255.0).astype(np.float32), raw)


def test_wrong_size_cannot_be_inferred(raw: np.ndarray) -> None:
    with pytest.raises(PreprocessingUnknown, match="not a reshaped"):
        infer(np.zeros((64, 32, 32), np.float32), raw)
