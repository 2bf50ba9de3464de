"""Commands for course staff: ``check``, ``validate``, ``exercises``, ``release`` (thin layers over
``grader.authoring``)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli import fail, main, output_file
from grader.errors import CnngradeError, ExitCode

REPO_ARG = click.argument("repo", type=click.Path(path_type=Path, file_okay=False), required=False)


def _repo(repo: Path | None) -> Path:
    """REPO, else the current folder when it holds exercises/, else the checkout cnngrade runs from."""
    if repo is not None:
        return repo
    here = Path.cwd()
    return here if (here / "exercises").is_dir() else Path(__file__).resolve().parent.parent


CHECK_EXIT_HELP = """\b
Exit codes:
  0  every case holds (solutions pass, known-bad examples fail as declared,
     starters match)
  1  at least one case does not hold
  2  usage error (no exercises/ folder or no exercise in it, bad option,
     a --junit file that cannot be written)
  3  could not grade (e.g. MNIST data missing)"""

VALIDATE_EXIT_HELP = """\b
Exit codes:
  0  every exercise is valid
  1  at least one problem (each is printed with its file)
  2  usage error (no exercises/ folder or no exercise in it, bad option)"""


@main.command(epilog=CHECK_EXIT_HELP)
@REPO_ARG
@click.option("--exercise", "-e", metavar="ID", help="Only this exercise.")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Grade each reference solution under N seeds and report its pass rate and epochs.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Grade N at once.")
@click.option("--junit", type=click.Path(path_type=Path), callback=output_file("check.xml"),
              help="Write JUnit XML here (checked before grading).")
@click.option("--data", metavar="PATH", help="mnist.npz or a folder holding it [default: $CNNGRADE_DATA, Keras' cache].")
@click.option("--cpu", is_flag=True, help="Train on the CPU even when GPUs are visible.")
def check(repo: Path | None, exercise: str | None, seeds: int, jobs: int, junit: Path | None, data: str | None,
          cpu: bool) -> None:
    """Prove every exercise in REPO (default: here) is gradable.

    Validates each exercises/<id>/ (spec, starter), checks that the starter is the released solution
    notebook, grades every reference solution in solutions/<id>/ (must pass; with --seeds N, passing only
    sometimes is reported as a flaky exercise) and every solutions/<id>/known-bad/ example (must fail first on
    the check its .toml declares). On GitHub Actions it also writes a job summary and error annotations.
    """
    from grader.authoring.check import CaseResult, run_check
    from grader.authoring.ci_output import report_to_github, write_junit

    def show(case: CaseResult) -> None:
        mark = click.style("ok  ", fg="green") if case.ok else click.style("FAIL", fg="red", bold=True)
        took = f" ({case.seconds:.0f} s)" if case.seconds else ""
        click.echo(f"{mark} {case.exercise}: {case.name}{took}" + (f"\n     {case.message}" if case.message else ""))

    try:
        repo = _repo(repo)
        result = run_check(repo=repo, exercise=exercise, seeds=seeds, jobs=jobs, data=data, cpu=cpu, on_case=show)
    except CnngradeError as exc:
        fail(exc)
    if junit is not None:
        write_junit(result, junit)
    report_to_github(result, root=_repo(repo))
    failed = sum(not c.ok for c in result.cases)
    click.echo(f"\n{len(result.cases) - failed}/{len(result.cases)} checks hold" +
               ("" if result.ok else f"; {failed} do not"))
    sys.exit(int(ExitCode.PASSED if result.ok else ExitCode.FAILED))


@main.command(epilog=VALIDATE_EXIT_HELP)
@REPO_ARG
@click.option("--exercise", "-e", metavar="ID", help="Only this exercise.")
def validate(repo: Path | None, exercise: str | None) -> None:
    """Check the exercise specs in REPO without training: schema errors with file and field, starter notebook
    present and valid, entry point consistent, known-bad declarations."""
    from grader.authoring.validate import validate_repository

    try:
        exercises, findings = validate_repository(_repo(repo), only=exercise)
    except CnngradeError as exc:
        fail(exc)
    for finding in findings:
        click.echo(f"{finding.path}: {finding.message}", err=True)
    click.echo(f"{len(exercises)} exercise(s), {len(findings)} problem(s)")
    sys.exit(int(ExitCode.FAILED if findings else ExitCode.PASSED))


@main.command()
@REPO_ARG
def exercises(repo: Path | None) -> None:
    """List the exercises in REPO with their rules, budgets and points."""
    from grader.authoring.repository import load_repository

    try:
        found = load_repository(_repo(repo))
    except CnngradeError as exc:
        fail(exc)
    for ex in found:
        if ex.spec is None:
            click.echo(f"{ex.folder.name}: INVALID ({ex.spec_problem})")
            continue
        s, t, a = ex.spec, ex.spec.training, ex.spec.architecture
        data = (f"{s.dataset.name} ({s.dataset.train_limit or 'all'} train / {s.dataset.test_limit or 'all'} test "
                "images)")
        click.echo(f"{s.id} {s.version}: {s.title}\n"
                   f"  data: {data}; entry point: {s.entry_point or '(none: the last fit is graded)'}\n"
                   f"  rules: {a.convolutions} convolution(s), {a.max_pooling_2d} MaxPooling2D; {t.metric} above "
                   f"{t.threshold} within {t.epoch_budget} epochs; message {t.message!r}\n"
                   f"  floors: re-measured train >= {t.min_train_accuracy}, test >= {t.min_test_accuracy}; "
                   f"{s.points.total:g} points; "
                   f"{len(ex.solutions)} solution(s), {len(ex.known_bad)} known-bad example(s)")


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
