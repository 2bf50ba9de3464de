"""Grade an arrays exercise: run the submission on ascent, then on an image only this grading knows, judge what
it saved against the grader's own computation, and build the same report as a training exercise."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from grader import __version__
from grader.arrays import judge, reference
from grader.arrays.ascent import find_ascent
from grader.arrays.checks import CHECKS, ArraysEvidence
from grader.arrays.pictures import panels
from grader.arrays.runs import ImageRun, run_on_image
from grader.checks import Outcome, hint_once
from grader.isolation import Isolation, Policy, choose, default_hidden
from grader.feedback import ImagePanel
from grader.report import GradeDetails, ImageFacts, Report, Timings
from grader.scratch import scratch_dir, sweep
from grader.spec import ExerciseSpec
from grader.submission import Submission, load_submission

NOTES = {Isolation.PARTIAL: "isolation is partial: bubblewrap could not create namespaces on this host",
         Isolation.NONE: "graded WITHOUT a sandbox (--no-sandbox): the submission ran with the grader's rights"}


def data_for(spec: ExerciseSpec, data: str | os.PathLike[str] | None) -> str | None:
    """What to pass each grading as its data, checked once before a batch or ``cnngrade check`` starts (a missing
    dataset is exit 3, not one failure per student): for an arrays exercise its verified image; for a training
    exercise the given source itself (a folder may hold several datasets, all served to the run), after the
    exercise's dataset was found, downloaded or converted here."""
    if spec.kind == "arrays":
        return str(find_ascent(data).path)
    from grader.data import explicit_source, served_datasets

    served_datasets(spec.dataset.name, data=data)
    return explicit_source(data)


def problem_arrays_report(*, spec: ExerciseSpec, sub: Submission, seed: int) -> Report:
    """The report for a file that cannot be run at all: every check fails with the reason."""
    ev = ArraysEvidence(spec=spec, submission=sub)
    outcomes = hint_once([check(ev) for check in CHECKS])
    return arrays_report(ev, outcomes, seed=seed, timings=Timings(), isolation=Isolation.NONE, seconds=[])


def _policy(spec: ExerciseSpec, isolation: Isolation, folder: Path, hidden: tuple[Path, ...]) -> Policy:
    limits = spec.limits
    return Policy(isolation=isolation, writable=(folder,), hidden=default_hidden(hidden),
                  memory_bytes=limits.memory_mb << 20, max_pids=limits.max_processes,
                  disk_bytes=limits.disk_mb << 20, output_bytes=limits.output_bytes)


def grade_arrays(*, spec: ExerciseSpec, submission: str | os.PathLike[str], data: str | os.PathLike[str] | None,
                 seed: int, timeout_s: float | None, progress: Callable[[str], None] | None, sandbox: bool,
                 hide: tuple[Path, ...], cancel: threading.Event | None, pictures: bool = False
                 ) -> tuple[Report, list[ImagePanel]]:
    """Grade ``submission`` against an arrays ``spec``, with the HTML report's pictures when asked; raises only
    when grading is impossible (no ascent)."""
    started = time.monotonic()
    assert spec.arrays is not None
    sub = load_submission(Path(submission))
    ascent = find_ascent(data)
    isolation = choose(sandbox=sandbox)
    ev = ArraysEvidence(spec=spec, submission=sub, notes=[*sub.notes])
    sweep()
    seconds: list[float] = []
    with scratch_dir() as scratch:
        if sub.problem is None:
            # The hidden image is made only after the ascent run, which therefore cannot have seen it.
            plan = [("ascent", lambda: ascent.pixels, ascent.source),
                    ("hidden image", lambda: reference.hidden_image(spec.arrays.image_size),  # type: ignore[union-attr]
                     "generated for this grading from a secret seed")]
            for label, make, source in plan:
                folder = scratch / label.replace(" ", "-")
                others = tuple(scratch / other.replace(" ", "-") for other, _, _ in plan if other != label)
                run = ImageRun(label=label, image=make(), source=source)
                run_on_image(run, spec=spec, sub=sub, folder=folder, seed=seed, timeout_s=timeout_s,
                             progress=progress, cancel=cancel,
                             policy=_policy(spec, isolation, folder, (sub.path.resolve().parent, *hide, *others)))
                ev.runs.append(run)
                seconds.append(run.child.wall_s if run.child else 0.0)
    outcomes = hint_once([check(ev) for check in CHECKS])
    if isolation in NOTES:
        ev.notes.append(NOTES[isolation])
    timings = Timings(run_s=round(sum(seconds), 2), total_s=round(time.monotonic() - started, 2))
    report = arrays_report(ev, outcomes, seed=seed, timings=timings, isolation=isolation, seconds=seconds)
    return report, (panels(ev.runs, ev.rules) if pictures else [])


def _facts(ev: ArraysEvidence, run: ImageRun, seconds: float) -> ImageFacts:
    rules = ev.rules
    given, _ = judge.inputs(run, rules)
    result = run.arrays.get(rules.transformed)
    pooled = run.arrays.get(rules.pooled)
    orientation = judge.whole(result, run.image, given, rules) if given is not None and result is not None else None
    return ImageFacts(image=run.label, source=run.source,
                      asked_as=list(dict.fromkeys(run.record.image_requests)) if run.record else [],
                      results_from=run.record.found_in if run.record else None,
                      transformed_shape=list(result.shape) if result is not None else None,
                      pooled_shape=list(pooled.shape) if pooled is not None else None,
                      filter=given.kernel.tolist() if given else None, weight=given.weight if given else None,
                      orientation=judge.ORIENTATION_TEXT[orientation] if orientation else None,
                      run_s=round(seconds, 2))


def arrays_report(ev: ArraysEvidence, outcomes: list[Outcome], *, seed: int, timings: Timings,
                  isolation: Isolation, seconds: list[float]) -> Report:
    # api dispatches here: imported late to keep the import graph acyclic
    from grader.api import check_results, graded_against, summary_line

    tests = check_results(ev.spec, outcomes)
    score, max_score = sum(t.score for t in tests), sum(t.max_score for t in tests)
    passed = all(o.passed for o in outcomes)
    first = ev.ascent
    error = ev.submission.problem or (first.record_problem if first and first.record is None else None)
    images = [_facts(ev, run, s) for run, s in zip(ev.runs, seconds, strict=False)]
    found_in = first.record.found_in if first and first.record else None
    notes = list(ev.notes) + ([f"results taken from {found_in}, called by cnngrade"]
                              if found_in and found_in != "top level" else [])
    details = GradeDetails(
        grader_version=__version__, exercise_id=ev.spec.id, exercise_version=ev.spec.version,
        submission=str(ev.submission.path), submission_sha256=ev.submission.sha256,
        status="passed" if passed else ("error" if error else "failed"), error=error, seed=seed,
        isolation=isolation.value, epoch_budget=0, errors=first.record.errors if first and first.record else [],
        skipped=first.record.skipped if first and first.record else [],
        hints=[o.hint for o in outcomes if o.hint and not o.passed], notes=notes, timings=timings, images=images)
    visible = [f"Note: {n}" for n in notes if n not in NOTES.values()]
    return Report(score=score, max_score=max_score, execution_time=timings.total_s,
                  output="\n".join([summary_line(outcomes, tests), *visible, graded_against(ev.spec)]), tests=tests,
                  extra_data=details)

