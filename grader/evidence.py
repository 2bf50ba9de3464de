"""Everything known after a run, and the facts derived from it that several checks share."""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.metric_kinds import is_top1
from grader.preprocessing import Preprocessing
from grader.protocol import CellError, FitRecord, Measurement, RunRecord, StopEvent
from grader.sandbox import ChildResult
from grader.spec import ExerciseSpec
from grader.submission import Submission

# cnngrade's own refusals to train (fail-fast, a used-up budget): facts about training, not errors in the code.
REFUSALS = ("ArchitectureRejected", "BudgetExhausted")
# Logged accuracy is a running average over an epoch's batches; the model after the epoch re-measures close to
# it (within 0.01 on the reference runs). A larger drop means the record does not describe this model.
CONSISTENCY_TOLERANCE = 0.05
# Accuracy on the training sample when a fit starts above which the model was trained before (untrained: ~0.1).
PRETRAINED_ACCURACY = 0.5
ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")
TF1_NAMES = ("ConfigProto", "Session", "InteractiveSession", "GPUOptions", "placeholder", "enable_eager_execution",
             "get_default_graph", "reset_default_graph", "set_random_seed", "logging.set_verbosity")


def is_tf1_error(error: CellError) -> bool:
    """An AttributeError from a TensorFlow 1-only API, as course notebooks' first cells raise under TF 2."""
    return error.type == "AttributeError" and "tensorflow" in error.message and any(
        f"'{name}'" in error.message for name in TF1_NAMES)


@dataclass
class Evidence:
    spec: ExerciseSpec
    submission: Submission
    child: ChildResult | None = None
    record: RunRecord | None = None
    record_problem: str | None = None
    measurement: Measurement | None = None
    measurement_problem: str | None = None
    preprocessing: Preprocessing | None = None
    preprocessing_problem: str | None = None
    notes: list[str] = field(default_factory=list)
    # Set after the run by recognising each fit's training data (pipeline.choose_graded_fit): the fit graded, and
    # why, when it is not simply the last one.
    graded_index: int | None = None
    graded_reason: str | None = None
    # Set after the run too: why the graded model's earlier fit calls did not train on the exercise's training
    # images (the test images, another dataset), which makes its re-measured accuracy worthless.
    foreign_training: str | None = None

    @property
    def fit(self) -> FitRecord | None:
        """The graded fit: the last one whose training data is the exercise's dataset when that was recognised,
        else the last one the submission ran (the entry point's, when it was called).

        A later call that cnngrade refused because the model had used its whole epoch budget is not graded (it
        trained nothing); it fails the budget check instead (``budget_refusals``).
        """
        all_fits = self.record.fits if self.record else []
        if self.graded_index is not None:
            chosen = [f for f in all_fits if f.index == self.graded_index]
            if chosen:
                return chosen[0]
        fits = [f for f in all_fits if not f.budget_exhausted]
        return fits[-1] if fits else (all_fits[-1] if all_fits else None)

    @property
    def budget_refusals(self) -> list[FitRecord]:
        """Fit calls refused because earlier calls on the same model had used the whole epoch budget."""
        return [f for f in (self.record.fits if self.record else []) if f.budget_exhausted]

    @property
    def aborted(self) -> bool:
        """The graded fit was refused by the fail-fast architecture check."""
        return bool(self.fit and self.fit.rejected)

    @property
    def errors(self) -> list[CellError]:
        """Errors the student's code caused (not TensorFlow 1 leftovers, not cnngrade's own fail-fast stop)."""
        return [e for e in (self.record.errors if self.record else [])
                if not is_tf1_error(e) and e.type not in REFUSALS]

    @property
    def tf1_errors(self) -> list[CellError]:
        return [e for e in (self.record.errors if self.record else []) if is_tf1_error(e)]

    def _accuracy_keys(self) -> list[str]:
        fit = self.fit
        keys = set().union(*(e.metrics for e in fit.epochs)) if fit and fit.epochs else set()
        return [k for k in ACCURACY_KEYS if k in keys]

    @property
    def accuracy_key(self) -> str | None:
        """The logged key holding top-1 training accuracy, computed by a standard Keras accuracy metric.

        A metric merely *named* accuracy (a top-2 accuracy, a custom function) is not vouched for.
        """
        classes = self.fit.metric_classes if self.fit else {}
        return next((k for k in self._accuracy_keys() if k in classes and is_top1(classes[k])), None)

    @property
    def lookalike_metric(self) -> str | None:
        """'accuracy' is SparseTopKCategoricalAccuracy(k=2)... when the accuracy key is not top-1 accuracy."""
        if self.accuracy_key is not None or not self.fit:
            return None
        key = next(iter(self._accuracy_keys()), None)
        if key is None:
            return None
        what = self.fit.metric_classes.get(key, "a value no Keras metric computed (a custom train_step's return)")
        return f"the metric logged as '{key}' is {what}"

    def accuracies(self) -> list[float]:
        key = self.accuracy_key
        return [e.metrics.get(key, float("nan")) for e in self.fit.epochs] if self.fit and key else []

    @property
    def goal_key(self) -> str | None:
        """The logged key the goal is about: the top-1 accuracy key, or 'loss'; None for a re-measured goal."""
        goal = self.spec.goal
        if goal.metric == "train_accuracy":
            return self.accuracy_key
        if goal.metric == "train_loss":
            fit = self.fit
            return "loss" if fit and fit.epochs and "loss" in fit.epochs[-1].metrics else None
        return None

    def goal_values(self) -> list[float]:
        key = self.goal_key
        return [e.metrics.get(key, float("nan")) for e in self.fit.epochs] if self.fit and key else []

    @property
    def first_met(self) -> int | None:
        """1-based first epoch whose logged goal metric meets the goal (e.g. accuracy above 0.998)."""
        return next((i for i, v in enumerate(self.goal_values(), start=1) if self.spec.goal.met(v)), None)

    @property
    def stop(self) -> StopEvent | None:
        return self.fit.stops[0] if self.fit and self.fit.stops else None

    @property
    def untrusted_weights(self) -> str | None:
        """Why the graded model's accuracy cannot be credited to the graded training, or None: the model learned
        elsewhere first (earlier fit calls on other data, or training outside model.fit)."""
        if self.foreign_training:
            return self.foreign_training
        fit = self.fit
        if fit and fit.prior_epochs == 0 and fit.start_accuracy is not None and fit.start_accuracy > PRETRAINED_ACCURACY:
            return (f"the model already classified {fit.start_accuracy:.0%} of the training images correctly when "
                    "the graded fit started: it was trained outside model.fit, on data the grader never saw")
        return None

    @property
    def tampering(self) -> str | None:
        """Why the run's own record cannot be believed, or None.

        The record comes from inside the student's process; two things outside its reach vouch for it: the
        harness's fit must still be installed at the end, and the re-measured model must match the logged
        accuracy of its last epoch.
        """
        if self.record is not None and not self.record.harness_intact:
            return "the submission replaced cnngrade's interception of fit, so its training record cannot be trusted"
        accs, m = self.accuracies(), self.measurement
        if accs and m is not None and m.train_accuracy is not None and self.preprocessing is not None:
            if accs[-1] - m.train_accuracy > CONSISTENCY_TOLERANCE:
                return (f"the logged accuracy of the last epoch ({accs[-1]:.4f}) does not match the trained model, "
                        f"re-measured at {m.train_accuracy:.4f}: the training record was altered, or training "
                        "diverged at the end")
        return None

    def epoch_output(self, epoch: int) -> str:
        fit = self.fit
        return next((e.output for e in fit.epochs if e.epoch == epoch), "") if fit else ""
