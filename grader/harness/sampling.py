"""Take a sample of what ``fit`` trains on, whatever the student passed: arrays, a tf.data dataset, a Python
generator or a Keras ``PyDataset``. The grading process infers the preprocessing from it (``preprocessing.py``).

Datasets are sampled by iterating a fresh ``take`` of them (the student's pipeline is not consumed); a
generator is consumed for a few batches, which are put back in front of it before ``fit`` sees it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_ROWS = 256
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


def _inputs(element: Any) -> Any:
    """The inputs of one dataset element: ``x`` of ``(x, y)`` or ``(x, y, w)``, or the element itself."""
    return element[0] if isinstance(element, (tuple, list)) and element else element


def _rows(batches: list[Any]) -> np.ndarray:
    arrays = [np.asarray(b) for b in batches]
    return np.concatenate(arrays)[:SAMPLE_ROWS] if arrays else np.zeros((0,))


def _kind(x: Any) -> str:
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        return "tf.data dataset"
    if hasattr(x, "shape") and hasattr(x, "__getitem__"):
        return "array"
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        return "PyDataset"
    if hasattr(x, "__next__"):
        return "generator"
    return type(x).__name__


def _batches(x: Any, kind: str) -> tuple[Any, list[Any]]:
    """(what fit gets instead of x, the input batches read for the sample)."""
    if kind == "tf.data dataset":
        taken: list[Any] = []
        for element in x.take(MAX_BATCHES):
            taken.append(_inputs(element))
            if sum(len(b) for b in taken) >= SAMPLE_ROWS:
                break
        return x, taken
    if kind == "PyDataset":
        taken = []
        for i in range(min(len(x), MAX_BATCHES)):
            taken.append(_inputs(x[i]))
            if sum(len(b) for b in taken) >= SAMPLE_ROWS:
                break
        return x, taken
    peeked: list[Any] = []
    for element in x:
        peeked.append(element)
        if sum(len(_inputs(e)) for e in peeked) >= SAMPLE_ROWS or len(peeked) >= MAX_BATCHES:
            break
    return itertools.chain(peeked, x), [_inputs(e) for e in peeked]


def take_sample(x: Any, y: Any, folder: Path) -> Sample:
    """Save the first inputs of ``x`` to ``folder/x_sample.npy``; never raises for the student's data."""
    kind = _kind(x)
    sample = Sample(x=x, kind=kind, y_shape=[int(d) for d in y.shape] if hasattr(y, "shape") else None)
    try:
        if kind == "array":
            sample.shape, sample.dtype = [int(d) for d in x.shape], str(getattr(x, "dtype", ""))
            rows = np.asarray(x[:SAMPLE_ROWS])
        elif kind in ("tf.data dataset", "PyDataset", "generator"):
            sample.x, batches = _batches(x, kind)
            rows = _rows(batches)
            sample.dtype = str(rows.dtype)
            sample.source = f"the first {len(rows)} examples the {kind} yielded"
        else:
            sample.problem = f"fit received a {kind}, which cnngrade cannot sample"
            return sample
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "x_sample.npy", np.asarray(rows, dtype=np.float32), allow_pickle=False)
        sample.file = str(folder / "x_sample.npy")
    except Exception as exc:  # strings, ragged lists, dicts of inputs: say so, never crash the run
        sample.problem = f"the training inputs ({kind}) could not be sampled: {type(exc).__name__}: {exc}"[:500]
    return sample
