"""The exercise spec: a TOML file validated by frozen pydantic models.

An exercise is data, not code: ``exercises/<id>/exercise.toml`` says what to train on, which architecture is
allowed, which thresholds decide each check and how many points each check is worth.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.arrays.spec import ARRAYS_CHECKS, ArraysSpec
from grader.errors import SpecError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetSpec(_Frozen):
    name: Literal["mnist"] = "mnist"
    # Slices of the real data, for fast tests and demos; None means the whole split.
    train_limit: int | None = Field(default=None, gt=0)
    test_limit: int | None = Field(default=None, gt=0)


class TrainingSpec(_Frozen):
    epoch_budget: int = Field(default=20, gt=0, le=1000)
    metric: str = "accuracy"
    threshold: float = Field(default=0.998, gt=0, le=1)
    message: str = Field(default="Reached 99.8% accuracy so cancelling training!", min_length=1)
    min_train_accuracy: float | None = Field(default=None, gt=0, le=1)
    min_test_accuracy: float = Field(default=0.98, ge=0, le=1)

    @property
    def train_accuracy_floor(self) -> float:
        return self.threshold if self.min_train_accuracy is None else self.min_train_accuracy


class ArchitectureSpec(_Frozen):
    convolutions: int = Field(default=1, ge=0)
    max_pooling_2d: int = Field(default=1, ge=0)
    # Accepted input shapes without the batch axis, e.g. [[28, 28], [28, 28, 1]].
    input_shapes: tuple[tuple[int, ...], ...] = ((28, 28), (28, 28, 1))
    outputs: int = Field(default=10, gt=0)


class LimitsSpec(_Frozen):
    timeout_s: float = Field(default=1200, gt=0)
    cell_timeout_s: float = Field(default=900, gt=0)
    memory_mb: int = Field(default=8192, gt=0)
    max_processes: int = Field(default=256, gt=0)
    disk_mb: int = Field(default=1024, gt=0)
    output_bytes: int = Field(default=2_000_000, gt=0)


# Check id -> points. The training checks' defaults; an arrays exercise names its own checks.
TRAINING_POINTS = {"ran": 1.0, "architecture": 2.0, "budget": 1.0, "stopped": 2.0, "message": 1.0,
                   "train_accuracy": 2.0, "test_accuracy": 1.0}


class ExerciseSpec(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(min_length=1)
    title: str
    entry_point: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    dataset: DatasetSpec = DatasetSpec()
    training: TrainingSpec = TrainingSpec()
    architecture: ArchitectureSpec = ArchitectureSpec()
    limits: LimitsSpec = LimitsSpec()
    points: dict[str, float] = Field(default_factory=lambda: dict(TRAINING_POINTS))
    # "training": the code trains a model (the checks above); "arrays": the code computes arrays ([arrays]).
    kind: Literal["training", "arrays"] = "training"
    arrays: ArraysSpec | None = None

    @model_validator(mode="after")
    def _floor_reachable(self) -> ExerciseSpec:
        if self.training.train_accuracy_floor > 1:
            raise ValueError("training.min_train_accuracy must be at most 1")
        return self

    @model_validator(mode="before")
    @classmethod
    def _training_defaults(cls, raw: object) -> object:
        # A training spec may list only the points it changes; an arrays spec lists all of its own.
        if isinstance(raw, dict) and raw.get("kind", "training") == "training" and isinstance(raw.get("points"), dict):
            return {**raw, "points": {**TRAINING_POINTS, **raw["points"]}}
        return raw

    @model_validator(mode="after")
    def _kind_matches(self) -> ExerciseSpec:
        if (self.arrays is not None) != (self.kind == "arrays"):
            raise ValueError('[arrays] is required when kind = "arrays", and only then')
        checks = ARRAYS_CHECKS if self.kind == "arrays" else tuple(TRAINING_POINTS)
        if set(self.points) != set(checks) or any(v < 0 for v in self.points.values()):
            raise ValueError(f"[points] must give each check a number >= 0, exactly: {', '.join(checks)}")
        return self

    @property
    def total_points(self) -> float:
        return float(sum(self.points.values()))


def _describe(err: ValidationError) -> str:
    lines = []
    for item in err.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {field}: {item['msg']}")
    return "\n".join(lines)


def parse_spec(text: str, *, source: str) -> ExerciseSpec:
    """Parse TOML text into a spec; errors name ``source`` and each bad field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return ExerciseSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{source}: invalid exercise spec:\n{_describe(exc)}") from exc


def load_spec(path: Path) -> ExerciseSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read exercise spec: {exc}") from exc
    return parse_spec(text, source=str(path))
