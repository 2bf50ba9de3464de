"""``cnngrade gradescope build|run`` and the LMS gradebook options of ``cnngrade grade``: a thin Click layer over
``grader.platforms`` (no TensorFlow import here)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from grader.cli import fail, main, output_file, positive_seconds
from grader.errors import CnngradeError, ExitCode, UsageError
from grader.platforms.canvas import CanvasExport

BUILD_EXIT_HELP = """\b
Exit codes:
  0  the zip was written
  2  usage error (unknown exercise, bad option, an -o that cannot be
     written, a --wheel that is not cnngrade's, no wheel can be built)
  3  the --data file is not the exercise's canonical dataset, or an
     unexpected error (one line, the details in a log)"""

RUN_EXIT_HELP = """\b
Exit codes:
  0  graded, every check passed
  1  graded, at least one check failed (or the submission could not run)
  2  usage error (missing zip or submission, a zip not built by cnngrade)
  3  not graded (results.json says why: empty submission, no notebook,
     several candidates, the grader failed)"""


@main.group()
def gradescope() -> None:
    """Gradescope autograder: build the zip, run it locally as Gradescope would.

    \b
    cnngrade gradescope build -e EXERCISE -o autograder.zip
    cnngrade gradescope run autograder.zip SUBMISSION [-o results.json]
    """


@gradescope.command(epilog=BUILD_EXIT_HELP)
@click.option("--exercise", "-e", metavar="ID|PATH", help="Exercise id or spec path [default: mnist-single-conv].")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              callback=output_file("autograder.zip"), help="The zip to write (upload it to Gradescope).")
@click.option("--visibility", type=click.Choice(["visible", "after_published", "hidden"]), default="visible",
              show_default=True, help="When students see the results and each check.")
@click.option("--leaderboard", is_flag=True, help="Add a leaderboard: test accuracy, epochs to the threshold.")
@click.option("--timeout", type=float, metavar="SECONDS", callback=positive_seconds,
              help="Time limit per submission [default: the exercise's]; set Gradescope's own limit above it.")
@click.option("--gpu/--cpu", default=False, show_default=True,
              help="Install TensorFlow with CUDA (for a Gradescope GPU base image) or for the CPU.")
@click.option("--data", metavar="PATH",
              help="Ship this dataset file in the zip (verified now) instead of downloading it in setup.sh "
                   "(an arrays exercise: SciPy's ascent.dat, or a folder holding it).")
@click.option("--wheel", type=click.Path(path_type=Path), metavar="WHL",
              help="Ship this cnngrade wheel [default: built now from this cnngrade's checkout].")
@click.option("--output-format", type=click.Choice(["html", "text"]), default="html", show_default=True,
              help="Check outputs as HTML with the training curve on Gradescope's results page, or plain text.")
def build(exercise: str | None, output: Path, visibility: Any, leaderboard: bool, timeout: float | None, gpu: bool,
          data: str | None, wheel: Path | None, output_format: Any) -> None:
    """Build the Gradescope autograder zip for EXERCISE.

    The zip holds setup.sh (installs Python, bubblewrap, this cnngrade from a wheel inside the
    zip, TensorFlow, and the dataset verified by its hashes: grading needs no network),
    run_autograder (grades whatever notebook or module the student uploaded and always writes
    results.json) and cnngrade-autograder.json (the exercise spec and these options).
    """
    from grader.exercises import find_exercise
    from grader.platforms.gradescope_build import build as build_zip

    try:
        spec = find_exercise(exercise)[0]
        config = build_zip(spec=spec, output=output, visibility=visibility, leaderboard=leaderboard,
                           timeout_s=timeout, gpu=gpu, data=data, wheel=wheel, output_format=output_format)
    except CnngradeError as exc:
        fail(exc)
    shipped = f"dataset shipped: {config.data_file}" if config.data_file else "dataset: fetched by setup.sh"
    click.echo(f"{output}: autograder for {spec.id} {spec.version} (cnngrade {config.grader_version}, "
               f"{config.base.upper()}, {config.wheel}, {shipped}, visibility {config.visibility}, "
               f"{config.output_format} outputs"
               f"{', leaderboard' if config.leaderboard else ''})")


@gradescope.command(epilog=RUN_EXIT_HELP)
@click.argument("autograder", type=click.Path(path_type=Path))
@click.argument("submission", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), callback=output_file("results.json"),
              help="Also write the results.json it produced here.")
@click.option("--data", metavar="PATH", help="Dataset for this run [default: the zip's, $CNNGRADE_DATA, Keras' cache].")
@click.option("--json", "as_json", is_flag=True, help="Print results.json instead of the table.")
@click.option("--quiet", "-q", is_flag=True, help="Do not echo run_autograder's own output on stderr.")
def run(autograder: Path, submission: Path, output: Path | None, data: str | None, as_json: bool,
        quiet: bool) -> None:
    """Run AUTOGRADER (the zip) on SUBMISSION (a file, or a folder as the student uploaded it) as
    Gradescope would: unpacked into a scratch root laid out like /autograder, run_autograder run
    there with $CNNGRADE_AUTOGRADER_ROOT pointing at it.

    setup.sh is NOT run (it installs system packages): the cnngrade and TensorFlow of this
    environment grade, with this machine's dataset unless the zip ships one.
    """
    from grader.platforms.gradescope_local import run_local
    from grader.platforms.gradescope_results import as_report
    from grader.render import render
    from grader.report import write_atomic

    echo = None if quiet else (lambda line: click.echo(f"  | {line}", err=True))
    try:
        outcome = run_local(autograder, submission, data=data, echo=echo)
    except CnngradeError as exc:
        fail(exc)
    text = json.dumps(outcome.results, indent=2) + "\n"
    if output is not None:
        write_atomic(output, text)
    report = as_report(outcome.results)
    click.echo(text if as_json or report is None else render(report), nl=not (as_json or report is None))
    for entry in outcome.results.get("leaderboard", []) if not as_json else []:
        click.echo(f"leaderboard: {entry['name']} = {entry['value']}")
    status = report.extra_data.status if report else "not_graded"
    sys.exit(int({"passed": ExitCode.PASSED, "not_graded": ExitCode.NOT_GRADED}.get(status, ExitCode.FAILED)))


def check_lms_options(canvas_gradebook: Path | None, canvas_column: str | None) -> CanvasExport | None:
    """``grade``'s Canvas options, checked before any grading (exit 2 with why)."""
    from grader.platforms.canvas import read_export

    if canvas_gradebook is None:
        if canvas_column is not None:
            fail(UsageError("--canvas-column needs --canvas-gradebook EXPORT.csv"))
        return None
    try:
        return read_export(canvas_gradebook, canvas_column)
    except CnngradeError as exc:
        fail(exc)


def write_lms_files(results: Path, *, canvas: CanvasExport | None, gradescope_scores: bool) -> None:
    from grader.platforms.lms_files import write_canvas, write_gradescope_scores

    lines = (write_canvas(results, canvas) if canvas else []) + (
        write_gradescope_scores(results) if gradescope_scores else [])
    for line in lines:
        click.echo(line)
