"""Serve the verified datasets offline to every way a student may ask for them."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from grader.data.registry import DATASETS, how_to_provide

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DatasetNotServed(RuntimeError):
    """A registered dataset the grader did not find on its machine: the run cannot download it."""


def make_loader(path: str, train_limit: int | None, test_limit: int | None, requests: list[str],
                default: str = "mnist.npz") -> Callable[..., Arrays]:
    cache: list[Arrays] = []

    def load_data(path_arg: Any = default, *args: Any, **kwargs: Any) -> Arrays:
        # Any path= the student passes (course notebooks point at their own folders) is recorded and ignored:
        # nothing is downloaded during a student's run.
        requests.append(str(kwargs.get("path", path_arg)))
        if not cache:
            with np.load(path, allow_pickle=False) as f:
                train = (f["x_train"][:train_limit], f["y_train"][:train_limit])
                test = (f["x_test"][:test_limit], f["y_test"][:test_limit])
            cache.append((train, test))
        (xt, yt), (xs, ys) = cache[0]
        return (xt.copy(), yt.copy()), (xs.copy(), ys.copy())  # copies: in-place edits must not leak

    return load_data


def refusing_loader(name: str, requests: list[str]) -> Callable[..., NoReturn]:
    ds = DATASETS[name]

    def load_data(*args: Any, **kwargs: Any) -> NoReturn:
        requests.append(name)
        raise DatasetNotServed(f"cnngrade: {ds.title} is not available to this run: nothing is downloaded while "
                               f"a submission runs, and the grading machine has no copy of it.\n"
                               f"{how_to_provide(ds).replace('Provide', 'The grader can be given', 1)}")

    return load_data


def loaders(served: dict[str, str], train_limit: int | None, test_limit: int | None,
            requests: list[str]) -> dict[str, Callable[..., Any]]:
    """A loader for every registered dataset: the served ones with the exercise's slices, the others refusing."""
    return {name: make_loader(served[name], train_limit, test_limit, requests,
                              default=DATASETS[name].npz_name if name == "mnist" else name)
            if name in served else refusing_loader(name, requests) for name in DATASETS}


def install(by_name: dict[str, Callable[..., Any]]) -> None:
    """Replace ``load_data`` in every imported ``*.datasets.<name>`` module (keras, keras.src, tf.keras)."""
    import importlib

    # Imported for their side effect: the modules must be in sys.modules to be patched below.
    import keras  # noqa: F401

    for name in by_name:
        for package in ("keras.datasets", "keras.src.datasets"):
            importlib.import_module(f"{package}.{name}")
    for module_name, module in list(sys.modules.items()):
        parts = module_name.rsplit(".", 2)
        if len(parts) == 3 and parts[1] == "datasets" and parts[2] in by_name and hasattr(module, "load_data"):
            module.load_data = by_name[parts[2]]  # type: ignore[attr-defined]
