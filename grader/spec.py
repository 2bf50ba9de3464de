"""The exercise spec: a TOML file validated by frozen pydantic models.

An exercise is data, not code: ``exercises/<id>/exercise.toml`` says what to train on, which layers are allowed
(exact counts or ranges per kind), what the goal is (which metric, which direction, which threshold, within how
many epochs), whether a stopping callback and a message are required, and how many points each check is worth.
The checks an exercise has follow from these rules (``ExerciseSpec.check_ids``): no check is a branch on the id.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader.arrays.spec import ARRAYS_CHECKS, ArraysSpec
from grader.errors import SpecError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetSpec(_Frozen):
    name: Literal["mnist", "fashion_mnist"] = "mnist"
    # Slices of the real data, for fast tests and demos; None means the whole split.
    train_limit: int | None = Field(default=None, gt=0)
    test_limit: int | None = Field(default=None, gt=0)

    @property
    def title(self) -> str:
        return {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}[self.name]


class Count(_Frozen):
    """How many layers of a kind: ``2`` in TOML means exactly two, ``{ min = 1, max = 3 }`` a range."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Count:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (or a plain number for an exact count)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self

    @property
    def exact(self) -> int | None:
        return self.min if self.min == self.max else None

    def allows(self, n: int) -> bool:
        return (self.min is None or n >= self.min) and (self.max is None or n <= self.max)

    def describe(self) -> str:
        if self.exact is not None:
            return f"exactly {self.exact}"
        if self.max is None:
            return f"at least {self.min}"
        return f"at most {self.max}" if not self.min else f"{self.min} to {self.max}"


# Layer kinds a rule may count; grader/architecture.py says which Keras classes belong to each.
LayerKind = Literal["convolutions", "max_pooling_2d", "pooling", "dense", "dropout", "batch_normalization"]


def _one_conv_one_pool() -> dict[LayerKind, Count]:
    return {"convolutions": Count(min=1, max=1), "max_pooling_2d": Count(min=1, max=1)}


class ArchitectureSpec(_Frozen):
    # Kinds not listed are not restricted.
    layers: dict[LayerKind, Count] = Field(default_factory=lambda: _one_conv_one_pool())
    # Accepted input shapes without the batch axis, e.g. [[28, 28], [28, 28, 1]].
    input_shapes: tuple[tuple[Annotated[int, Field(gt=0)], ...], ...] = Field(default=((28, 28), (28, 28, 1)),
                                                                             min_length=1)
    outputs: int = Field(default=10, gt=0)

    @field_validator("layers", mode="before")
    @classmethod
    def _exact_counts(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"min": v, "max": v} if isinstance(v, int) and not isinstance(v, bool) else v)
                    for k, v in value.items()}
        return value

    def count(self, kind: LayerKind) -> Count | None:
        return self.layers.get(kind)


GoalMetric = Literal["train_accuracy", "train_loss", "test_accuracy"]
METRIC_WORDS: dict[str, str] = {"train_accuracy": "training accuracy", "train_loss": "training loss",
                                "test_accuracy": "test accuracy"}


class GoalSpec(_Frozen):
    """What training must reach. A logged metric (training accuracy or loss) must pass the threshold strictly
    (the lesson's ``logs.get('accuracy') > 0.998``) at some epoch within the budget; the re-measured test
    accuracy must reach it (``>=``)."""

    metric: GoalMetric = "train_accuracy"
    direction: Literal["above", "below"] = "above"
    threshold: float = Field(default=0.998, gt=0)
    epoch_budget: int = Field(default=20, gt=0, le=1000)
    # A callback must stop training at the first epoch that meets the goal, printing ``message`` when set.
    stop_callback: bool = True
    message: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> GoalSpec:
        if self.metric != "train_loss" and self.threshold > 1:
            raise ValueError(f"an accuracy threshold is at most 1 (got {self.threshold})")
        if self.metric != "train_loss" and self.direction != "above":
            raise ValueError("an accuracy goal is 'above' its threshold")
        if self.metric == "train_loss" and self.direction != "below":
            # direction defaults to "above": without this, metric = "train_loss" alone would pass at the first epoch
            raise ValueError('a loss goal is \'below\' its threshold: set direction = "below"')
        if self.metric == "train_accuracy" and self.threshold >= 1:
            raise ValueError(f"training accuracy must pass the threshold strictly, so {self.threshold:g} can never "
                             "be reached: give a threshold below 1")
        if self.stop_callback and self.metric == "test_accuracy":
            raise ValueError("a stopping callback sees logged training metrics: it needs metric train_accuracy or "
                             "train_loss")
        if self.message is not None and not self.stop_callback:
            raise ValueError("a message is printed when the callback stops training: set stop_callback = true, or "
                             "remove message")
        return self

    @property
    def logged(self) -> bool:
        """The goal is a metric Keras logs each epoch (not the re-measured test accuracy)."""
        return self.metric != "test_accuracy"

    def describe(self) -> str:
        sign = (">" if self.direction == "above" else "<") if self.logged else ">="
        return f"{METRIC_WORDS[self.metric]} {sign} {self.threshold:g}"

    def met(self, value: float) -> bool:
        if not self.logged:
            return value >= self.threshold
        return value > self.threshold if self.direction == "above" else value < self.threshold


class MeasuredSpec(_Frozen):
    """Floors on what the grader re-measures from the exported model (None: not a check of this exercise,
    unless the goal itself is that metric)."""

    # The accuracy Keras logs for an epoch is a running mean while the weights still move; the model
    # re-measured on the whole training set lands a little lower or higher, so the floor sits below the goal.
    min_train_accuracy: float | None = Field(default=None, gt=0, le=1)
    min_test_accuracy: float | None = Field(default=None, ge=0, le=1)


class TrainingSpec(_Frozen):
    # Course copies of the lesson read logs.get('acc'), which TensorFlow 2 logs as 'accuracy': under this option
    # callbacks see both names, and the report says so.
    legacy_metric_names: bool = False


class LimitsSpec(_Frozen):
    timeout_s: float = Field(default=1200, gt=0)
    cell_timeout_s: float = Field(default=900, gt=0)
    memory_mb: int = Field(default=8192, gt=0)
    max_processes: int = Field(default=256, gt=0)
    disk_mb: int = Field(default=1024, gt=0)
    output_bytes: int = Field(default=2_000_000, gt=0)


# Points of a check the spec does not price.
DEFAULT_POINTS: dict[str, float] = {"ran": 1, "architecture": 2, "budget": 1, "stopped": 2, "message": 1,
                                    "train_accuracy": 2, "test_accuracy": 1}


class ExerciseSpec(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(min_length=1)
    title: str
    entry_point: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    dataset: DatasetSpec = DatasetSpec()
    architecture: ArchitectureSpec = ArchitectureSpec()
    goal: GoalSpec = GoalSpec()
    measured: MeasuredSpec = MeasuredSpec()
    training: TrainingSpec = TrainingSpec()
    limits: LimitsSpec = LimitsSpec()
    points: dict[str, float] = Field(default_factory=dict)
    # "training": the code trains a model (the rules above); "arrays": the code computes arrays ([arrays]), and
    # the training rules do not apply.
    kind: Literal["training", "arrays"] = "training"
    arrays: ArraysSpec | None = None

    @property
    def train_accuracy_floor(self) -> float | None:
        if self.measured.min_train_accuracy is not None:
            return self.measured.min_train_accuracy
        return self.goal.threshold if self.goal.metric == "train_accuracy" else None

    @property
    def test_accuracy_floor(self) -> float | None:
        if self.goal.metric == "test_accuracy":
            return max(self.goal.threshold, self.measured.min_test_accuracy or 0.0)
        return self.measured.min_test_accuracy

    @property
    def check_ids(self) -> tuple[str, ...]:
        """The checks this exercise has, in the order they are reported: each follows from a rule."""
        if self.kind == "arrays":
            return ARRAYS_CHECKS
        ids = ["ran", "architecture", "budget"]
        ids += ["stopped"] if self.goal.stop_callback else []
        ids += ["message"] if self.goal.message is not None else []
        ids += ["train_accuracy"] if self.train_accuracy_floor is not None else []
        ids += ["test_accuracy"] if self.test_accuracy_floor is not None else []
        return tuple(ids)

    def points_for(self, check: str) -> float:
        return float(self.points.get(check, DEFAULT_POINTS.get(check, 1.0)))

    @property
    def max_points(self) -> float:
        return float(sum(self.points_for(c) for c in self.check_ids))

    @model_validator(mode="after")
    def _kind_matches(self) -> ExerciseSpec:
        if (self.arrays is not None) != (self.kind == "arrays"):
            raise ValueError('[arrays] is required when kind = "arrays", and only then')
        return self

    @model_validator(mode="after")
    def _priced_checks_exist(self) -> ExerciseSpec:
        unknown = sorted(set(self.points) - set(self.check_ids))
        if unknown:
            raise ValueError(f"points for {', '.join(unknown)}: not a check of this exercise (its checks: "
                             f"{', '.join(self.check_ids)})")
        negative = sorted(k for k, v in self.points.items() if not 0 <= v < float("inf"))
        if negative:
            raise ValueError(f"points for {', '.join(negative)} must be a number, 0 or more")
        return self


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
