"""Compare what one run computed with the grader's own reference, and name the slip when it is a known one."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.arrays import reference
from grader.arrays.runs import ImageRun
from grader.arrays.spec import ArraysSpec, Orientation

ORIENTATION_TEXT = {
    "lesson": "the lesson's orientation (filter[r][c] weights i[x+c-1, y+r-1])",
    "cross_correlation": "numpy's row/column orientation (filter[r][c] weights i[x+r-1, y+c-1])",
    "convolution": "the filter turned 180 degrees (a textbook convolution)",
}


NOTHING_SHOWN = "so nothing shows the convolution"
DEGENERATE_HINT = ("Use a filter with at least two non-zero values (e.g. the lesson's edge filter [[0, 1, 0], [1, -4, "
                   "1], [0, 1, 0]]) and a weight that keeps the results visible (the lesson uses 1 or 0.1).")


@dataclass(frozen=True)
class Inputs:
    kernel: np.ndarray  # 3x3 float64
    weight: float
    weight_note: str | None = None  # "weight was not defined: 1 was used"


def inputs(run: ImageRun, spec: ArraysSpec) -> tuple[Inputs | None, str | None]:
    """The student's filter and weight from the run, validated; or why they cannot be used."""
    kernel = run.arrays.get(spec.filter)
    if kernel is None:
        return None, f"'{spec.filter}' was not saved ({why_missing(run, spec.filter)})"
    if kernel.shape != (3, 3):
        return None, f"'{spec.filter}' must be 3x3 numbers; it has shape {list(kernel.shape)}"
    if not np.all(np.isfinite(kernel)):
        return None, f"'{spec.filter}' must hold finite numbers; it holds inf or nan"
    raw = run.arrays.get(spec.weight)
    if raw is None:
        missing = why_missing(run, spec.weight)
        if spec.default_weight is None or missing != "not defined":  # defined, but None, text, complex...
            return None, f"'{spec.weight}' was not saved ({missing})"
        given = Inputs(kernel.astype(np.float64), spec.default_weight,
                       f"'{spec.weight}' was not defined: {spec.default_weight:g} was used")
    elif raw.size != 1 or not np.isfinite(raw).all():
        return None, f"'{spec.weight}' must be one finite number; it has shape {list(raw.shape)}"
    else:
        given = Inputs(kernel.astype(np.float64), float(raw.reshape(-1)[0]))
    return (None, why) if (why := degenerate(run.image, given, spec)) else (given, None)


def degenerate(image: np.ndarray, given: Inputs, spec: ArraysSpec) -> str | None:
    """Why this filter and weight leave nothing to check, or None. An identity or shift filter (one non-zero
    tap), a weight of 0, or a weight so small that every clipped result is within the tolerance of one value,
    are passed by a copy of the image or a constant: then nothing shows that the loop computes a convolution."""
    taps = int(np.count_nonzero(given.kernel * given.weight))
    if taps < spec.min_taps:
        return (f"'{spec.filter}' times '{spec.weight}' has {taps} non-zero value(s): the result is the image "
                f"copied, shifted, scaled or blanked, {NOTHING_SHOWN}")
    response = np.clip(reference.correlate(image, given.kernel, given.weight, spec.orientations[0]), *spec.clip)
    if float(np.ptp(response)) <= 2 * spec.tolerance:
        return (f"with this '{spec.filter}' and '{spec.weight}' = {given.weight:g} every clipped result lies "
                f"between {response.min():.3g} and {response.max():.3g}: a constant image would pass, {NOTHING_SHOWN}")
    return None


def why_missing(run: ImageRun, name: str) -> str:
    if name in run.unreadable:
        return f"its file was unusable: {run.unreadable[name]}"
    saved = {s.name: s for s in (run.record.saved if run.record else [])}
    return (saved[name].problem or "unknown") if name in saved else "not defined"


def close(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Elementwise: within ``tol`` grey levels (a small float slack: truncation of x.0000001 is x)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(a.astype(np.float64) - b.astype(np.float64)) <= tol + 1e-6


@dataclass(frozen=True)
class Interior:
    """How the interior of ``i_transformed`` compares with the reference in one orientation."""

    orientation: Orientation
    unclipped_ok: bool  # right wherever clipping does not apply
    clipped_count: int  # pixels whose response is outside the clip range
    clipped_ok: bool  # those pixels hold the clip bounds
    example: str  # a wrong pixel, expected and got, when unclipped_ok is False


def interior(result: np.ndarray, image: np.ndarray, given: Inputs, orientation: Orientation,
             spec: ArraysSpec) -> Interior:
    response = reference.correlate(image, given.kernel, given.weight, orientation)
    low, high = spec.clip
    inside = (response >= low) & (response <= high)
    got = result[1:-1, 1:-1]
    ok = close(got, response, spec.tolerance)
    clipped_ok = close(got, np.clip(response, low, high), spec.tolerance)
    wrong = np.argwhere(inside & ~ok)
    example = ""
    if len(wrong):
        x, y = (int(v) + 1 for v in wrong[0])
        example = (f"{len(wrong)} of {int(inside.sum())} interior pixels differ, e.g. at [{x}, {y}] expected "
                   f"{response[x - 1, y - 1]:.6g}, got {float(got[x - 1, y - 1]):.6g}")
    return Interior(orientation, not len(wrong), int((~inside).sum()), bool(clipped_ok[~inside].all()), example)


def best(result: np.ndarray, image: np.ndarray, given: Inputs, spec: ArraysSpec) -> Interior:
    """The accepted orientation that fits best: right everywhere, else right where unclipped, else the first."""
    found = [interior(result, image, given, o, spec) for o in spec.orientations]
    return max(found, key=lambda f: (f.unclipped_ok and f.clipped_ok, f.unclipped_ok))


def whole(result: np.ndarray, image: np.ndarray, given: Inputs, spec: ArraysSpec) -> Orientation | None:
    """The accepted orientation in which ``result`` is right everywhere (interior, clipping, margin), or None."""
    if result.shape != image.shape:
        return None
    for o in spec.orientations:
        if close(result, reference.transform(image, given.kernel, given.weight, o, spec.clip), spec.tolerance).all():
            return o
    return None


def slip(result: np.ndarray, image: np.ndarray, given: Inputs, spec: ArraysSpec) -> str | None:
    """Which known slip produces ``result``'s interior, in words with the fix, or None."""
    def matches(candidate: np.ndarray) -> bool:
        return bool(close(result[1:-1, 1:-1], candidate[1:-1, 1:-1], spec.tolerance).all())

    if matches(image):
        return ("i_transformed is the image unchanged: the convolution loop never wrote into it. Loop over every "
                "interior pixel and assign i_transformed[x, y] = convolution.")

    for o in spec.orientations:
        right = reference.transform(image, given.kernel, given.weight, o, spec.clip)
        if matches(right.T):
            return ("rows and columns are swapped: the result is the right one transposed. Write each pixel's "
                    "result at the position it was computed for: i_transformed[x, y] for the pixel i[x, y].")
        if given.weight != 1 and matches(reference.transform(image, given.kernel, 1.0, o, spec.clip)):
            return "the weight is not applied: multiply each sum by weight before clipping it."
    for o in ("lesson", "cross_correlation", "convolution"):
        if o not in spec.orientations and matches(reference.transform(image, given.kernel, given.weight, o, spec.clip)):
            return (f"the filter is applied as {ORIENTATION_TEXT[o]}; this exercise accepts "
                    + " or ".join(ORIENTATION_TEXT[a] for a in spec.orientations) + ".")
    return None


def pooling_slip(pooled: np.ndarray, base: np.ndarray, image: np.ndarray, spec: ArraysSpec) -> str | None:
    """Which known pooling slip gives ``pooled`` (already of the right shape), in words with the fix, or None."""
    size = spec.pool_size
    rows, cols = pooled.shape

    def matches(candidate: np.ndarray) -> bool:
        return candidate.shape[0] >= rows and candidate.shape[1] >= cols and bool(
            close(pooled, candidate[:rows, :cols], spec.tolerance).all())

    if not pooled.any():
        return "newImage is all zeros: the pooling loop never wrote into it (newImage[int(x/2), int(y/2)] = ...)."
    if matches(reference.max_pool(base, size, 1)):
        return (f"the pooling windows overlap: the loops step by 1. Step by {size} (range(0, size_x, {size})) so "
                f"that each {size}x{size} block is pooled once.")
    if matches(reference.max_pool(base, size, size).T):
        return "rows and columns are swapped: newImage[x // 2, y // 2] takes the block at i_transformed[x, y]."
    if matches(reference.max_pool(image.astype(np.float64), size, size)):
        return "the original image was pooled: pool i_transformed, the result of the convolution."
    blocks = base[:rows * size, :cols * size].reshape(rows, size, cols, size)
    if matches(blocks.mean(axis=(1, 3))):
        return "this is average pooling: take the largest of the block's pixels, not their mean."
    if matches(blocks.min(axis=(1, 3))):
        return "this takes the smallest pixel: sort in reverse (pixels.sort(reverse=True)) and keep pixels[0]."
    return None
