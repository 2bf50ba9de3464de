"""The rules of an arrays exercise, as data in ``[arrays]`` of its exercise.toml."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# How a 3x3 filter may be laid over the image, for the result at (x, y):
#   lesson            filter[r][c] weights i[x+c-1, y+r-1]  (the article's loop: the filter read transposed)
#   cross_correlation filter[r][c] weights i[x+r-1, y+c-1]  (numpy row/column order, scipy.signal.correlate2d)
#   convolution       the filter turned 180 degrees        (the textbook convolution, scipy.signal.convolve2d)
Orientation = Literal["lesson", "cross_correlation", "convolution"]


class ArraysSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    image: Literal["ascent"] = "ascent"
    image_size: tuple[int, int] = (512, 512)
    # The names the run must leave behind: at top level, or in the one zero-argument function the code defines.
    transformed: str = Field(default="i_transformed", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    pooled: str = Field(default="newImage", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    filter: str = Field(default="filter", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    weight: str = Field(default="weight", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # Used when the code never defines the weight (the lesson sets weight = 1).
    default_weight: float | None = 1.0
    pool_size: int = Field(default=2, ge=1, le=8)
    margin: Literal[1] = 1  # the 3x3 filter leaves one pixel; recorded so the rule is read in the spec
    clip: tuple[float, float] = (0.0, 255.0)
    # Assigning a float into the integer copy of the image truncates: a result within this many grey levels of
    # the exact value is right.
    tolerance: float = Field(default=1.0, gt=0, le=8)
    orientations: tuple[Orientation, ...] = ("lesson", "cross_correlation")
    # A filter times weight with fewer non-zero values than this (identity, shift, zero) is passed by a copy of
    # the image or a constant, so it shows no convolution and is refused.
    min_taps: int = Field(default=2, ge=1, le=9)
    # Caps on what the grading process reads back from the run.
    max_array_bytes: int = Field(default=16 << 20, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> ArraysSpec:
        if not self.orientations:
            raise ValueError("orientations must name at least one accepted orientation")
        if self.clip[0] >= self.clip[1]:
            raise ValueError("clip must be [low, high] with low < high")
        if any(s <= 2 * self.margin or s % self.pool_size for s in self.image_size):
            raise ValueError("image_size must exceed twice the margin and be a multiple of pool_size")
        return self

    @property
    def names(self) -> tuple[str, str, str, str]:
        return (self.transformed, self.pooled, self.filter, self.weight)

    @property
    def pooled_size(self) -> tuple[int, int]:
        return (self.image_size[0] // self.pool_size, self.image_size[1] // self.pool_size)


ARRAYS_CHECKS = ("ran", "convolution", "margin", "clipping", "hidden_image", "pooling_shape", "pooling_values")
