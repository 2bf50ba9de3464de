"""What the homemade-convolution report shows: for each image the grader served, the image, the student's
``i_transformed``, the grader's own result from the same filter and weight, and where they differ.

Computed in the grading process from the arrays the run saved (read with size caps, numbers only) and the
grader's reference; rendered as one mosaic PNG per image, downsampled to half size to keep reports small.
"""
from __future__ import annotations

import numpy as np

from grader.arrays import judge, reference
from grader.arrays.runs import ImageRun
from grader.arrays.spec import ArraysSpec
from grader.feedback import ImagePanel

TILE = 256  # pixels per side of each tile (ascent is 512: every other pixel)


def _tile(values: np.ndarray) -> np.ndarray:
    step = max(1, values.shape[0] // TILE)
    return np.clip(np.nan_to_num(values.astype(np.float64)), 0, 255)[::step, ::step]


def _panel(run: ImageRun, rules: ArraysSpec) -> ImagePanel | None:
    from grader.html import charts  # matplotlib: only when a report is drawn

    result = run.arrays.get(rules.transformed)
    given, _ = judge.inputs(run, rules)
    if result is None or given is None or result.shape != run.image.shape:
        return None
    orientation = judge.best(result, run.image, given, rules).orientation
    expected = reference.transform(run.image, given.kernel, given.weight, orientation, rules.clip)
    difference = np.abs(result.astype(np.float64) - expected)
    # Fixed grey scale for the three pictures (0-255), so a dark result reads as dark; the difference is stretched.
    canvas = [_tile(run.image), _tile(result), _tile(expected)]
    mosaic = charts.tiles([*canvas, _tile(np.minimum(difference * 8, 255))], columns=4, scale=1, fixed_range=(0, 255))
    wrong = int((difference[1:-1, 1:-1] >= rules.tolerance).sum())
    alt = (f"{run.label}: the image, your {rules.transformed}, cnngrade's result from your filter and weight, and "
           f"their difference ({wrong} interior pixels differ by a grey level or more)")
    return ImagePanel(title=f"{run.label}: image, yours, expected, difference", alt=alt, png=charts.data_uri(mosaic))


def panels(runs: list[ImageRun], rules: ArraysSpec) -> list[ImagePanel]:
    """One panel per image the code ran on and left a usable result for; never raises (pictures only)."""
    out = []
    for run in runs:
        try:
            panel = _panel(run, rules)
        except Exception:  # a picture must never cost a grade
            panel = None
        if panel is not None:
            out.append(panel)
    return out
