"""What crosses the sandbox wall: the job given to the run, and the records that come back.

Records from the student's process are untrusted: they are parsed with size limits into these strict models,
used for feedback, and never on their own to award points (see ``checks``).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.spec import ArchitectureSpec


class _Strict(BaseModel):
    # NaN and infinity are facts (a diverged loss), written as JSON's NaN/Infinity constants, never as null.
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class Unit(_Strict):
    cell: int | None
    source: str


class RunJob(_Strict):
    kind: Literal["notebook", "module"]
    submission_name: str
    units: list[Unit]
    data_path: str  # the exercise's dataset
    datasets: dict[str, str] = Field(default_factory=dict)  # every dataset served to the run (name -> .npz)
    train_limit: int | None = None
    test_limit: int | None = None
    epoch_budget: int
    entry_point: str | None = None
    seed: int
    fail_fast: bool = True
    architecture: ArchitectureSpec
    legacy_metric_names: bool = False  # student callbacks also see TF1's names ('acc', 'val_acc')
    output_bytes: int = 2_000_000
    epoch_output_bytes: int = 65_536
    cell_output_bytes: int = 16_384  # per cell, for the HTML report's view of the notebook as the grader ran it
    # "arrays": run the code for the arrays it leaves behind (grader.harness.arrays), no TensorFlow.
    mode: Literal["training", "arrays"] = "training"
    arrays: ArraysJob | None = None


# --- arrays mode (the homemade convolution): what the run is given and what it says back ---

class ArraysJob(_Strict):
    image_file: str  # a plain .npy (uint8) served as scipy.misc.ascent() / scipy.datasets.ascent()
    names: list[str]  # results to save as results/<name>.npy
    max_array_bytes: int = 16 << 20


class SavedArray(_Strict):
    name: str
    saved: bool
    problem: str | None = None  # why it was not saved: missing, not numeric, too large...


class ArraysRecord(_Strict):
    errors: list[CellError] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    found_in: str | None = None  # "top level" or "function main()": where the results were taken from
    saved: list[SavedArray] = Field(default_factory=list)
    image_requests: list[str] = Field(default_factory=list)  # how the code asked for the image
    finished: bool = False


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
    per_example: list[int] | None = None  # shape of one training example in the sample
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
    sample_source: str | None = None  # "the arrays passed to fit", "the first 8 batches the tf.data dataset yielded"
    sample_problem: str | None = None  # why no sample of the training inputs could be taken
    # The epoch budget counts a model's training across fit calls: epochs this model trained in earlier calls.
    prior_epochs: int = 0
    prior_fits: list[int] = Field(default_factory=list)  # the earlier fit calls whose training this model carries
    model_key: int = 0  # which model this fit trained (1, 2...): refusals count against their own model only
    # Accuracy on the sampled training rows when the fit started: an untrained model is near 0.1.
    start_accuracy: float | None = None
    budget_exhausted: bool = False  # not trained: earlier fit calls on this model used the whole budget
    # Logged metric name -> what computes it ("SparseCategoricalAccuracy", "MeanMetricWrapper(mymodule.acc)").
    metric_classes: dict[str, str] = Field(default_factory=dict)


class CellOutput(_Strict):
    """What a notebook cell printed while the grader ran it (head and tail within the cap): display only."""

    cell: int  # notebook cell number; 0 for the exercise's entry point called after the cells
    text: str


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
    cell_outputs: list[CellOutput] = Field(default_factory=list)
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
    measure_accuracy: bool = True  # False when the preprocessing is unknown: accuracies would mean nothing
    journey_images: int = 0  # test images traced through the first convolution and pooling for the HTML report


class Misclassified(_Strict):
    index: int  # row of the (sliced) test set: the grader reads the image itself from the data
    true: int
    predicted: int


class Journey(_Strict):
    """Computed in the measurement child from the exported graph (see ``grader.measure.journey``)."""

    filters: list[list[list[float]]]  # per filter, kh x kw weights of the first input channel
    images: list[int]  # test rows shown
    conv_maps: list[list[list[list[int]]]]  # per image, per channel: H x W, 0-255, after the conv's activation
    pool_maps: list[list[list[list[int]]]] = Field(default_factory=list)  # the same after the first max pooling


class Measurement(_Strict):
    layer_classes: list[str] | None
    feature_layers: list[str] = Field(default_factory=list)  # Lambda/custom layers that compute features
    input_shape: list[int | None] | None
    output_shape: list[int | None] | None
    conv_ops: int | None
    max_pool_ops: int | None
    forbidden_ops: list[str]
    train_accuracy: float | None
    test_accuracy: float | None
    error: str | None = None
    note: str | None = None
    # For the HTML report, from the same pass as test_accuracy: confusion[true][predicted] counts, the first
    # misclassified test rows, and the journey of a few test images through the first convolution and pooling.
    confusion: list[list[int]] | None = None
    misclassified: list[Misclassified] = Field(default_factory=list)
    journey: Journey | None = None
    journey_problem: str | None = None
    # "structure" is written before the accuracy run; a measurement left in that phase ended mid-run.
    phase: Literal["structure", "complete"] = "complete"

    @classmethod
    def empty(cls, *, layer_classes: list[str] | None, note: str | None, error: str) -> Measurement:
        return cls(layer_classes=layer_classes, input_shape=None, output_shape=None, conv_ops=None, max_pool_ops=None,
                   forbidden_ops=[], train_accuracy=None, test_accuracy=None, error=error, note=note)
RunJob.model_rebuild()
