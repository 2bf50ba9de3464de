"""Run the submission in its sandbox, then the trusted measurement in another, and gather the evidence."""
from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grader import artifacts, preprocessing
from grader.errors import SandboxError
from grader.evidence import Evidence
from grader.isolation import Isolation, Policy, default_hidden
from grader.protocol import FitRecord, MeasureJob, Measurement, RunJob, Unit
from grader.sandbox import clean_env, python_argv, run_child

Progress = Callable[[str], None]


def _describe_event(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    if kind == "cell" and event.get("cell"):
        return f"running cell {event['cell']}"
    if kind == "entry_point":
        return f"calling {event.get('name')}()"
    if kind == "fit":
        return f"training (asked {event.get('epochs_asked')} epochs, allowed {event.get('epochs_allowed')})"
    if kind == "epoch":
        metrics = event.get("metrics") or {}
        acc = next((metrics[k] for k in ("accuracy", "acc") if k in metrics), None)
        acc_text = f" accuracy {acc:.4f}" if isinstance(acc, float) else ""
        return f"epoch {event.get('epoch')}/{event.get('of')}{acc_text} ({event.get('seconds', 0):.1f} s)"
    if kind == "rejected":
        return "the architecture breaks the rules: this fit is not trained (--full trains anyway)"
    return None


def device_env(*, cpu: bool, threads: int | None, gpu: str | None) -> dict[str, str]:
    """Where the children compute: ``cpu`` hides every GPU, ``gpu`` pins one, ``threads`` caps TensorFlow's and
    the BLAS pools so that parallel workers share the cores instead of oversubscribing them."""
    env: dict[str, str] = {}
    if cpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif gpu is not None:
        # Workers may share a GPU when there are more workers than GPUs: take memory as needed, not all of it.
        env.update({"CUDA_VISIBLE_DEVICES": gpu, "TF_FORCE_GPU_ALLOW_GROWTH": "true"})
    if threads:
        env.update({"CNNGRADE_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
                    "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
    return env


def run_policy(ev: Evidence, *, isolation: Isolation, scratch: Path, data_path: Path, hide: tuple[Path, ...],
               datasets: Mapping[str, Path] | None = None) -> Policy:
    """What the run may see: its scratch, and every served dataset read-only (``datasets``; default the exercise's)."""
    limits = ev.spec.limits
    readonly = tuple(dict.fromkeys((data_path, *(datasets or {}).values())))
    return Policy(isolation=isolation, writable=(scratch,), readonly=readonly,
                  hidden=default_hidden((ev.submission.path.resolve().parent, *hide)),
                  memory_bytes=limits.memory_mb << 20, max_pids=limits.max_processes,
                  disk_bytes=limits.disk_mb << 20, output_bytes=limits.output_bytes)


def run_submission(ev: Evidence, *, scratch: Path, data_path: Path, seed: int, full: bool, device: dict[str, str],
                   timeout_s: float | None, progress: Progress | None, policy: Policy,
                   cancel: threading.Event | None = None, datasets: Mapping[str, Path] | None = None) -> float:
    """Run the student's code in a child; fills ``ev.child`` and ``ev.record``; returns the wall time."""
    spec, sub = ev.spec, ev.submission
    work = scratch / "work"
    work.mkdir(parents=True)
    shutil.copyfile(sub.path, work / sub.path.name)
    job = RunJob(kind=sub.kind, submission_name=sub.path.name, units=[Unit(cell=u.cell, source=u.source) for u in sub.units],
                 data_path=str(data_path),
                 datasets={k: str(v) for k, v in (datasets or {spec.dataset.name: data_path}).items()},
                 train_limit=spec.dataset.train_limit, test_limit=spec.dataset.test_limit,
                 epoch_budget=spec.goal.epoch_budget, entry_point=spec.entry_point, seed=seed, fail_fast=not full,
                 architecture=spec.architecture, legacy_metric_names=spec.training.legacy_metric_names,
                 output_bytes=spec.limits.output_bytes)
    (scratch / "job.json").write_text(job.model_dump_json(), encoding="utf-8")
    extra = {"PYTHONHASHSEED": str(seed), **device}

    def on_event(event: dict[str, Any]) -> None:
        text = _describe_event(event)
        if text and progress:
            progress(text)

    ev.child = run_child(argv=python_argv("grader.harness", str(scratch)), cwd=work, env=clean_env(scratch, extra=extra),
                         policy=policy,
                         stdout=scratch / "stdout.log", stderr=scratch / "stderr.log", events=scratch / "events.jsonl",
                         timeout_s=timeout_s or spec.limits.timeout_s, cell_timeout_s=spec.limits.cell_timeout_s,
                         on_event=on_event, cancel=cancel)
    ev.record, ev.record_problem = artifacts.read_record(scratch)
    if ev.record is not None and not ev.record.finished:
        ev.record_problem = "the run did not finish"
    if ev.record is None and ev.child.limit is None and not any(e.get("type") == "start" for e in ev.child.events):
        # The harness announces itself before any student code runs: silence means the sandbox itself failed.
        raise SandboxError(f"the isolated run could not start: {artifacts.tail(scratch / 'stderr.log', 1500).strip()}")
    if ev.record is None and ev.child.limit is None:
        ev.record_problem = (f"{ev.record_problem}; the process exited with code {ev.child.returncode}. "
                             f"Last output:\n{artifacts.tail(scratch / 'stderr.log', 1500)}")
    return ev.child.wall_s


def _infer_fit(fit: FitRecord, scratch: Path, raw: np.ndarray) -> preprocessing.Preprocessing:
    """How ``fit``'s inputs were made from ``raw``; PreprocessingUnknown when they are not a rescaling of it."""
    folder = artifacts.fit_folder(scratch, fit.index)
    if folder is None or fit.sample_file is None:
        raise preprocessing.PreprocessingUnknown(_infer_problem(fit))
    try:
        sample = preprocessing.load_sample(folder / "x_sample.npy")
        rows_of = preprocessing.sampled_rows(fit.x_kind, fit.x_shape)  # where the run took its sample
        return preprocessing.infer(sample, raw, dtype=fit.x_dtype, source=fit.sample_source, rows_of=rows_of)
    except preprocessing.PreprocessingUnknown:
        raise
    except Exception as exc:  # a tampered or strange sample must never take the grader down
        raise preprocessing.PreprocessingUnknown(
            f"the sample of the training inputs could not be analysed ({type(exc).__name__}: {exc})"[:500]) from exc


def _where(fit: FitRecord) -> str:
    return f"fit call {fit.index}" + (f" (cell {fit.cell})" if fit.cell is not None else "")


def infer_preprocessing(ev: Evidence, *, scratch: Path, data_path: Path) -> None:
    """Choose the graded fit by its training data, and infer how its inputs were prepared from the raw images.

    A course notebook may train on several datasets (the Fashion-MNIST model, then an MNIST experiment): the
    graded fit is the last one whose sampled inputs are a rescaling of the exercise's own training images,
    recognised from the pixels, not from variable names. When no fit is recognised, the last one is graded and
    the reason the data was not recognised is reported. Any failure is a finding, not a crash.
    """
    fits = [f for f in (ev.record.fits if ev.record else []) if not f.budget_exhausted]
    if not fits:
        return
    with np.load(data_path, allow_pickle=False) as data:
        raw = data["x_train"][: ev.spec.dataset.train_limit]
        raw_test = data["x_test"][: ev.spec.dataset.test_limit]
    _choose_graded_fit(ev, fits, scratch=scratch, raw=raw)
    ev.foreign_training = _foreign_training(ev, scratch=scratch, raw=raw, raw_test=raw_test)


def _choose_graded_fit(ev: Evidence, fits: list[FitRecord], *, scratch: Path, raw: np.ndarray) -> None:
    problem: str | None = None
    for fit in reversed(fits):
        if fit.sample_file is None and fit is fits[-1]:
            break  # nothing shows what this last fit trained on (no data passed, say): it is graded as it is
        try:
            ev.preprocessing = _infer_fit(fit, scratch, raw)
        except preprocessing.PreprocessingUnknown as exc:
            problem = problem or str(exc)  # the last fit's reason is the one reported if none is recognised
            continue
        if fit is not fits[-1]:
            ev.graded_index = fit.index
            title = ev.spec.dataset.title
            later = ", ".join(_where(f) for f in fits if f.index > fit.index)
            ev.graded_reason = (f"{_where(fit)} is graded: its training data is {title}; the later {later} trained "
                                f"on other data (not {title} images), so it is not graded")
        return
    if fits[-1].epochs:
        ev.preprocessing_problem = (f"no fit trained on {ev.spec.dataset.title}'s training images; the graded (last) "
                                    f"one: {problem}" if problem and len(fits) > 1 else problem or _infer_problem(fits[-1]))


def _foreign_training(ev: Evidence, *, scratch: Path, raw: np.ndarray, raw_test: np.ndarray) -> str | None:
    """Why the graded model's earlier training (fit calls whose weights it carries) was not on the exercise's
    training images, or None: a model that learned the test images, then trained one epoch on a few training
    images, must not be graded on the test images it learned."""
    fit, title = ev.fit, ev.spec.dataset.title
    by_index = {f.index: f for f in (ev.record.fits if ev.record else [])}
    for earlier in (by_index[i] for i in (fit.prior_fits if fit else []) if i in by_index):
        try:
            _infer_fit(earlier, scratch, raw)
            continue
        except preprocessing.PreprocessingUnknown as exc:
            problem = str(exc)
        try:
            _infer_fit(earlier, scratch, raw_test)
            what = f"the {title} test images"
        except preprocessing.PreprocessingUnknown:
            what = f"data that is not {title}'s training images ({problem})"
        return (f"before the graded fit, this model trained {len(earlier.epochs)} epoch(s) in {_where(earlier)} "
                f"on {what}")
    return None


def _infer_problem(fit: FitRecord) -> str:
    return fit.sample_problem or f"fit received a {fit.x_kind}, and no sample of its inputs could be taken"


def measure(ev: Evidence, *, scratch: Path, data_path: Path, device: dict[str, str], progress: Progress | None,
            policy: Policy, cancel: threading.Event | None = None, journey_images: int = 0) -> float:
    """Re-measure the graded model in a separate child that runs no student Python."""
    fit = ev.fit
    if fit is None or ev.aborted or not fit.epochs:
        return 0.0
    folder = artifacts.fit_folder(scratch, fit.index)
    if folder is None or fit.artifact is None:
        ev.measurement_problem = fit.export_error or "the trained model was not exported"
        return 0.0
    refused = artifacts.check_model_folder(folder)
    if refused:
        ev.measurement_problem = refused
        return 0.0
    pre = ev.preprocessing or preprocessing.Preprocessing(reshape=(28, 28), scale=1.0, offset=0.0)
    measure_dir = scratch / "measure"
    measure_dir.mkdir()
    job = MeasureJob(model_dir=str(folder), data_path=str(data_path), train_limit=ev.spec.dataset.train_limit,
                     test_limit=ev.spec.dataset.test_limit, reshape=list(pre.reshape), scale=pre.scale,
                     offset=pre.offset, measure_accuracy=ev.preprocessing is not None, journey_images=journey_images)
    (measure_dir / "job.json").write_text(job.model_dump_json(), encoding="utf-8")
    if progress:
        progress("re-measuring the trained model")
    start = time.monotonic()
    out = measure_dir / "measurement.json"
    # A second sandbox: it reads the artifacts and the data, writes only its own folder, and returns numbers.
    measure_policy = Policy(isolation=policy.isolation, writable=(measure_dir,), readonly=(folder, data_path),
                            hidden=(*policy.hidden, scratch), memory_bytes=policy.memory_bytes, max_pids=64)
    result = run_child(argv=python_argv("grader.measure", str(measure_dir / "job.json"), str(out)), cwd=measure_dir,
                       env=clean_env(measure_dir, extra=device),
                       policy=measure_policy,
                       stdout=measure_dir / "stdout.log", stderr=measure_dir / "stderr.log",
                       events=measure_dir / "events.jsonl", timeout_s=600, cell_timeout_s=600, cancel=cancel)
    tail = _crash_reason(measure_dir / "stderr.log")
    try:
        ev.measurement = Measurement.model_validate_json(artifacts.read_capped(out, 1 << 20))
    except Exception as exc:  # any failure here is reported, never raised
        ev.measurement_problem = f"the measurement failed (exit code {result.returncode}: {exc}). {tail}"
        return time.monotonic() - start
    if ev.measurement.phase != "complete":  # the structure was measured, then evaluating the model died
        ev.measurement_problem = (f"evaluating the trained model on the images failed (exit code {result.returncode}). "
                                  f"{tail}").strip()
        ev.measurement = ev.measurement.model_copy(update={"error": ev.measurement_problem, "phase": "complete"})
    return time.monotonic() - start


def _crash_reason(log: Path) -> str:
    """The last meaningful line of a crashed child's log, not the whole abort trace."""
    lines = [l.strip() for l in artifacts.tail(log, 4000).splitlines() if l.strip()]
    useful = [l for l in lines if not l.startswith(("W0000", "I0000", "WARNING: All log messages", "***", "@ ", "PC: "))]
    return useful[-1][:300] if useful else ""
