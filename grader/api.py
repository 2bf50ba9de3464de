"""The core API: ``grade`` one submission into a Report. The CLI is a thin layer over this."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from grader import __version__
from grader.checks import Outcome, hint_once, run_checks
from grader.data import served_datasets
from grader.evidence import Evidence
from grader.exercises import find_exercise
from grader.feedback import CLASS_NAMES, CellView, Feedback, run_output, test_images
from grader.isolation import Isolation, choose
from grader.pipeline import Progress, device_env, infer_preprocessing, measure, run_policy, run_submission
from grader.scratch import scratch_dir, sweep
from grader.report import CheckExtra, EpochSummary, GradeDetails, Report, TestResult, Timings
from grader.spec import ExerciseSpec
from grader.submission import Submission, load_submission

DEFAULT_SEED = 20240601
JOURNEY_IMAGES = 3  # test images traced through the student's convolution and pooling for the HTML report
ISOLATION_NOTES = {
    Isolation.PARTIAL: ("isolation is partial: bubblewrap could not create namespaces on this host, so the run has "
                        "no network or filesystem confinement beyond an unprivileged user, rlimits and caps",),
    Isolation.NONE: ("graded WITHOUT a sandbox (--no-sandbox): the submission ran with the grader's rights",),
}


def grade(*, submission: str | os.PathLike[str], exercise: str | os.PathLike[str] | ExerciseSpec | None = None,
          data: str | os.PathLike[str] | None = None, seed: int = DEFAULT_SEED, full: bool = False,
          cpu: bool = False, timeout_s: float | None = None, progress: Progress | None = None,
          sandbox: bool = True, hide: tuple[Path, ...] = (), threads: int | None = None, gpu: str | None = None,
          cancel: threading.Event | None = None) -> Report:
    """Grade ``submission`` into its report (``grade_with_feedback`` for the HTML report's extra facts)."""
    return grade_with_feedback(submission=submission, exercise=exercise, data=data, seed=seed, full=full, cpu=cpu,
                               timeout_s=timeout_s, progress=progress, sandbox=sandbox, hide=hide, threads=threads,
                               gpu=gpu, cancel=cancel, pictures=False)[0]


def grade_with_feedback(*, submission: str | os.PathLike[str], exercise: str | os.PathLike[str] | ExerciseSpec | None = None,
                        data: str | os.PathLike[str] | None = None, seed: int = DEFAULT_SEED, full: bool = False,
                        cpu: bool = False, timeout_s: float | None = None, progress: Progress | None = None,
                        sandbox: bool = True, hide: tuple[Path, ...] = (), threads: int | None = None,
                        gpu: str | None = None, cancel: threading.Event | None = None, pictures: bool = True
                        ) -> tuple[Report, Feedback]:
    """Grade ``submission`` against ``exercise`` (an id, a spec path or a loaded spec; default mnist-single-conv),
    with what its HTML report shows besides the report (``pictures=False``: no journey of an image, no test images).

    Raises a ``CnngradeError`` only when grading is impossible (usage problem, data missing); everything the
    submission does wrong ends up in the returned report. ``sandbox=False`` runs the student's code without
    isolation (debugging only); ``hide`` adds folders the run must not see (e.g. where results are written).
    """
    started = time.monotonic()
    spec = exercise if isinstance(exercise, ExerciseSpec) else find_exercise(exercise)[0]
    if spec.kind == "arrays":  # the code computes arrays (the homemade convolution): grader.arrays grades it
        from grader.arrays.grade import grade_arrays

        report, panels = grade_arrays(spec=spec, submission=submission, data=data, seed=seed, timeout_s=timeout_s,
                                      progress=progress, sandbox=sandbox, hide=hide, cancel=cancel, pictures=pictures)
        return report, Feedback(panels=panels)
    sub = load_submission(Path(submission))
    served = served_datasets(spec.dataset.name, data=data)  # the exercise's dataset, and any other one found here
    data_path = served[spec.dataset.name]
    isolation = choose(sandbox=sandbox)
    ev = Evidence(spec=spec, submission=sub, notes=[*sub.notes, *ISOLATION_NOTES.get(isolation, ()), *_spec_notes(spec)])
    device = device_env(cpu=cpu, threads=threads, gpu=gpu)
    run_s = measure_s = 0.0
    output = ""
    sweep()  # scratch a killed run left behind (its owner is gone)
    with scratch_dir() as scratch:
        if sub.problem is None:
            policy = run_policy(ev, isolation=isolation, scratch=scratch, data_path=data_path, hide=hide,
                                datasets=served)
            run_s = run_submission(ev, scratch=scratch, data_path=data_path, seed=seed, full=full, device=device,
                                   timeout_s=timeout_s, progress=progress, policy=policy, cancel=cancel,
                                   datasets=served)
            infer_preprocessing(ev, scratch=scratch, data_path=data_path)
            measure_s = measure(ev, scratch=scratch, data_path=data_path, device=device, progress=progress,
                                policy=policy, cancel=cancel, journey_images=JOURNEY_IMAGES if pictures else 0)
            output = run_output(scratch)
    timings = Timings(run_s=round(run_s, 2), measure_s=round(measure_s, 2),
                      total_s=round(time.monotonic() - started, 2), mean_epoch_s=_mean_epoch(ev))
    printed = {c.cell: c.text for c in (ev.record.cell_outputs if ev.record else [])}
    feedback = Feedback(kind=sub.kind, output=output, entry_point_output=printed.get(0, ""),
                        cells=[CellView(cell=u.cell, source=u.source, output=printed.get(u.cell, "") if u.cell else "")
                               for u in sub.units],
                        measurement=ev.measurement,
                        test_images=test_images(data_path, ev.measurement, spec.dataset.test_limit) if pictures else {},
                        class_names=CLASS_NAMES.get(spec.dataset.name, []))
    return build_report(ev, run_checks(ev), seed=seed, timings=timings, isolation=isolation), feedback


LEGACY_NOTE = ("graded with legacy_metric_names: callbacks also saw TensorFlow 1's names ('acc' for 'accuracy', "
               "'val_acc' for 'val_accuracy')")


def _spec_notes(spec: ExerciseSpec) -> list[str]:
    """What the exercise's options changed about the run, said in every report graded under them."""
    return [LEGACY_NOTE] if spec.training.legacy_metric_names else []


def problem_report(*, spec: ExerciseSpec, shown: str, sha256: str, problem: str, seed: int = DEFAULT_SEED) -> Report:
    """The report for a file that cannot be run at all (e.g. a batch found no notebook): graded 0, with why."""
    sub = Submission(Path(shown), "notebook" if shown.endswith(".ipynb") else "module", sha256, problem=problem)
    if spec.kind == "arrays":
        from grader.arrays.grade import problem_arrays_report

        return problem_arrays_report(spec=spec, sub=sub, seed=seed)
    ev = Evidence(spec=spec, submission=sub)
    return build_report(ev, run_checks(ev), seed=seed, timings=Timings(), isolation=Isolation.NONE)


def not_graded_report(*, spec: ExerciseSpec, shown: str, sha256: str, error: str, seed: int = DEFAULT_SEED) -> Report:
    """The report when the grader itself failed: no checks decided, no points, retried by a batch rerun."""
    details = GradeDetails(grader_version=__version__, exercise_id=spec.id, exercise_version=spec.version,
                           submission=shown, submission_sha256=sha256, status="not_graded", error=error, seed=seed,
                           isolation="none", epoch_budget=spec.goal.epoch_budget)
    return Report(score=0.0, max_score=spec.max_points, execution_time=0.0,
                  output=f"not graded: {error}\n{graded_against(spec)}", tests=[], extra_data=details)


def graded_against(spec: ExerciseSpec) -> str:
    """The visible line naming the exercise's version (Gradescope shows ``output``, not ``extra_data``), so a
    regraded class can tell which version graded each student."""
    return f"Exercise {spec.id} {spec.version}, graded by cnngrade {__version__}."


def _mean_epoch(ev: Evidence) -> float | None:
    fit = ev.fit
    if not fit or not fit.epochs:
        return None
    return round(sum(e.seconds for e in fit.epochs) / len(fit.epochs), 3)


def check_results(spec: ExerciseSpec, outcomes: list[Outcome]) -> list[TestResult]:
    """The outcomes as Gradescope tests, priced by the spec (shared by every kind of exercise)."""
    tests = []
    for number, o in enumerate(outcomes, start=1):
        worth = spec.points_for(o.id)
        output = o.output + (f"\nHint: {o.hint}" if o.hint else "")
        tests.append(TestResult(name=o.name, number=str(number), score=worth if o.passed else 0.0, max_score=worth,
                                status="passed" if o.passed else "failed", output=output, tags=[o.id],
                                extra_data=CheckExtra(check=o.id, hint=o.hint)))
    return tests


def summary_line(outcomes: list[Outcome], tests: list[TestResult]) -> str:
    """'7/10 points: Code ran, Architecture failed', the first line of every report's visible output."""
    score, max_score = sum(t.score for t in tests), sum(t.max_score for t in tests)
    passed = all(o.passed for o in outcomes)
    return f"{score:g}/{max_score:g} points: " + ("all checks passed" if passed else
                                                   ", ".join(o.name for o in outcomes if not o.passed) + " failed")


def _history(ev: Evidence) -> list[EpochSummary]:
    fit = ev.fit
    key = ev.accuracy_key
    return [EpochSummary(epoch=e.epoch, accuracy=e.metrics.get(key) if key else None, loss=e.metrics.get("loss"),
                         seconds=e.seconds, metrics=dict(e.metrics)) for e in (fit.epochs if fit else [])]


def _graded_source(ev: Evidence) -> str | None:
    fit = ev.fit
    if fit is None:
        return None
    where = f"entry point {ev.spec.entry_point}()" if fit.from_entry_point else (
        f"cell {fit.cell}" if fit.cell is not None else "the module")
    total = len(ev.record.fits) if ev.record else 1
    if ev.graded_reason:
        return f"fit call {fit.index} of {total}, in {where}: {ev.graded_reason}"
    return f"fit call {fit.index} of {total}, in {where}" + (" (the last one is graded)" if total > 1 else "")


def _output_notes(ev: Evidence) -> list[str]:
    if (ev.child and ev.child.output_truncated) or (ev.record and ev.record.output_truncated):
        return [f"the run's output was cut at {ev.spec.limits.output_bytes} bytes"]
    return []


def _visible_lines(ev: Evidence) -> list[str]:
    """What a student must see above the tests (Gradescope shows the top-level output, not extra_data):
    notes about the submission and which fit was graded when there were several. How cnngrade was isolated
    concerns the instructor, so it stays in extra_data only."""
    isolation = {note for notes in ISOLATION_NOTES.values() for note in notes}
    lines = [f"Note: {n}" for n in ev.notes if n not in isolation]
    source = _graded_source(ev)
    if source and ev.record and len(ev.record.fits) > 1:
        lines.append(f"Graded: {source}")
    return lines + [f"Note: {n}" for n in _output_notes(ev)]


def with_notes(report: Report, notes: Sequence[str]) -> Report:
    """``report`` with ``notes`` first among its notes and shown right under the score in its visible output.

    For what is known only after grading, such as which of a student's files a batch graded and why: a note in
    ``extra_data`` alone never reaches the student on Gradescope.
    """
    if not notes:
        return report
    score, _, rest = report.output.partition("\n")
    output = "\n".join([score, *(f"Note: {n}" for n in notes), *([rest] if rest else [])])
    details = report.extra_data.model_copy(update={"notes": [*notes, *report.extra_data.notes]})
    return report.model_copy(update={"output": output, "extra_data": details})


def build_report(ev: Evidence, outcomes: list[Outcome], *, seed: int, timings: Timings,
                 isolation: Isolation) -> Report:
    outcomes = hint_once(outcomes)
    tests = check_results(ev.spec, outcomes)
    score, max_score = sum(t.score for t in tests), sum(t.max_score for t in tests)
    passed = all(o.passed for o in outcomes)
    record, fit, stop, m = ev.record, ev.fit, ev.stop, ev.measurement
    error = ev.submission.problem or (None if record else ev.record_problem)
    details = GradeDetails(
        grader_version=__version__, exercise_id=ev.spec.id, exercise_version=ev.spec.version,
        submission=str(ev.submission.path), submission_sha256=ev.submission.sha256,
        status="passed" if passed else ("error" if error else "failed"), error=error, seed=seed,
        isolation=isolation.value, device=record.device if record else None,
        tensorflow_version=record.tensorflow_version if record else None,
        graded_fit=fit.index if fit else None, graded_fit_source=_graded_source(ev),
        fit_calls=len(record.fits) if record else 0, epoch_budget=ev.spec.goal.epoch_budget,
        threshold=ev.spec.goal.threshold if ev.spec.goal.metric == "train_accuracy" else None,
        epochs_asked=fit.epochs_asked if fit else None, epochs_run=len(fit.epochs) if fit else 0,
        stop_epoch=stop.epoch if stop else None, stopped_by=f"{stop.callback}.{stop.hook}" if stop else None,
        history=_history(ev), train_accuracy=m.train_accuracy if m else None,
        test_accuracy=m.test_accuracy if m else None,
        preprocessing=ev.preprocessing.describe() if ev.preprocessing else ev.preprocessing_problem,
        errors=record.errors if record else [], skipped=record.skipped if record else [],
        hints=[o.hint for o in outcomes if o.hint and not o.passed],
        notes=ev.notes + ([m.note] if m and m.note else []) + _output_notes(ev), timings=timings)
    output = "\n".join([summary_line(outcomes, tests), *_visible_lines(ev), graded_against(ev.spec)])
    return Report(score=score, max_score=max_score, execution_time=timings.total_s, output=output, tests=tests,
                  extra_data=details)
