"""The ``cnngrade`` command: a thin Click layer over ``grader.api`` (no TensorFlow import here).

Exit codes: 0 all checks passed, 1 graded with failures, 2 usage error, 3 could not grade.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from grader import __version__
from grader.errors import CnngradeError, ExitCode

EXIT_CODES_HELP = """\b
Exit codes:
  0  graded, all checks passed
  1  graded, at least one check failed
  2  usage error (bad option, missing file, invalid exercise spec)
  3  could not grade (e.g. MNIST data missing)"""


class DefaultCommandGroup(click.Group):
    """``cnngrade FILE`` means ``cnngrade submit FILE``: anything that is not a subcommand is a submission."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["submit", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="cnngrade")
def main() -> None:
    """Grade TensorFlow/Keras CNN exercises.

    \b
    cnngrade submit.ipynb            grade one notebook or .py module
    cnngrade grade SUBMISSIONS -o RESULTS   grade a class (folder or .zip), resumable
    cnngrade check [REPO]            prove every exercise's solutions pass and known-bad ones fail
    cnngrade validate [REPO]         check exercise specs and starters (no training)
    cnngrade exercises               list the exercises and their rules
    cnngrade release SOL.ipynb -o starter.ipynb   student version of a solution notebook
    cnngrade schema                  print the JSON Schema of the report
    """


def fail(exc: CnngradeError, *, newline: bool = False) -> NoReturn:
    """Every command's way out for a ``CnngradeError``: its message on stderr, its exit code."""
    click.echo(("\n" if newline else "") + f"cnngrade: {exc}", err=True)
    sys.exit(int(exc.exit_code))


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    return lambda text: click.echo(f"  .. {text}", err=True)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--exercise", "-e", metavar="ID|PATH", help="Exercise id or spec path [default: mnist-single-conv].")
@click.option("--data", metavar="PATH", help="mnist.npz or a folder holding it [default: $CNNGRADE_DATA, Keras' cache].")
@click.option("--seed", type=int, default=None, help="Seed for all randomness [default: fixed, recorded in the report].")
@click.option("--full", is_flag=True, help="Train even when the architecture is wrong (slower, more feedback).")
@click.option("--cpu", is_flag=True, help="Train on the CPU even when a GPU is visible.")
@click.option("--timeout", type=float, metavar="SECONDS", help="Wall-clock limit for the run [default: the exercise's].")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Also write the JSON report to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of the table.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option("--no-sandbox", is_flag=True, help="DEBUGGING ONLY: run the submission without isolation.")
def submit(file: Path, exercise: str | None, data: str | None, seed: int | None, full: bool, cpu: bool,
           timeout: float | None, output: Path | None, as_json: bool, quiet: bool, no_sandbox: bool) -> None:
    """Grade one submission FILE (.ipynb or .py).

    The code runs in an isolated child process; the grade rests only on what cnngrade recorded and
    re-measured from the exported model. Writes a Gradescope-compatible JSON report with -o.
    """
    from grader.api import DEFAULT_SEED, grade
    from grader.render import render
    from grader.report import write_report

    if no_sandbox:
        click.secho("cnngrade: WARNING: --no-sandbox runs the submission with your rights, unconfined. "
                    "Never use it on code you do not trust.", err=True, fg="red", bold=True)
    hide = (output.resolve().parent,) if output is not None else ()
    try:
        report = grade(submission=file, exercise=exercise, data=data, seed=DEFAULT_SEED if seed is None else seed,
                       full=full, cpu=cpu, timeout_s=timeout, progress=_progress(quiet or as_json),
                       sandbox=not no_sandbox, hide=hide)
    except CnngradeError as exc:
        fail(exc)
    if output is not None:
        write_report(report, output)
    if as_json:
        click.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        click.echo(render(report))
    sys.exit(int(ExitCode.PASSED if report.passed else ExitCode.FAILED))


@main.command()
def schema() -> None:
    """Print the JSON Schema of the report (Gradescope results.json plus cnngrade's extra_data)."""
    from grader.report import report_schema

    click.echo(json.dumps(report_schema(), indent=2))



# The other commands live in their own modules and attach themselves to ``main``.
from grader import cli_authoring, cli_batch  # noqa: E402,F401
