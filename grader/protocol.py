"""What crosses the sandbox wall: the job given to the run, and the records that come back.

Records from the student's process are untrusted: they are parsed with size limits into these strict models,
used for feedback, and never on their own to award points (see ``checks``).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.spec import ArchitectureSpec


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Unit(_Strict):
    cell: int | None
    source: str


class RunJob(_Strict):
    kind: Literal["notebook", "module"]
    submission_name: str
    units: list[Unit]
    data_path: str
    train_limit: int | None = None
    test_limit: int | None = None
    epoch_budget: int
    entry_point: str | None = None
    seed: int
    fail_fast: bool = True
    architecture: ArchitectureSpec
    output_bytes: int = 2_000_000
    epoch_output_bytes: int = 65_536


class CellError(_Strict):
    cell: int | None  # notebook cell number (1-based, counting all cells); None for a module or the entry point
    line: int | None
    where: str  # "cell 3", "line 12", "entry point train_mnist_conv()"
    type: str
    message: str
    traceback: str


class Skipped(_Strict):
    cell: int | None
    command: str
    reason: str


class LayerInfo(_Strict):
    class_name: str
    name: str


class StopEvent(_Strict):
    callback: str
    hook: str
    epoch: int  # 1-based epoch during which stop_training was set


class CallbackInfo(_Strict):
    class_name: str
    hooks: list[str]  # standard hooks the class overrides
    unknown_methods: list[str]  # on_* methods Keras never calls (misspelled hooks)
    logs_keys_read: list[str]


class EpochRecord(_Strict):
    epoch: int  # 1-based
    metrics: dict[str, float]
    seconds: float
    output: str = ""


class FitRecord(_Strict):
    index: int
    cell: int | None
    from_entry_point: bool = False
    epochs_asked: int | None
    epochs_allowed: int
    verbose_asked: str | None = None
    x_shape: list[int] | None = None
    x_dtype: str | None = None
    x_kind: str = "array"
    y_shape: list[int] | None = None
    loss: str | None = None
    model_class: str = ""
    layers: list[LayerInfo] = Field(default_factory=list)
    input_shape: list[int | None] | None = None
    output_shape: list[int | None] | None = None
    architecture_problems: list[str] = Field(default_factory=list)
    rejected: bool = False  # fail-fast: not trained because the architecture breaks the rules
    epochs: list[EpochRecord] = Field(default_factory=list)
    stops: list[StopEvent] = Field(default_factory=list)
    callbacks: list[CallbackInfo] = Field(default_factory=list)
    stop_training_at_end: bool = False
    error: str | None = None
    artifact: str | None = None  # folder under the scratch dir holding the exported model
    export_error: str | None = None
    sample_file: str | None = None


class RunRecord(_Strict):
    tensorflow_version: str = ""
    device: str = ""
    seed: int
    fits: list[FitRecord] = Field(default_factory=list)
    errors: list[CellError] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    entry_point_called: bool = False
    data_requests: list[str] = Field(default_factory=list)
    output_truncated: bool = False
    harness_intact: bool = True
    finished: bool = False


class MeasureJob(_Strict):
    model_dir: str
    data_path: str
    train_limit: int | None = None
    test_limit: int | None = None
    reshape: list[int]
    scale: float
    offset: float


class Measurement(_Strict):
    layer_classes: list[str] | None
    unverifiable_layers: list[str]
    input_shape: list[int | None] | None
    output_shape: list[int | None] | None
    conv_ops: int
    max_pool_ops: int
    forbidden_ops: list[str]
    train_accuracy: float | None
    test_accuracy: float | None
    error: str | None = None
    note: str | None = None
