"""``cnngrade grade``: batch grading of a class (a thin layer over ``grader.batch.coordinator``)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from grader.cli import fail, main, output_folder, positive_seconds
from grader.signals import exit_status, terminate_as_interrupt
from grader.errors import CnngradeError, ExitCode

BATCH_EXIT_HELP = """\b
Exit codes:
  0    every student has a result (passed or not)
  2    usage error (bad option, missing folder, -o RESULTS that is a file or
       cannot be written, invalid exercise spec, no students found unless
       --allow-empty)
  3    some students could not be graded (see summary.json "not_graded");
       rerun to retry them
  130  interrupted (Ctrl-C; 143: SIGTERM, 129: SIGHUP); finished results are
       kept, rerun the same command to finish"""


def _batch_printer(quiet: bool, live: bool) -> Any:
    """Per-student log lines on stderr, plus a live done/total line when stderr is a terminal."""
    from grader.batch.coordinator import BatchEvent

    def fmt_eta(seconds: float | None) -> str:
        if seconds is None:
            return ""
        minutes, sec = divmod(int(seconds), 60)
        return f", ETA {minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f", ETA {minutes}m{sec:02d}s"

    def on_event(event: BatchEvent) -> None:
        if quiet:
            return
        if live:
            click.echo("\r\033[K", nl=False, err=True)
        if event.kind == "result":
            took = f" ({event.seconds:.0f} s)" if event.seconds else ""
            click.echo(f"[{event.done}/{event.total}] {event.student}: {event.status} {event.score}{took}", err=True)
        else:
            click.echo(f"cnngrade: {event.text}", err=True)
        if live:
            click.echo(f"{event.done}/{event.total} done: {event.passed} passed, {event.failed} not passed"
                       f"{fmt_eta(event.eta_s)}", nl=False, err=True)

    return on_event


@main.command(epilog=BATCH_EXIT_HELP)
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("-o", "--output", "results", type=click.Path(path_type=Path), required=True,
              callback=output_folder("the results (students/, grades.csv, summary.json, index.html)"),
              help="Results folder: students/<student>.json and .html, grades.csv, summary.json, index.html (the class "
                   "dashboard) (checked before grading).")
@click.option("--exercise", "-e", metavar="ID|PATH", help="Exercise id or spec path [default: mnist-single-conv].")
@click.option("--data", metavar="PATH", help="A dataset's .npz, or a folder holding mnist.npz, fashion_mnist.npz or "
                   "Fashion-MNIST's .gz files [default: $CNNGRADE_DATA, Keras' cache, /usr/share/datasets].")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Submissions graded at once on this machine; CPU threads and GPUs are shared out between them.")
@click.option("--threads", type=click.IntRange(1, 1024), help="CPU threads per submission [default: cores / jobs].")
@click.option("--cluster", metavar="ADDRESS", help="Send the work to a Dask scheduler (e.g. tcp://host:8786).")
@click.option("--pattern", metavar="REGEX", help="Find files by a regex over their path, with a (?P<student>...) group.")
@click.option("--force", is_flag=True, help="Regrade everyone, even results that are up to date.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Seed for all randomness, 0 to 2**32-1 [default: fixed, recorded in the report].")
@click.option("--full", is_flag=True, help="Train even when the architecture is wrong (slower, more feedback).")
@click.option("--cpu", is_flag=True, help="Train on the CPU even when GPUs are visible.")
@click.option("--timeout", type=float, metavar="SECONDS", callback=positive_seconds,
              help="Wall-clock limit per submission, above 0 [default: the exercise's].")
@click.option("--allow-empty", is_flag=True,
              help="Finding no student is not an error (exit 0, not 2): for a class that may have no submissions.")
@click.option("--no-progress", is_flag=True, help="No live progress line (automatic when stderr is not a terminal).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and the final line.")
@click.option("--canvas-gradebook", type=click.Path(path_type=Path), metavar="EXPORT.csv",
              help="Canvas' gradebook export: also write RESULTS/canvas-import.csv with the scores filled in "
                   "(students matched by Canvas user id; see README).")
@click.option("--canvas-column", metavar="NAME|ID", help="The assignment column to fill [default: the only one].")
@click.option("--gradescope-scores", is_flag=True,
              help="Also write RESULTS/gradescope-scores.csv (Email/SID, Score) for Gradescope's score upload.")
def grade(submissions: Path, results: Path, exercise: str | None, data: str | None, jobs: int, threads: int | None,
          cluster: str | None, pattern: str | None, force: bool, seed: int | None, full: bool, cpu: bool,
          timeout: float | None, allow_empty: bool, no_progress: bool, quiet: bool, canvas_gradebook: Path | None,
          canvas_column: str | None, gradescope_scores: bool) -> None:
    """Grade every student's submission in SUBMISSIONS (a folder or a .zip) into RESULTS.

    \b
    Layouts: a file or folder per student, Canvas downloads (lastfirst_123_456_x.ipynb),
    Gradescope exports (submission_123/), nbgrader (submitted/<student>/<assignment>/), or --pattern.
    Each result is written as soon as it is known; rerunning skips students whose file, exercise
    rules and version, grader version, seed and grading options (--full, --cpu, --timeout,
    --threads) are unchanged, so an interrupted run just continues.
    Identical files are trained once. Finding no student at all (a wrong path, most often) is a usage
    error unless --allow-empty.
    """
    from grader.api import DEFAULT_SEED
    from grader.batch.coordinator import grade_batch

    from grader.cli_platforms import check_lms_options, write_lms_files

    live = not (no_progress or quiet) and sys.stderr.isatty()
    canvas = check_lms_options(canvas_gradebook, canvas_column)  # a wrong export fails now, not after grading
    try:
        with terminate_as_interrupt():
            outcome = grade_batch(submissions=submissions, results=results, exercise=exercise, data=data,
                                  seed=DEFAULT_SEED if seed is None else seed, jobs=jobs, threads=threads,
                                  cluster=cluster, force=force, pattern=pattern, full=full, cpu=cpu, timeout_s=timeout,
                                  allow_empty=allow_empty, on_event=_batch_printer(quiet, live))
    except CnngradeError as exc:
        fail(exc, newline=live)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: results kept, gradebook rebuilt, scratch removed
        click.echo(f"\ncnngrade: interrupted ({exc or 'SIGINT'}); finished results are kept in {results}. "
                   "Run the same command again to grade the rest.", err=True)
        sys.exit(exit_status(exc))
    if live:
        click.echo("\r\033[K", nl=False, err=True)
    not_graded = outcome.count("not_graded")
    changed = (f"; {outcome.options_changed} regraded because the grading options changed"
               if outcome.options_changed else "")
    click.echo(f"{outcome.total} students: {outcome.count('passed')} passed, {outcome.count('failed')} failed, "
               f"{outcome.count('error')} could not run, {not_graded} not graded ({outcome.graded} graded now, "
               f"{outcome.reused} unchanged{changed}) in {outcome.wall_s:.1f} s. Results: {outcome.results}")
    write_lms_files(results, canvas=canvas, gradescope_scores=gradescope_scores)
    sys.exit(int(ExitCode.NOT_GRADED if not_graded else ExitCode.PASSED))
