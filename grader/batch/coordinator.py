"""Grade a folder of submissions: plan (reuse what is done, train each distinct file once), run on workers,
write each student's result the moment it is known, and rebuild the gradebook from the result files."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grader.api import DEFAULT_SEED, not_graded_report, problem_report, with_notes
from grader.batch.discover import Discovery, Entry, discover
from grader.batch.gradebook import write_gradebook
from grader.feedback import Feedback
from grader.batch.store import ResultStore, ReuseKey, grading_options
from grader.batch.task import GradeTask, TaskOutcome
from grader.batch.workers import DaskWorkers, LocalWorkers
from grader.arrays.grade import data_for
from grader.errors import UsageError
from grader.exercises import find_exercise
from grader.report import Report
from grader.scratch import scratch_dir, sweep
from grader.signals import deferred_signals
from grader.spec import ExerciseSpec
from grader.submission import MAX_SUBMISSION_BYTES, sha256_hex


NEUTRAL_STEM = "submission"


@dataclass(frozen=True)
class BatchEvent:
    """What the coordinator tells its caller: ``start``, ``workers`` (where tasks run), ``result`` per student."""

    kind: str
    done: int = 0
    total: int = 0
    passed: int = 0
    failed: int = 0  # failed, error or not graded
    reused: int = 0
    student: str = ""
    status: str = ""
    score: str = ""
    seconds: float = 0.0
    eta_s: float | None = None
    text: str = ""


@dataclass
class BatchResult:
    results: Path
    total: int = 0
    graded: int = 0
    reused: int = 0
    wall_s: float = 0.0
    statuses: dict[str, str] = field(default_factory=dict)  # student -> passed / failed / error / not_graded
    options_changed: int = 0  # regraded because the grading options differ from the stored result's

    def count(self, status: str) -> int:
        return sum(s == status for s in self.statuses.values())

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and all(s == "passed" for s in self.statuses.values())


@dataclass
class _Plan:
    options_changed: int = 0  # results that would have been reused but were graded with other options
    reused: list[tuple[Entry, Report]] = field(default_factory=list)
    problems: list[tuple[Entry, str]] = field(default_factory=list)  # (entry, sha256 of its problem text)
    groups: dict[str, list[Entry]] = field(default_factory=dict)  # sha256 -> students with that exact file
    content: dict[str, bytes] = field(default_factory=dict)


def _read(entry: Entry) -> bytes | None:
    """The chosen file's bytes, or None with the reason added to the entry (too big, unreadable)."""
    if entry.chosen is None:
        return None
    try:
        size = entry.chosen.path.stat().st_size
        if size <= MAX_SUBMISSION_BYTES:
            return entry.chosen.path.read_bytes()
        entry.problems.append(f"{entry.chosen.shown} is {size} bytes; submissions are capped at "
                              f"{MAX_SUBMISSION_BYTES} bytes")
    except OSError as exc:
        entry.problems.append(f"{entry.chosen.shown} cannot be read ({exc.strerror or exc})")
    entry.chosen = None
    return None


def _plan(discovery: Discovery, store: ResultStore, spec: ExerciseSpec, *, seed: int, force: bool,
          options: dict[str, str]) -> _Plan:
    plan = _Plan()
    for entry in discovery.entries:
        store.path(entry.student)  # fixes each student's file name in sorted order, the same on every run
    for entry in discovery.entries:
        data = _read(entry)
        sha = sha256_hex(data) if data is not None else sha256_hex((entry.problem or "").encode())
        previous = None if force else store.load(entry.student)
        key = ReuseKey.of(sha256=sha, spec=spec, seed=seed, options=options)
        same_kind = previous is not None and _suffix(previous.extra_data.submission) == _suffix(_shown(entry))
        if previous is not None and same_kind and key.matches(previous):
            plan.reused.append((entry, previous))
            continue
        if data is None:
            plan.problems.append((entry, sha))
        else:
            plan.options_changed += previous is not None and same_kind and key.same_file(previous)
            # Same bytes under another suffix is another submission: a .py is not run as a notebook.
            group = f"{sha}|{_suffix(_shown(entry))}"
            plan.groups.setdefault(group, []).append(entry)
            plan.content[group] = data
    return plan


def _suffix(name: str) -> str:
    return PurePosixPath(name.split("!")[-1]).suffix.lower()


def _shown(entry: Entry) -> str:
    return entry.chosen.shown if entry.chosen else entry.student


def _neutral_name(entry: Entry) -> str:
    """The name a group's shared file is graded under: the same for every member, naming nobody."""
    return NEUTRAL_STEM + (_suffix(entry.chosen.path.name) if entry.chosen else ".py")


def _own_name(entry: Entry, shown: str) -> str:
    return PurePosixPath(shown.split("!")[-1]).name or shown


def _personalise(report: Report, entry: Entry, *, shown: str, copies: int,
                 options: dict[str, str] | None = None) -> Report:
    """This student's copy of a result. A duplicate group's shared report names only the neutral file it was
    graded under (by construction: the task never sees a student's file name); here, and only here, that name
    becomes this student's own."""
    if entry.chosen is not None:
        own = json.dumps(_own_name(entry, shown))[1:-1]
        text = report.model_dump_json().replace(json.dumps(_neutral_name(entry))[1:-1], own)
        report = Report.model_validate_json(text)
    # Which of the student's files was graded, and why, is shown under the score where Gradescope shows it.
    report = with_notes(report, [entry.note] if entry.note else [])
    notes = list(report.extra_data.notes)
    if copies > 1:
        notes.append(f"this file is byte-identical to {copies - 1} other submission(s) in the batch; it was "
                     "trained once and the result shared")
    details = report.extra_data.model_copy(update={"student": entry.student, "submission": shown, "notes": notes,
                                                   "grading_options": options or {}})
    return report.model_copy(update={"extra_data": details})


class _Progress:
    def __init__(self, total: int, on_event: Callable[[BatchEvent], None] | None) -> None:
        self.total, self.on_event = total, on_event
        self.done = self.passed = self.failed = self.reused = self.trained = 0
        self.started = time.monotonic()
        self.remaining_tasks = 0

    def result(self, report: Report, *, reused: bool, seconds: float = 0.0) -> None:
        d = report.extra_data
        self.done += 1
        self.reused += reused
        self.passed += d.status == "passed"
        self.failed += d.status != "passed"
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.trained * self.remaining_tasks if self.trained and self.remaining_tasks else None
        if self.on_event:
            self.on_event(BatchEvent("result", self.done, self.total, self.passed, self.failed, self.reused,
                                     d.student or "", "reused" if reused else d.status,
                                     f"{report.score:g}/{report.max_score:g}", seconds, eta,
                                     d.error or report.output))

    def emit(self, kind: str, text: str) -> None:
        if self.on_event:
            self.on_event(BatchEvent(kind, self.done, self.total, self.passed, self.failed, self.reused, text=text))


def grade_batch(*, submissions: Path, results: Path, exercise: str | Path | None = None, data: str | None = None,
                seed: int = DEFAULT_SEED, jobs: int = 1, threads: int | None = None, cluster: str | None = None,
                force: bool = False, pattern: str | None = None, full: bool = False, cpu: bool = False,
                timeout_s: float | None = None, on_event: Callable[[BatchEvent], None] | None = None,
                allow_empty: bool = False) -> BatchResult:
    """Grade every student under ``submissions`` into ``results`` (see README: batch grading).

    Safe to interrupt at any moment: each result file is complete or absent, and the same call again grades
    only what is missing or changed. The gradebook is rebuilt from the result files on the way out, always.
    """
    started = time.monotonic()
    spec, _ = find_exercise(exercise)
    results = results.resolve()
    options = grading_options(spec, full=full, cpu=cpu, timeout_s=timeout_s, threads=threads)
    sweep()  # scratch folders of killed runs
    with scratch_dir("batch-") as staging:
        discovery = discover(submissions, staging=staging, entry_point=spec.entry_point, pattern=pattern,
                             exclude=(results,))
        if discovery.gradable == 0 and not allow_empty:  # almost always a wrong path: say so, write nothing
            found = f"{len(discovery.entries)} student(s) but" if discovery.entries else "no students and"
            raise UsageError(f"nothing to grade under {submissions}: {found} no .ipynb notebook or .py module in any "
                             f"recognised layout (ignored: {', '.join(discovery.ignored[:5]) or 'nothing'}). Is it the "
                             "right path? Pass --allow-empty if this is expected.")
        return _grade_batch(discovery, results, ResultStore(results), spec, options, data=data, seed=seed, jobs=jobs,
                            threads=threads, cluster=cluster, force=force, full=full, cpu=cpu, timeout_s=timeout_s,
                            on_event=on_event, submissions=submissions, staging=staging, started=started)


def _grade_batch(discovery: Discovery, results: Path, store: ResultStore, spec: ExerciseSpec,
                 options: dict[str, str], *, submissions: Path, staging: Path, data: str | None, seed: int, jobs: int,
                 threads: int | None, cluster: str | None, force: bool, full: bool, cpu: bool,
                 timeout_s: float | None, on_event: Callable[[BatchEvent], None] | None, started: float) -> BatchResult:
    plan = _Plan()
    summary = BatchResult(results=results)
    try:
        plan = _plan(discovery, store, spec, seed=seed, force=force, options=options)
        summary.total, summary.reused = len(discovery.entries), len(plan.reused)
        summary.options_changed = plan.options_changed
        progress = _Progress(summary.total, on_event)
        progress.emit("start", f"{summary.total} students: {len(plan.reused)} unchanged, {len(plan.groups)} distinct "
                               f"file(s) to grade, {len(plan.problems)} without a gradable file")
        for entry, previous in plan.reused:
            summary.statuses[entry.student] = previous.extra_data.status
            store.ensure_html(previous)
            progress.result(previous, reused=True)
        for entry, sha in plan.problems:
            report = problem_report(spec=spec, shown=entry.student, sha256=sha,
                                    problem=entry.problem or "nothing to grade", seed=seed)
            _record(store, summary, progress, _personalise(report, entry, shown=entry.student, copies=1,
                                                           options=options))
        if plan.groups:
            if not cluster:  # fail once, before any training, rather than once per student; workers reuse it
                data = data_for(spec, data)
            root = submissions.resolve()
            hide = tuple(str(p) for p in (root.parent if root.is_file() else root, results, staging))
            tasks = [GradeTask(key=sha, name=_neutral_name(members[0]), content=plan.content[sha], spec=spec,
                               seed=seed, data=data, full=full, cpu=cpu, timeout_s=timeout_s, hide=hide)
                     for sha, members in plan.groups.items() if members[0].chosen]
            workers: Any = (DaskWorkers(cluster, threads=threads) if cluster else
                            LocalWorkers(jobs, threads=threads, cpu=cpu))
            progress.emit("workers", workers.describe())
            _run(tasks, plan, workers, store, summary, progress, spec=spec, seed=seed, options=options)
    finally:
        summary.wall_s = time.monotonic() - started
        # The gradebook holds this class as it is now (a result file of a student no longer in SUBMISSIONS is
        # left alone, not counted); a signal while it is written waits until it is whole.
        with deferred_signals():
            reports = [r for r in (store.load(e.student) for e in discovery.entries) if r is not None]
            write_gradebook(results, reports, ignored=discovery.ignored, duplicates=_duplicates(reports),
                            wall_s=summary.wall_s, links={e.student: store.link(e.student) for e in discovery.entries})
    return summary


def _duplicates(reports: list[Report]) -> list[list[str]]:
    """Students whose files are byte-identical (same sha256 and kind), from every result, reused ones too."""
    groups: dict[str, list[str]] = {}
    for r in reports:
        d = r.extra_data
        if d.status != "error" and d.submission_sha256:
            groups.setdefault(f"{d.submission_sha256}|{_suffix(d.submission)}", []).append(d.student or "")
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def _run(tasks: list[GradeTask], plan: _Plan, workers: Any, store: ResultStore, summary: BatchResult,
         progress: _Progress, *, spec: ExerciseSpec, seed: int, options: dict[str, str]) -> None:
    progress.remaining_tasks = len(tasks)
    futures = {workers.submit(task): task for task in tasks}
    interrupted = True
    try:
        for future in workers.completed(futures):
            task = futures[future]
            try:
                outcome: TaskOutcome = future.result()
            except Exception as exc:  # a lost worker, a crash in the grader itself: this task is not graded
                outcome = TaskOutcome(task.key, error=f"the grading task failed: {type(exc).__name__}: {exc}")
            progress.trained += 1
            progress.remaining_tasks -= 1
            members = plan.groups[task.key]
            # One report per distinct file, parsed once; each student gets a personalised copy of it.
            base = (Report.model_validate_json(outcome.report_json) if outcome.report_json else
                    not_graded_report(spec=spec, shown=task.name, sha256=task.key.split("|")[0],
                                      error=outcome.error or "?", seed=seed))
            feedback = Feedback.model_validate_json(outcome.feedback_json) if outcome.feedback_json else None
            for entry in members:
                shown = entry.chosen.shown if entry.chosen else entry.student
                _record(store, summary, progress, _personalise(base, entry, shown=shown, copies=len(members),
                                                               options=options), seconds=outcome.seconds,
                        feedback=feedback)
        interrupted = False
    finally:
        workers.close(cancel=interrupted)


def _record(store: ResultStore, summary: BatchResult, progress: _Progress, report: Report, *,
            seconds: float = 0.0, feedback: Feedback | None = None) -> None:
    store.save(report, feedback)
    d = report.extra_data
    store.log({"student": d.student, "status": d.status, "score": report.score, "sha256": d.submission_sha256,
               "time": time.time()})
    summary.statuses[d.student or ""] = d.status
    summary.graded += 1
    progress.result(report, reused=False, seconds=seconds)
