"""Run an arrays submission in its sandbox on one image, and read back what it saved, trusting nothing."""
from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from grader import artifacts
from grader.arrays.spec import ArraysSpec
from grader.isolation import Policy
from grader.protocol import ArraysJob, ArraysRecord, RunJob, Unit
from grader.sandbox import ChildResult, clean_env, python_argv, run_child
from grader.spec import ExerciseSpec
from grader.submission import Submission

RESULTS = "results"  # grader.harness.arrays.RESULTS (not imported: that module belongs to the child)
MAX_RECORD_BYTES = 4 << 20


@dataclass
class ImageRun:
    """One run of the submission on one image, and what came back."""

    label: str  # "ascent" or "hidden image"
    image: np.ndarray  # uint8, what the grader served
    source: str  # where the image came from, for the report
    child: ChildResult | None = None
    record: ArraysRecord | None = None
    record_problem: str | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)  # name -> why its file could not be used

    @property
    def on(self) -> str:
        return "on ascent" if self.label == "ascent" else f"on the {self.label}"


def load_array(path: Path, limit: int) -> np.ndarray:
    """A plain .npy the run wrote: no pickles, no links, numeric, capped in size."""
    raw = artifacts.read_capped(path, limit + 4096)  # + room for the .npy header
    array = np.load(io.BytesIO(raw), allow_pickle=False)
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ValueError("not a numeric array")
    return array


def _job(spec: ExerciseSpec, arrays: ArraysSpec, sub: Submission, image_file: Path, seed: int) -> RunJob:
    return RunJob(kind=sub.kind, submission_name=sub.path.name,
                  units=[Unit(cell=u.cell, source=u.source) for u in sub.units], data_path=str(image_file),
                  epoch_budget=1, seed=seed, architecture=spec.architecture, output_bytes=spec.limits.output_bytes,
                  mode="arrays", arrays=ArraysJob(image_file=str(image_file), names=list(arrays.names),
                                                  max_array_bytes=arrays.max_array_bytes))


def run_on_image(run: ImageRun, *, spec: ExerciseSpec, sub: Submission, folder: Path, policy: Policy, seed: int,
                 timeout_s: float | None, progress: Callable[[str], None] | None,
                 cancel: threading.Event | None) -> None:
    """Run ``sub`` in ``folder`` with ``run.image`` served as ascent; fills the run's child, record and arrays."""
    assert spec.arrays is not None
    work = folder / "work"
    work.mkdir(parents=True)
    shutil.copyfile(sub.path, work / sub.path.name)
    image_file = folder / "image.npy"
    np.save(image_file, run.image, allow_pickle=False)
    (folder / "job.json").write_text(_job(spec, spec.arrays, sub, image_file, seed).model_dump_json(), encoding="utf-8")
    if progress:
        progress(f"running the code {run.on}")

    def on_event(event: dict[str, Any]) -> None:
        if progress and event.get("type") == "entry_point":
            progress(f"calling {event.get('name')}() for its results")

    run.child = run_child(argv=python_argv("grader.harness", str(folder)), cwd=work,
                          env=clean_env(folder, extra={"PYTHONHASHSEED": str(seed)}), policy=policy,
                          stdout=folder / "stdout.log", stderr=folder / "stderr.log", events=folder / "events.jsonl",
                          timeout_s=timeout_s or spec.limits.timeout_s, cell_timeout_s=spec.limits.cell_timeout_s,
                          on_event=on_event, cancel=cancel)
    _read_back(run, folder, spec.arrays)


def _read_back(run: ImageRun, folder: Path, arrays: ArraysSpec) -> None:
    try:
        run.record = ArraysRecord.model_validate_json(artifacts.read_capped(folder / "record.json", MAX_RECORD_BYTES))
    except FileNotFoundError:
        run.record_problem = "the run ended without a result"
    except (OSError, ValidationError) as exc:
        run.record_problem = f"the run's record is unusable ({type(exc).__name__})"
    if run.record_problem and run.child and run.child.limit is None:
        run.record_problem += f" (exit code {run.child.returncode}): {artifacts.tail(folder / 'stderr.log', 800).strip()}"
    for name in arrays.names:
        path = folder / RESULTS / f"{name}.npy"
        if not path.exists():
            continue
        try:
            run.arrays[name] = load_array(path, arrays.max_array_bytes)
        except (OSError, ValueError, EOFError) as exc:
            run.unreadable[name] = str(exc)[:200]
