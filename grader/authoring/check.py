"""``cnngrade check``: prove that every exercise in a solutions repository is gradable.

Cases, each with a verdict: the spec and starter validate; the starter equals the released solution notebook;
every reference solution passes (under ``seeds`` seeds: a solution that passes only sometimes makes the exercise
flaky); every known-bad example fails, and fails first on the check it declares.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from grader.api import DEFAULT_SEED
from grader.authoring.release import BEGIN, read_notebook, release_notebook, same_cells
from grader.authoring.repository import Exercise, KnownBad
from grader.authoring.validate import validate_repository
from grader.batch.task import GradeTask, TaskOutcome
from grader.batch.workers import LocalWorkers
from grader.arrays.grade import data_for
from grader.errors import UsageError
from grader.report import Report
from grader.spec import ExerciseSpec


@dataclass
class CaseResult:
    exercise: str
    name: str  # what CI shows as the test name, e.g. "solution reference_module.py"
    path: Path
    ok: bool
    message: str = ""
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    cases: list[CaseResult]

    @property
    def ok(self) -> bool:
        return bool(self.cases) and all(c.ok for c in self.cases)


def _marked_solution(exercise: Exercise) -> tuple[Path, NotebookNode] | None:
    """The first solution notebook with ``### BEGIN SOLUTION`` regions, read once."""
    for path in exercise.solutions:
        if path.suffix != ".ipynb":
            continue
        try:
            node = read_notebook(path)
        except UsageError:
            continue  # an unreadable solution fails its own grading case
        if any(BEGIN.match(line) for cell in node.cells for line in cell.source.split("\n")):
            return path, node
    return None


def _starter_case(exercise: Exercise) -> CaseResult | None:
    """The starter must be exactly what ``cnngrade release`` makes of the marked solution notebook."""
    marked = _marked_solution(exercise)
    if marked is None or not exercise.starter.is_file():
        return None
    solution, node = marked
    name = f"starter matches release of {solution.name}"
    try:
        released, _ = release_notebook(node, name=solution.name)
        differs = same_cells(released, read_notebook(exercise.starter))
    except UsageError as exc:
        return CaseResult(exercise.id, name, exercise.starter, False, str(exc))
    if differs:
        return CaseResult(exercise.id, name, exercise.starter, False,
                          f"{exercise.starter.name} is not the released {solution.name} ({differs}); regenerate it: "
                          f"cnngrade release {solution} -o {exercise.starter}")
    return CaseResult(exercise.id, name, exercise.starter, True)


def _failed(report: Report) -> list[str]:
    return [t.extra_data.check for t in report.tests if t.status == "failed"]


def _solution_verdict(exercise: str, path: Path, runs: list[tuple[int, Report | None, str | None]]) -> CaseResult:
    passes = [r for _, r, _ in runs if r is not None and r.passed]
    epochs = [r.extra_data.epochs_run for _, r, _ in runs if r is not None and r.passed]
    seconds = sum(r.extra_data.timings.total_s for _, r, _ in runs if r is not None)
    details: dict[str, Any] = {"seeds": [s for s, _, _ in runs], "passed": len(passes), "runs": len(runs)}
    if epochs:
        details["epochs"] = {"min": min(epochs), "median": statistics.median(epochs), "max": max(epochs)}
    name = f"solution {path.name}"
    if len(passes) == len(runs):
        spread = f"; epochs min/median/max {min(epochs)}/{statistics.median(epochs):g}/{max(epochs)}" if len(runs) > 1 else ""
        return CaseResult(exercise, name, path, True, f"passed {len(runs)}/{len(runs)}{spread}", seconds, details)
    failures = []
    for seed, report, error in runs:
        if report is None or not report.passed:
            why = error or (f"{', '.join(_failed(report))} failed: {report.output}" if report else "no report")
            failures.append(f"seed {seed}: {why}")
    if passes:
        text = (f"FLAKY exercise: the reference solution passed {len(passes)} of {len(runs)} seeds, so students with a "
                "correct solution would fail by luck; widen the epoch budget or loosen the threshold that failed. ")
    else:
        text = "the reference solution does not pass: "
    return CaseResult(exercise, name, path, False, text + " | ".join(failures), seconds, details)


def _bad_verdict(exercise: str, path: Path, declared: KnownBad, report: Report | None, error: str | None
                 ) -> CaseResult:
    name = f"known-bad {path.name} fails {declared.fails}"
    if report is None:
        return CaseResult(exercise, name, path, False, f"could not be graded: {error}")
    failed = _failed(report)
    seconds = report.extra_data.timings.total_s
    if not failed:
        return CaseResult(exercise, name, path, False, f"PASSED all checks, but is declared to fail "
                          f"{declared.fails!r} ({declared.why or 'no reason given'})", seconds)
    if failed[0] != declared.fails:
        return CaseResult(exercise, name, path, False,
                          f"declared to fail {declared.fails!r} but failed {failed[0]!r} first (failed: "
                          f"{', '.join(failed)}): {report.output}", seconds, {"failed": failed})
    return CaseResult(exercise, name, path, True, f"failed {declared.fails!r} as declared", seconds,
                      {"failed": failed})


def run_check(*, repo: Path, exercise: str | None = None, seeds: int = 1, jobs: int = 1, data: str | None = None,
              cpu: bool = False, on_case: Callable[[CaseResult], None] | None = None) -> CheckResult:
    """Validate and grade everything in ``repo``; returns every case's verdict (nothing raised for failures)."""
    exercises, findings = validate_repository(repo, only=exercise)
    cases = [CaseResult(f.exercise, f"valid {f.path.name}", f.path, False, f.message) for f in findings]
    for ex in exercises:
        if ex.spec is not None and not any(f.path.is_relative_to(ex.folder) for f in findings):
            cases.append(CaseResult(ex.id, "valid exercise.toml and starter.ipynb", ex.folder / "exercise.toml", True))
        starter = _starter_case(ex)
        if starter:
            cases.append(starter)
    for case in cases:
        if on_case:
            on_case(case)
    gradable = [ex for ex in exercises if ex.spec is not None]
    if any(ex.solutions or ex.known_bad for ex in gradable):
        # Each dataset is found and verified once, before any training (a missing one is exit 3, not N failures).
        datasets: dict[str, str | None] = {_data_key(ex.spec): data_for(ex.spec, data) for ex in gradable if ex.spec is not None}
        cases += _grade_all(gradable, repo=repo, seeds=seeds, jobs=jobs, datasets=datasets, cpu=cpu, on_case=on_case)
    return CheckResult(cases)


def _data_key(spec: ExerciseSpec) -> str:
    """Which data an exercise grades on: its dataset, or for an arrays exercise its image."""
    return f"image:{spec.arrays.image}" if spec.arrays is not None else spec.dataset.name


def _grade_all(exercises: list[Exercise], *, repo: Path, seeds: int, jobs: int, datasets: dict[str, str | None], cpu: bool,
               on_case: Callable[[CaseResult], None] | None) -> list[CaseResult]:
    workers = LocalWorkers(jobs, cpu=cpu)
    # future -> (exercise, file, its declaration (None for a reference solution), seed)
    pending: dict[Any, tuple[Exercise, Path, KnownBad | None, int]] = {}

    def submit(ex: Exercise, path: Path, declared: KnownBad | None, seed: int) -> None:
        spec = ex.spec
        assert spec is not None  # only exercises with a valid spec are graded
        task = GradeTask(key=str(path), name=path.name, content=path.read_bytes(), spec=spec, seed=seed,
                         data=datasets[_data_key(spec)], cpu=cpu, hide=(str(repo.resolve()),))
        pending[workers.submit(task)] = (ex, path, declared, seed)

    for ex in exercises:  # known-bad examples first: most fail fast, so CI reports them early
        for bad in ex.known_bad:
            if bad.declared is not None:  # an undeclared one is already a failing validation case
                submit(ex, bad.path, bad.declared, DEFAULT_SEED)
    for ex in exercises:
        for path in ex.solutions:
            for i in range(seeds):
                submit(ex, path, None, DEFAULT_SEED + i)
    runs: dict[Path, list[tuple[int, Report | None, str | None]]] = {}
    results: list[CaseResult] = []
    interrupted = True
    try:
        for future in workers.completed(pending):
            ex, path, declared, seed = pending[future]
            outcome: TaskOutcome = future.result()
            report = Report.model_validate_json(outcome.report_json) if outcome.report_json else None
            runs.setdefault(path, []).append((seed, report, outcome.error))
            if declared is not None:
                case = _bad_verdict(ex.id, path, declared, report, outcome.error)
            elif len(runs[path]) == seeds:
                case = _solution_verdict(ex.id, path, sorted(runs[path], key=lambda r: r[0]))
            else:
                continue
            results.append(case)
            if on_case:
                on_case(case)
        interrupted = False
    finally:
        workers.close(cancel=interrupted)
    return results
