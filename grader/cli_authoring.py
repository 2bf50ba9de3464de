"""Commands for course staff: ``check``, ``validate``, ``exercises``, ``release`` (thin layers over
``grader.authoring``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from grader.cli import fail, main, output_file
from grader.errors import CnngradeError, ExitCode, UsageError
from grader.exercises import LOOKUP_ORDER, SPEC_FILE, solutions_repository
from grader.architecture import describe_rules
from grader.spec import ExerciseSpec

REPO_ARG = click.argument("repo", type=click.Path(path_type=Path, file_okay=False), required=False)


def _repo(repo: Path | None, command: str) -> Path:
    """REPO as given, else the solutions repository the command runs in; never anything else (not the grader's own
    checkout): outside a solutions repository it is a usage error."""
    if repo is not None:
        return repo
    found = solutions_repository()
    if found is None:
        try:
            here = str(Path.cwd())
        except OSError:
            here = "the current folder (deleted)"
        raise UsageError(f"not in a solutions repository: neither {here} nor any folder above it has "
                         f"exercises/<id>/{SPEC_FILE}; run it inside one, or name it: cnngrade {command} REPO")
    return found


def _announce(repo: Path) -> None:
    """check and validate name the repository they work on, first."""
    click.echo(f"solutions repository: {repo.absolute()}")


CHECK_EXIT_HELP = """\b
Exit codes:
  0  every case holds (solutions pass, known-bad examples fail as declared,
     starters match)
  1  at least one case does not hold
  2  usage error (not in a solutions repository and no REPO, no exercises/
     folder or no exercise in it, bad option, a --junit file that cannot
     be written)
  3  could not grade (e.g. the dataset is missing), or an unexpected error
     (one line; the details go to a log file it names)"""

VALIDATE_EXIT_HELP = """\b
Exit codes:
  0  every exercise is valid
  1  at least one problem (each is printed with its file)
  2  usage error (not in a solutions repository and no REPO, no exercises/
     folder or no exercise in it, bad option)
  3  an unexpected error (one line; the details go to a log file it names)"""


@main.command(epilog=CHECK_EXIT_HELP)
@REPO_ARG
@click.option("--exercise", "-e", metavar="ID", help="Only this exercise.")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Grade each reference solution under N seeds and report its pass rate and epochs.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Grade N at once.")
@click.option("--junit", type=click.Path(path_type=Path), callback=output_file("check.xml"),
              help="Write JUnit XML here (checked before grading).")
@click.option("--data", metavar="PATH", help="A dataset's .npz, or a folder holding mnist.npz, fashion_mnist.npz or "
                   "Fashion-MNIST's .gz files [default: $CNNGRADE_DATA, Keras' cache, /usr/share/datasets].")
@click.option("--cpu", is_flag=True, help="Train on the CPU even when GPUs are visible.")
def check(repo: Path | None, exercise: str | None, seeds: int, jobs: int, junit: Path | None, data: str | None,
          cpu: bool) -> None:
    """Prove every exercise in the solutions repository REPO is gradable.

    Validates each exercises/<id>/ (spec, starter), checks that the starter is the released solution
    notebook, grades every reference solution in solutions/<id>/ (must pass; with --seeds N, passing only
    sometimes is reported as a flaky exercise) and every solutions/<id>/known-bad/ example (must fail first on
    the check its .toml declares). On GitHub Actions it also writes a job summary and error annotations.

    REPO defaults to the solutions repository you are in: the nearest folder, from the current folder
    upwards, with exercises/<id>/exercise.toml. Outside one, pass REPO (exit 2 otherwise). The first line
    printed names the repository checked.
    """
    from grader.authoring.check import CaseResult, run_check
    from grader.authoring.ci_output import report_to_github, write_junit

    def show(case: CaseResult) -> None:
        mark = click.style("ok  ", fg="green") if case.ok else click.style("FAIL", fg="red", bold=True)
        took = f" ({case.seconds:.0f} s)" if case.seconds else ""
        click.echo(f"{mark} {case.exercise}: {case.name}{took}" + (f"\n     {case.message}" if case.message else ""))

    from grader.authoring.repository import load_repository

    try:
        root = _repo(repo, "check")
        load_repository(root, only=exercise)  # a wrong REPO is refused before it is named as the one checked
        _announce(root)
        result = run_check(repo=root, exercise=exercise, seeds=seeds, jobs=jobs, data=data, cpu=cpu, on_case=show)
    except CnngradeError as exc:
        fail(exc)
    if junit is not None:
        write_junit(result, junit)
    report_to_github(result, root=root)
    failed = sum(not c.ok for c in result.cases)
    click.echo(f"\n{len(result.cases) - failed}/{len(result.cases)} checks hold" +
               ("" if result.ok else f"; {failed} do not"))
    sys.exit(int(ExitCode.PASSED if result.ok else ExitCode.FAILED))


@main.command(epilog=VALIDATE_EXIT_HELP)
@REPO_ARG
@click.option("--exercise", "-e", metavar="ID", help="Only this exercise.")
def validate(repo: Path | None, exercise: str | None) -> None:
    """Check the exercise specs in the solutions repository REPO without training: schema errors with file and
    field, starter notebook present and valid, entry point consistent, known-bad declarations.

    REPO defaults to the solutions repository you are in: the nearest folder, from the current folder
    upwards, with exercises/<id>/exercise.toml. Outside one, pass REPO (exit 2 otherwise). The first line
    printed names the repository validated.
    """
    from grader.authoring.validate import validate_repository

    try:
        root = _repo(repo, "validate")
        exercises, findings = validate_repository(root, only=exercise)
    except CnngradeError as exc:
        fail(exc)
    _announce(root)
    for finding in findings:
        click.echo(f"{finding.path}: {finding.message}", err=True)
    click.echo(f"{len(exercises)} exercise(s), {len(findings)} problem(s)")
    sys.exit(int(ExitCode.FAILED if findings else ExitCode.PASSED))


EXERCISES_HELP = f"""\b
Where --exercise ID is looked up, first match wins:
  1. an explicit spec path: an existing exercise.toml (or any .toml
     file), or a folder holding exercise.toml
  2. $CNNGRADE_EXERCISES: folders holding <id>/exercise.toml, separated
     by '{os.pathsep}'
  3. the solutions repository the command runs in: the nearest folder,
     from the current folder upwards, with exercises/<id>/exercise.toml
     (check and validate use only this one, or their REPO)
  4. the exercises built into the installed package
Each exercise listed says which of these it comes from; one that an
earlier source shadows is listed as not used.

\b
Exit codes:
  0  listed
  2  no exercise found (with REPO: no exercises/ folder or no exercise
     in it)
  3  an unexpected error (one line; the details go to a log file it names)"""


def _describe_rules(spec: ExerciseSpec) -> list[str]:
    if spec.arrays is not None:  # an arrays exercise: the image and the names its code must leave
        r = spec.arrays
        return [f"  data: SciPy's {r.image} ({r.image_size[0]}x{r.image_size[1]}) and a hidden image of that size",
                (f"  rules: {', '.join(r.names)} computed by the code; 3x3 filter, clip to [{r.clip[0]:g}, "
                 f"{r.clip[1]:g}], {r.pool_size}x{r.pool_size} max pooling; checks: {', '.join(spec.check_ids)}; "
                 f"{spec.max_points:g} points")]
    g, d = spec.goal, spec.dataset
    data = f"{d.name} ({d.train_limit or 'all'} train / {d.test_limit or 'all'} test images)"
    stop = ("; a callback stops training there" + (f", printing {g.message!r}" if g.message else "")
            if g.stop_callback else "")
    floors = [f"re-measured train >= {spec.train_accuracy_floor}"] if spec.train_accuracy_floor is not None else []
    floors += [f"test >= {spec.test_accuracy_floor}"] if spec.test_accuracy_floor is not None else []
    legacy = "; callbacks also see 'acc' (legacy_metric_names)" if spec.training.legacy_metric_names else ""
    return [f"  data: {data}; entry point: {spec.entry_point or '(none: the last fit is graded)'}",
            f"  layers: {describe_rules(spec.architecture)}",
            f"  goal: {g.describe()} within {g.epoch_budget} epochs{stop}{legacy}",
            f"  floors: {', '.join(floors) or 'none'}; checks: {', '.join(spec.check_ids)}; {spec.max_points:g} points"]


@main.command(epilog=EXERCISES_HELP)
@REPO_ARG
def exercises(repo: Path | None) -> None:
    """List the exercises cnngrade can find from here, each with where it comes from, its version, rules,
    budgets and points (and, in a solutions repository, its solutions and known-bad examples).

    With REPO, list only that solutions repository's exercises.
    """
    from grader.authoring.repository import Exercise, load_repository
    from grader.exercises import Located, Source, available

    listing: list[tuple[Located, Located | None, Exercise | None]] = []
    try:
        if repo is not None:
            source = Source("repository", repo / "exercises")
            listing = [(Located(ex.id, ex.folder, source, ex.spec, ex.spec_problem), None, ex)
                       for ex in load_repository(repo)]
        else:
            here = solutions_repository()
            in_repo = {ex.folder.resolve(): ex for ex in load_repository(here)} if here is not None else {}
            listing = [(loc, shadow, in_repo.get(loc.folder.resolve())) for loc, shadow in available()]
            if not listing:
                raise UsageError(f"no exercise found; looked in: {LOOKUP_ORDER}")
    except CnngradeError as exc:
        fail(exc)
    for located, shadowed_by, solutions in listing:
        spec, name = located.spec, located.folder.name
        head = f"{spec.id} {spec.version}: {spec.title}" if spec else f"{name}: INVALID ({located.problem})"
        click.echo(f"{head}\n  from: {located.source.describe()}")
        if shadowed_by is not None:
            click.echo(f"  NOT USED: --exercise {name} finds the one from {shadowed_by.source.describe()}")
            continue
        if spec is None:
            continue
        lines = _describe_rules(spec)
        if solutions is not None:
            lines[-1] += (f"; {len(solutions.solutions)} solution(s), {len(solutions.known_bad)} known-bad "
                          "example(s)")
        click.echo("\n".join(lines))


@main.command()
@click.argument("solution", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, callback=output_file("starter.ipynb"),
              help="Where to write the student version (e.g. exercises/<id>/starter.ipynb).")
@click.option("--placeholder", default="# YOUR CODE HERE", show_default=True,
              help="Code that replaces each solution region (\\n for several lines).")
def release(solution: Path, output: Path, placeholder: str) -> None:
    """Write the student version of SOLUTION: each ### BEGIN SOLUTION ... ### END SOLUTION region becomes the
    placeholder (markdown regions become YOUR ANSWER HERE) and outputs are stripped."""
    from grader.authoring.release import release_file

    try:
        regions = release_file(solution, output, placeholder=placeholder.replace("\\n", "\n"))
    except CnngradeError as exc:
        fail(exc)
    click.echo(f"{output}: {regions} solution region(s) replaced")
