"""Infer, in the grading process, how the student preprocessed the training images.

The run saves the first rows of what was passed to ``fit``; comparing them with the raw images says whether
the inputs are ``scale * raw + offset`` reshaped (``/255``, ``(x - mean) / std``...). The same transform is
then applied to the test images. When no such transform fits, grading says so instead of guessing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_SAMPLE_BYTES = 64 * 1024 * 1024
SAMPLE_ROWS = 256  # rows of the training inputs the run saves for this inference


# Relative tolerance of the affine fit, by the dtype the student trained on: half-precision inputs are rounded.
TOLERANCE = {"bfloat16": 8e-3, "float16": 2e-3}
# /255, raw, [-1, 1]: tried before the least-squares fit so that rounded inputs still read as what the student wrote.
ROUND_SCALINGS = ((1 / 255, 0.0), (1.0, 0.0), (2 / 255, -1.0))
MIN_MATCHED = 0.95  # share of sample rows that must be raw images (shuffled, filtered: yes; augmented: no)


@dataclass(frozen=True)
class Preprocessing:
    reshape: tuple[int, ...]
    scale: float
    offset: float
    source: str = ""  # where the sample came from, when it was not the arrays passed to fit

    def describe(self) -> str:
        steps = [f"reshape to {self.reshape}"]
        if self.offset == 0 and self.scale != 1:
            divisor = 1 / self.scale
            steps.append(f"divide by {divisor:.6g}")
        elif self.scale != 0 and (self.scale != 1 or self.offset != 0):
            mean, std = -self.offset / self.scale, 1 / self.scale
            steps.append(f"subtract {mean:.6g}, divide by {std:.6g}")
        else:
            steps.append("raw pixel values 0-255")
        return ", ".join(steps) + (f" (inferred from {self.source})" if self.source else "")


class PreprocessingUnknown(Exception):
    """The inputs to fit are not an affine transform of the raw images."""


def load_sample(path: Path) -> np.ndarray:
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SAMPLE_BYTES:
        raise PreprocessingUnknown("the sample of the training inputs is missing or malformed")
    try:
        sample = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise PreprocessingUnknown(f"the sample of the training inputs cannot be read ({exc})") from exc
    if not isinstance(sample, np.ndarray) or sample.dtype.kind not in "biuf":
        raise PreprocessingUnknown("the sample of the training inputs is not an array of numbers")
    return sample


def spread_rows(n: int, rows: int) -> np.ndarray:
    """Which rows of an ``n``-row array the run samples: ``rows`` of them spread evenly from the first to the last,
    so a block of other images (the test set appended or prepended) cannot hide behind the first rows."""
    return np.unique(np.linspace(0, max(n - 1, 0), min(n, rows)).round().astype(np.int64))


def sampled_rows(kind: str, shape: list[int] | None) -> np.ndarray | None:
    """The rows of fit's inputs the run's sample holds: spread over arrays (``spread_rows``); None for datasets and
    generators, whose sample is the first examples they yielded. The run samples and the grader aligns by this."""
    return spread_rows(shape[0], SAMPLE_ROWS) if kind == "array" and shape else None


def infer(sample: np.ndarray, raw: np.ndarray, *, dtype: str | None = None, source: str | None = None,
          rows_of: np.ndarray | None = None) -> Preprocessing:
    """Fit ``sample = scale * raw + offset``: row by row when the data kept its order (``rows_of``: the rows of the
    arrays the sample was taken at, e.g. ``spread_rows``), else after matching each sample row to the raw image it
    came from (shuffled or filtered data, a shuffling tf.data pipeline)."""
    if sample.ndim < 2 or len(sample) == 0:
        raise PreprocessingUnknown("fit received no training examples" if sample.ndim >= 2 and len(sample) == 0 else
                                   f"the training inputs have shape {sample.shape}, not a batch of images")
    if int(np.prod(sample.shape[1:])) != int(np.prod(raw.shape[1:])):
        raise PreprocessingUnknown(
            f"the training inputs have shape {sample.shape[1:]} per example, which is not a reshaped "
            f"{raw.shape[1:]} image"
        )
    s = sample.reshape(len(sample), -1).astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise PreprocessingUnknown("the training inputs contain NaN or infinite values")
    rel = next((t for name, t in TOLERANCE.items() if name in (dtype or "")), 1e-3)
    if rows_of is not None and len(rows_of) == len(s) and len(rows_of) and int(rows_of.max()) < len(raw):
        aligned = raw[rows_of]
    else:
        aligned = raw[: min(len(s), len(raw))]
    rows = min(len(s), len(aligned))
    fitted = _affine(s[:rows], aligned[:rows].reshape(rows, -1).astype(np.float64), rel)
    matched = ""
    if fitted is None:
        x = _match(s, raw)
        keep = x[:, 0] >= 0
        fitted = _affine(s[keep], x[keep, 1:], rel) if keep.mean() >= MIN_MATCHED else None
        matched = f" (only {int(keep.sum())} of {len(s)} sampled inputs are training images)" if fitted is None else ""
    if fitted is None:
        raise PreprocessingUnknown(
            f"the training inputs are not a rescaling of the training images{matched}: augmented or generated "
            "images, another dataset, or other images mixed in; so the model cannot be measured as it was trained"
        )
    scale, offset = fitted
    return Preprocessing(reshape=tuple(int(d) for d in sample.shape[1:]), scale=_tidy(scale), offset=_tidy(offset),
                         source=source or "")


def _affine(s: np.ndarray, x: np.ndarray, rel: float) -> tuple[float, float] | None:
    """(scale, offset) with ``s = scale * x + offset`` everywhere within tolerance, or None."""
    if s.size == 0:
        return None
    xs, ss = x.ravel(), s.ravel()
    tolerance = rel * max(1.0, float(np.max(np.abs(ss))))
    fitted = np.polyfit(xs, ss, 1) if np.ptp(xs) > 0 else (0.0, float(np.mean(ss)))
    # The usual scalings, when they fit as well: a least-squares fit on rounded (bfloat16) inputs lands near them.
    for scale, offset in (*ROUND_SCALINGS, fitted):
        if np.max(np.abs(scale * xs + offset - ss)) <= tolerance:
            return float(scale), float(offset)
    return None


def _mask_key(mask: np.ndarray) -> bytes:
    return np.packbits(mask).tobytes()


def _match(s: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """For each sample row, ``[index, *raw pixels]`` of the raw image with the same blank pixels (-1: none).

    An affine rescaling maps every blank (0) pixel to one value, the row's most common one, so the pattern of
    non-blank pixels identifies the source image whatever the scale, offset and order.
    """
    flat = raw.reshape(len(raw), -1)
    index: dict[bytes, int] = {}
    for i, key in enumerate(map(_mask_key, flat != 0)):
        index.setdefault(key, i)
    out = np.full((len(s), 1 + flat.shape[1]), -1.0)
    for r, row in enumerate(s):
        values, counts = np.unique(row, return_counts=True)
        found = index.get(_mask_key(row != values[np.argmax(counts)]))
        if found is not None:
            out[r, 0], out[r, 1:] = found, flat[found]
    return out


def _tidy(value: float) -> float:
    """Snap values within float32 noise to round ones, so /255 reads as 1/255 in the report."""
    for candidate in (0.0, 1.0, 1 / 255, -1.0, 2 / 255):
        if abs(value - candidate) < 1e-6:
            return candidate
    return float(value)
