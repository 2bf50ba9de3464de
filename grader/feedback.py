"""What the HTML report shows beyond the JSON report: facts the grader trusts, kept out of results.json.

The measurement's pictures (confusion matrix, misclassified test rows, the journey of an image) come from the
trusted measurement child; the test images themselves are read by the grader from the data file; the cells are
the grader's own reading of the submission; the output is what the sandbox's capped capture logged. Student text
in here is data: the HTML layer escapes it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from grader import artifacts
from grader.protocol import Measurement

OUTPUT_CHARS = 20_000  # the run's output shown in the report: its last characters


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class CellView(_Frozen):
    cell: int | None  # notebook cell number (1-based, as in the report's errors); None for a module
    source: str
    output: str = ""  # what the cell printed when the grader ran it (the run's record; display only)


# The classes' names, for the pictures of the test set (MNIST's classes are the digits themselves).
CLASS_NAMES: dict[str, list[str]] = {
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}


class ImagePanel(_Frozen):
    """A picture the grader drew from arrays it trusts (the homemade convolution's image, result, reference)."""

    title: str
    alt: str
    png: str  # data:image/png;base64,... made by the grading process


class Feedback(_Frozen):
    kind: Literal["notebook", "module"] = "notebook"
    cells: list[CellView] = Field(default_factory=list)
    output: str = ""  # the tail of the run's stdout and stderr as the sandbox captured them
    entry_point_output: str = ""  # what the exercise's entry point printed, called after a notebook's cells
    measurement: Measurement | None = None
    test_images: dict[int, list[list[int]]] = Field(default_factory=dict)  # test row -> 28 x 28 pixels, 0-255
    panels: list[ImagePanel] = Field(default_factory=list)
    class_names: list[str] = Field(default_factory=list)  # empty: the class numbers are their names (digits)

    def label(self, index: int) -> str:
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)


def run_output(scratch: Path) -> str:
    """The end of what the run printed (stdout, then stderr), as the sandbox wrote it to its capped logs."""
    parts = []
    for name in ("stdout.log", "stderr.log"):
        text = artifacts.tail(scratch / name, OUTPUT_CHARS)
        if text.strip():
            parts.append(text)
    return "\n".join(parts)[-OUTPUT_CHARS:]


def test_images(data_path: Path, measurement: Measurement | None, test_limit: int | None) -> dict[int, list[list[int]]]:
    """The raw test images the report shows (misclassified rows and the journey's), read from the data."""
    if measurement is None:
        return {}
    rows = {m.index for m in measurement.misclassified} | set(measurement.journey.images if measurement.journey else [])
    if not rows:
        return {}
    try:
        with np.load(data_path, allow_pickle=False) as data:
            x_test = data["x_test"][:test_limit]
        return {r: x_test[r].reshape(28, 28).astype(int).tolist() for r in sorted(rows) if 0 <= r < len(x_test)}
    except (OSError, ValueError, KeyError):
        return {}
