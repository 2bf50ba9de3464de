"""Take a sample of what ``fit`` trains on, whatever the student passed: arrays, a tf.data dataset, a Python
generator or a Keras ``PyDataset``. The grading process infers the preprocessing from it (``preprocessing.py``).

Datasets are sampled by iterating a fresh ``take`` of them (the student's pipeline is not consumed); a
generator is consumed for a few batches, which are put back in front of it before ``fit`` sees it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.preprocessing import SAMPLE_ROWS, sampled_rows, spread_rows

MAX_BATCHES = 64


@dataclass
class Sample:
    x: Any  # what fit must be given (a generator is replaced by one that yields the peeked batches first)
    kind: str
    shape: list[int] | None = None  # the whole array's shape (arrays only)
    dtype: str | None = None
    file: str | None = None
    source: str | None = None
    problem: str | None = None
    y_shape: list[int] | None = None
    rows: np.ndarray | None = None  # the sampled inputs as saved (float32), kept for the checks made in the run
    labels: np.ndarray | None = None  # class indices of the sampled rows, when fit was given labels

    @property
    def rows_of(self) -> np.ndarray | None:
        """The rows of the arrays passed to fit that the sample holds (None: the first rows a dataset yielded)."""
        return sampled_rows(self.kind, self.shape)

    @property
    def per_example(self) -> list[int] | None:
        return [int(d) for d in self.rows.shape[1:]] if self.rows is not None else None


def _label_indices(labels: Any, rows: int) -> np.ndarray | None:
    """Integer class labels of the sample (one-hot rows become indices); None when they cannot be read."""
    try:
        array = np.asarray(labels)
        if array.ndim == 2:
            array = array.argmax(axis=1)
        return array.astype(np.int64).reshape(-1)[:rows] if array.ndim == 1 and len(array) >= rows else None
    except Exception:
        return None


def _inputs(element: Any) -> Any:
    """The inputs of one dataset element: ``x`` of ``(x, y)`` or ``(x, y, w)``, or the element itself."""
    return element[0] if isinstance(element, (tuple, list)) and element else element


def _labels(element: Any) -> Any:
    return element[1] if isinstance(element, (tuple, list)) and len(element) > 1 else None


def _replay(peeked: list[Any], rest: Any, error: BaseException | None) -> Any:
    """A real generator (Keras 3 accepts only ``types.GeneratorType``) yielding the peeked batches, then the rest;
    an error the student's generator raised while peeking is raised here, where fit would have met it."""
    yield from peeked
    if error is not None:
        raise error
    yield from rest


def _rows(batches: list[Any]) -> np.ndarray:
    arrays = [np.asarray(b) for b in batches]
    return np.concatenate(arrays)[:SAMPLE_ROWS] if arrays else np.zeros((0,))


def _kind(x: Any) -> str:
    import keras
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        return "tf.data dataset"
    if hasattr(x, "shape") and hasattr(x, "__getitem__"):
        return "array"
    if isinstance(x, keras.utils.PyDataset) or (hasattr(x, "__getitem__") and hasattr(x, "__len__")):
        return "PyDataset"
    if hasattr(x, "__next__"):
        return "generator"
    return type(x).__name__


def _enough(batches: list[Any]) -> bool:
    return sum(len(_inputs(b)) for b in batches) >= SAMPLE_ROWS or len(batches) >= MAX_BATCHES


def _py_dataset_len(x: Any) -> int:
    """A PyDataset's batch count: ``num_batches`` (Keras 3; None means endless) or ``__len__``."""
    count = getattr(x, "num_batches", None)
    if count is None and hasattr(x, "__len__"):
        count = len(x)
    return MAX_BATCHES if count is None else min(int(count), MAX_BATCHES)


def _batches(x: Any, kind: str) -> tuple[Any, list[Any]]:
    """(what fit gets instead of x, the elements read for the sample)."""
    taken: list[Any] = []
    if kind == "tf.data dataset":
        for element in x.take(MAX_BATCHES):
            taken.append(element)
            if _enough(taken):
                break
        return x, taken
    if kind == "PyDataset":
        for i in range(_py_dataset_len(x)):
            taken.append(x[i])
            if _enough(taken):
                break
        return x, taken
    error = None
    try:
        for element in x:
            taken.append(element)
            if _enough(taken):
                break
    except Exception as exc:  # the student's generator failed: fit must meet that error, not an empty generator
        error = exc
    return _replay(taken, x, error), taken
def take_sample(x: Any, y: Any, folder: Path) -> Sample:
    """Save the first inputs of ``x`` to ``folder/x_sample.npy``; never raises for the student's data."""
    kind = _kind(x)
    sample = Sample(x=x, kind=kind)
    folder.mkdir(parents=True, exist_ok=True)  # the model is exported here even when no sample can be taken
    try:
        sample.y_shape = [int(d) for d in y.shape] if hasattr(y, "shape") else None
    except (TypeError, ValueError):
        pass
    try:
        if kind == "array":
            sample.shape, sample.dtype = [int(d) for d in x.shape], str(getattr(x, "dtype", ""))
            at = spread_rows(len(x), SAMPLE_ROWS)  # what sampled_rows says the grader will align with
            rows = np.stack([np.asarray(x[int(i)]) for i in at]) if len(at) else np.asarray(x[:0])
            labels = np.stack([np.asarray(y[int(i)]) for i in at]) if y is not None and len(at) else None
        elif kind in ("tf.data dataset", "PyDataset", "generator"):
            sample.x, elements = _batches(x, kind)
            rows = _rows([_inputs(e) for e in elements])
            found = [_labels(e) for e in elements]
            labels = _rows(found)[: len(rows)] if found and all(f is not None for f in found) else None
            sample.dtype = str(rows.dtype)
            sample.source = f"the first {len(rows)} examples the {kind} yielded"
        else:
            sample.problem = f"fit received a {kind}, which cnngrade cannot sample"
            return sample
        sample.rows = np.asarray(rows, dtype=np.float32)
        np.save(folder / "x_sample.npy", sample.rows, allow_pickle=False)
        sample.file = str(folder / "x_sample.npy")
        sample.labels = _label_indices(labels, len(rows))
    except Exception as exc:  # strings, ragged lists, dicts of inputs: say so, never crash the run
        sample.problem = f"the training inputs ({kind}) could not be sampled: {type(exc).__name__}: {exc}"[:500]
    return sample
