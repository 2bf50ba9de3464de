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


def test_shuffled_and_filtered_inputs_are_matched_to_their_images(raw: np.ndarray) -> None:
    p = infer((raw[::-1][::2] / 255.0).astype(np.float32), raw)
    assert p.scale == 1 / 255 and p.offset == 0


def test_augmented_inputs_cannot_be_inferred(raw: np.ndarray) -> None:
    shifted = np.roll(raw, 2, axis=2)
    with pytest.raises(PreprocessingUnknown, match="augmented"):
        infer((shifted / 255.0).astype(np.float32), raw)


def test_bfloat16_rounding_is_within_tolerance(raw: np.ndarray) -> None:
    import ml_dtypes

    sample = (raw.astype(ml_dtypes.bfloat16) / ml_dtypes.bfloat16(255)).astype(np.float32)
    with pytest.raises(PreprocessingUnknown):
        infer(sample, raw, dtype="float32")  # the float32 tolerance is below bfloat16's rounding
    assert infer(sample, raw, dtype="<dtype: 'bfloat16'>").scale == pytest.approx(1 / 255, rel=1e-2)


def test_empty_training_set_is_a_finding(raw: np.ndarray) -> None:
    with pytest.raises(PreprocessingUnknown, match="no training examples"):
        infer(np.zeros((0, 28, 28, 1), np.float32), raw)


@pytest.mark.parametrize("payload", ["strings", "npz", "pickle"])
def test_tampered_sample_files_are_findings(tmp_path, payload: str) -> None:
    from grader.preprocessing import load_sample

    path = tmp_path / "x_sample.npy"
    if payload == "strings":
        np.save(path, np.array(["a", "b"]))
    elif payload == "npz":
        np.savez(tmp_path / "x", a=np.zeros(3))
        (tmp_path / "x.npz").rename(path)
    else:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PreprocessingUnknown):
        load_sample(path)


def test_wrong_size_cannot_be_inferred(raw: np.ndarray) -> None:
    with pytest.raises(PreprocessingUnknown, match="not a reshaped"):
        infer(np.zeros((64, 32, 32), np.float32), raw)
