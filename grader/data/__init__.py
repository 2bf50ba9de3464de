"""Find each dataset and prove it is the canonical one, without importing TensorFlow.

Every source ends as one verified Keras-layout ``.npz`` (x_train, y_train, x_test, y_test, uint8), which the
sandboxed run and the measurement read. See ``sources`` for the order of sources, ``registry`` for the datasets.
"""
from __future__ import annotations

import os
from pathlib import Path

from grader.data import sources
from grader.data.registry import DATASETS, MNIST, how_to_provide
from grader.data.sources import DatasetMissing, keras_cache_dir
from grader.data.verify import verify_npz
from grader.errors import DataError

__all__ = ["DATASETS", "DatasetMissing", "HOW_TO_PROVIDE", "explicit_source", "keras_cache_dir", "resolve_dataset",
           "resolve_mnist", "served_datasets", "verify_mnist"]

HOW_TO_PROVIDE = how_to_provide(MNIST)


def explicit_source(data: str | os.PathLike[str] | None = None) -> str | None:
    """The path the user gave (``--data``, else ``$CNNGRADE_DATA``), absolute, for workers that resolve it later."""
    value = data if data is not None else os.environ.get("CNNGRADE_DATA") or None
    return None if value is None else str(Path(value).expanduser().resolve())


def resolve_dataset(name: str, *, data: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """The path of a verified .npz of dataset ``name``, from the first source that holds it."""
    ds = DATASETS.get(name)
    if ds is None:
        raise DataError(f"dataset {name!r} is not served by this version of cnngrade (only "
                        f"{', '.join(map(repr, DATASETS))})")
    passed: list[str] = []
    given = (data, "--data") if data is not None else (os.environ.get("CNNGRADE_DATA"), "CNNGRADE_DATA")
    if given[0]:
        found = sources.explicit(ds, given[0], given[1])
        if found is not None:
            return found
        passed.append(f"{given[1]} ({given[0]})")
    found = sources.keras_cache(ds) or sources.system_package(ds)
    if found is not None:
        return found
    if download:
        return sources.downloaded(ds)
    raise sources.missing(ds, passed)


def served_datasets(primary: str, *, data: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """The exercise's dataset (required, downloaded if need be) and every other registered dataset found on this
    machine (never downloaded): a notebook may train on both, and its run must be served both. Another dataset that
    cannot be served (missing, a damaged copy, no folder to convert it into) is left out rather than costing the
    grade of an exercise that does not need it: the run says how to provide it if the code asks for it."""
    served = {primary: resolve_dataset(primary, data=data)}
    for name in DATASETS:
        if name != primary:
            try:
                served[name] = resolve_dataset(name, data=data, download=False)
            except DataError:
                pass
    return served


def resolve_mnist(*, data: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    return resolve_dataset("mnist", data=data, download=download)


def verify_mnist(path: Path, *, shown: str | None = None) -> None:
    verify_npz(path, MNIST, shown=shown)
