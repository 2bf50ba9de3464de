"""Where a dataset is found, in order: ``--data`` / ``$CNNGRADE_DATA``, Keras' cache, a system package's folder,
then a download into Keras' cache.

An explicit source that does not hold the dataset at all (a folder holding only mnist.npz, asked for Fashion-MNIST;
a file that verifies as another registered dataset) passes to the next source, so one setting can serve several
datasets; one that holds it (by its file names) but fails verification stops with a message, never falls through
to another copy behind the user's back.
"""
from __future__ import annotations

import os
from pathlib import Path

from grader.data import download, idx
from grader.data.registry import Dataset, how_to_provide
from grader.data.verify import npz_holds, verify_npz
from grader.errors import DataError


class DatasetMissing(DataError):
    """No source holds the dataset (as opposed to a source holding a damaged copy)."""


def keras_cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME")
    return (Path(home) if home else Path.home() / ".keras") / "datasets"


def _idx_folder(ds: Dataset, folder: Path, *, complete_only: bool) -> Path | None:
    """The converted .npz of the IDX files in ``folder``; None when it holds none of them (or, with
    ``complete_only``, not all four: Keras' cache after an interrupted download of Keras' own)."""
    paths = idx.idx_paths(ds, folder)
    missing = [p.name for p in paths.values() if not p.is_file()]
    if len(missing) == len(paths) or (missing and complete_only):
        return None
    if missing:
        raise DataError(f"{folder} holds {len(paths) - len(missing)} of {ds.title}'s four IDX files: "
                        f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing.\n{how_to_provide(ds)}")
    try:
        return idx.converted(ds, paths, shown=str(folder))
    except idx.OtherDataset:  # e.g. MNIST's own IDX files, which have the same names
        return None


def _in_folder(ds: Dataset, folder: Path) -> Path | None:
    for name in ds.npz_names:
        if (folder / name).is_file():
            verify_npz(folder / name, ds)
            return (folder / name).resolve()
    if ds.idx_folder:
        for sub in (folder / ds.idx_folder, folder):
            found = _idx_folder(ds, sub, complete_only=False) if sub.is_dir() else None
            if found is not None:
                return found
    return None


def explicit(ds: Dataset, value: str | os.PathLike[str], origin: str) -> Path | None:
    """``ds`` from a path the user gave (a file or a folder); None when it does not hold ``ds`` at all."""
    path = Path(value).expanduser()
    if path.is_dir():
        return _in_folder(ds, path)
    if not path.is_file():
        raise DataError(f"{origin} points to {path}, which does not exist.\n{how_to_provide(ds)}")
    holds = npz_holds(path)
    if holds is not None and holds != ds.name:
        return None
    verify_npz(path, ds)
    return path.resolve()  # absolute: the sandbox mounts it at the same path and runs in another folder


def _advice(exc: DataError, advice: str) -> DataError:
    return DataError(f"{exc}\n{advice}")


def keras_cache(ds: Dataset) -> Path | None:
    where = ds.keras_source(keras_cache_dir())
    try:
        if ds.idx_files:
            return _idx_folder(ds, where, complete_only=True) if where.is_dir() else None
        if where.is_file():
            verify_npz(where, ds)
            return where.resolve()
    except DataError as exc:  # a copy some other tool left truncated or altered: say how to get a good one
        raise _advice(exc, f"It is in Keras' cache: delete {where} and run again to download a verified copy, or "
                           "point --data / CNNGRADE_DATA at one.") from exc
    return None


def system_package(ds: Dataset) -> Path | None:
    folder = ds.system_folder()
    if folder is None or not folder.is_dir():
        return None
    try:
        return _idx_folder(ds, folder, complete_only=True)
    except DataError as exc:
        raise _advice(exc, f"Reinstall the package (apt-get install --reinstall dataset-{ds.idx_folder}) or point "
                           "--data / CNNGRADE_DATA at a verified copy.") from exc


def downloaded(ds: Dataset) -> Path:
    cache = keras_cache_dir()
    if ds.idx_files:
        return download.download_idx(ds, ds.keras_source(cache))
    return download.download_npz(ds, ds.keras_source(cache))


def missing(ds: Dataset, passed: list[str]) -> DatasetMissing:
    """The message when no source holds ``ds`` and nothing may be downloaded."""
    where = f"Keras' cache ({ds.keras_source(keras_cache_dir())})"
    system = ds.system_folder()
    if system is not None:
        where += f" nor in {system}"
    held = "".join(f"; {p} does not hold it" for p in passed)
    return DatasetMissing(f"{ds.title} was not found in {where}{held}.\n{how_to_provide(ds)}")
