"""The ``cnngrade`` command: a thin Click layer over ``grader.api`` (no TensorFlow import here).

Exit codes: 0 all checks passed, 1 graded with failures, 2 usage error, 3 could not grade (see MAIN_EXIT_HELP for
every command's).
"""
from __future__ import annotations

import difflib
import json
import math
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from grader import __version__
from grader.errors import CnngradeError, ExitCode
from grader.signals import exit_status, terminate_as_interrupt

EXIT_CODES_HELP = """\b
Exit codes:
  0  graded, all checks passed
  1  graded, at least one check failed
  2  usage error (bad option, missing file, a folder, an output path that
     cannot be written, invalid exercise spec)
  3  could not grade (e.g. the dataset is missing), or an unexpected error
     (one line; the details go to a log file it names)
  130  interrupted by Ctrl-C (143: SIGTERM, 129: SIGHUP); nothing is left behind"""

# Every command's exit codes in one list, for ``cnngrade --help`` (each command's own --help has its own list).
MAIN_EXIT_HELP = """\b
Exit codes (each command's --help lists its own):
  0    submit: every check passed; grade: every student has a result;
       check, validate: everything holds; exercises, starter, release,
       schema: done
  1    submit: at least one check failed;
       check, validate: at least one case or exercise does not hold
  2    usage error: bad option, missing file, an output path that cannot be
       written, invalid exercise spec, unknown exercise; grade: no students
       found (unless --allow-empty); check, validate, exercises: no exercise
       found; check, validate: not in a solutions repository (and no REPO);
       starter: the notebook exists already (unless --force)
  3    could not grade: the dataset missing or not canonical, grader environment
       broken; grade: some students could not be graded (rerun to retry);
       any command: an unexpected error (one line on stderr, the details in
       a log file it names; never a traceback)
  130  submit, grade, check: interrupted by Ctrl-C (143: SIGTERM, 129: SIGHUP);
       grade keeps finished results, rerun the same command to finish"""


MIN_TIMEOUT_S = 1.0  # below a second nothing can even start: such a limit fails every student for the grader's typo


def positive_seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """``--timeout``: a finite number of seconds, at least one (0 or a negative limit would fail every student)."""
    if value is not None and not (math.isfinite(value) and value >= MIN_TIMEOUT_S):
        raise click.BadParameter(f"must be a number of seconds above 0 (at least {MIN_TIMEOUT_S:g}), not {value:g}",
                                 ctx, param)
    return value


def _cannot_create_in(path: Path) -> str | None:
    """Why nothing can be created at ``path`` (None when it can): the nearest existing folder above it must be a
    folder this process can write in (probed with an unnamed temporary file: it also catches read-only mounts)."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    return _cannot_write_in(parent)


def _cannot_write_in(folder: Path) -> str | None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write in {folder} ({exc.strerror or exc})"
    return None


def output_file(example: str) -> Any:
    """A click callback for an option naming a file to write: refused before any work when it cannot be written
    (a folder, a file in the way of its folder, a folder this process cannot write in)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is None:
            return None
        if value.is_dir():
            raise click.BadParameter(f"{value} is a folder; name the file to write, e.g. {value / example}", ctx,
                                     param)
        problem = _cannot_create_in(value)
        if problem:
            raise click.BadParameter(f"cannot write {value}: {problem}", ctx, param)
        return value

    return callback


def output_folder(holds: str) -> Any:
    """A click callback for an option naming a folder to write ``holds`` into: refused before any work when it is
    a file or cannot be created or written."""

    def callback(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            is_dir, exists = value.is_dir(), value.exists()
        except OSError as exc:
            raise click.BadParameter(f"cannot use {value}: {exc.strerror or exc}", ctx, param) from exc
        if exists and not is_dir:
            raise click.BadParameter(f"{value} is a file; name a new or existing folder for {holds}", ctx, param)
        problem = _cannot_write_in(value) if is_dir else _cannot_create_in(value)
        if problem:
            raise click.BadParameter(f"cannot write {holds} in {value}: {problem}", ctx, param)
        return value

    return callback


def _exists(path: str) -> bool:
    """Whether ``path`` names something, False (not an exception) for names the OS refuses (too long...)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def crash_log_folders() -> list[Path]:
    """Where an unexpected error's details go, first that works: ~/.cache/cnngrade ($XDG_CACHE_HOME), the temp
    folder."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [Path(cache) / "cnngrade", Path(tempfile.gettempdir())]


def _write_crash_log(exc: BaseException, argv: list[str]) -> Path | None:
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "(deleted)"
    text = (f"cnngrade {__version__}, Python {sys.version.split()[0]} on {sys.platform}\n"
            f"command: cnngrade {shlex.join(argv)}\ncurrent folder: {cwd}\n"
            f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n\n" + "".join(traceback.format_exception(exc)))
    name = f"cnngrade-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in crash_log_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8", errors="replace")
            return path
        except OSError:
            continue
    return None


class _QuietFlush:
    """A broken standard output whose flush no longer raises (what is left in its buffer cannot be written)."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def flush(self) -> None:
        try:
            self._wrapped.flush()
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


def report_crash(exc: BaseException, argv: list[str]) -> NoReturn:
    """An unexpected error (a bug, or an environment the grader cannot work in): one line on stderr naming the
    log that holds the traceback, exit 3. Never a traceback on the terminal."""
    log = _write_crash_log(exc, argv)
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    what = what if len(what) <= 300 else what[:297] + "..."
    where = f"details in {log}" if log else "no log could be written either"
    try:
        sys.stdout.flush()
    except OSError:  # standard output itself is what failed (a full disk): keep Python's last flush at exit quiet
        sys.stdout = _QuietFlush(sys.stdout)
    try:
        click.echo(f"cnngrade: unexpected error (a bug in cnngrade or a problem with this machine, not with what "
                   f"is graded): {what}; {where}", err=True)
    except OSError:
        pass
    sys.exit(int(ExitCode.NOT_GRADED))


class DefaultCommandGroup(click.Group):
    """``cnngrade FILE`` means ``cnngrade submit FILE``: anything that is not a subcommand is a submission, except
    a word close to a subcommand that names no file (``cnngrade gradee x`` is a typo, not a submission).

    Every command runs inside ``main``: an exception that is not a usage error, an exit or an interrupt (each
    command handles Ctrl-C itself) ends as exit 3 with one line and a log (``report_crash``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            first = args[0]
            if re.fullmatch(r"[A-Za-z][\w-]*", first) and not _exists(first):
                close = difflib.get_close_matches(first.lower(), sorted(self.commands), n=1, cutoff=0.6)
                if close:
                    raise click.UsageError(f"no such command {first!r}; did you mean {close[0]!r}? "
                                           f"(and no file named {first!r} to grade either)", ctx)
            args = ["submit", *args]
        return super().parse_args(ctx, args)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise  # only when standalone_mode=False: click's own way out, for the caller to handle
        except Exception as exc:  # noqa: BLE001 - the one place every unexpected error ends: exit 3, one line, a log
            argv = kwargs.get("args", args[0] if args else None)
            report_crash(exc, list(sys.argv[1:] if argv is None else argv))


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``: the grader's version and every exercise ``--exercise ID`` finds from here, with its version
    and source (what a regraded class compares)."""
    if not value or ctx.resilient_parsing:
        return
    from grader.exercises import available

    click.echo(f"cnngrade {__version__}")
    found = [located for located, shadowed_by in available() if shadowed_by is None]
    if not found:
        click.echo("exercises: none found (see `cnngrade exercises --help` for where they are looked up)")
    else:
        click.echo("exercises (what --exercise ID uses from here):")
    width = max((len(f.id) for f in found), default=0)
    for located in found:
        version = located.spec.version if located.spec else "INVALID"
        click.echo(f"  {located.id:<{width}}  {version}  {located.source.describe()}")
    ctx.exit()


@click.group(cls=DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=MAIN_EXIT_HELP)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show cnngrade's version and each exercise it finds from here with its version, and exit.")
def main() -> None:
    """Grade TensorFlow/Keras CNN exercises.

    \b
    cnngrade submit.ipynb            grade one notebook or .py module (--html report.html: its page)
    cnngrade starter [EXERCISE] -o DIR   write an exercise's starter notebook to work from
    cnngrade grade SUBMISSIONS -o RESULTS   grade a class (folder or .zip), resumable
    cnngrade check [REPO]            prove every exercise's solutions pass and known-bad ones fail
    cnngrade validate [REPO]         check exercise specs and starters (no training)
    cnngrade exercises               list the exercises, where each comes from, their rules
    cnngrade release SOL.ipynb -o starter.ipynb   student version of a solution notebook
    cnngrade schema                  print the JSON Schema of the report
    cnngrade gradescope build -e EXERCISE -o autograder.zip   the Gradescope autograder (run: try it locally)
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
@click.option("--exercise", "-e", metavar="ID|PATH",
              help="Exercise id or spec path [default: mnist-single-conv]; where ids are looked up: "
                   "cnngrade exercises --help.")
@click.option("--data", metavar="PATH", help="A dataset's .npz, or a folder holding mnist.npz, fashion_mnist.npz or "
                   "Fashion-MNIST's .gz files [default: $CNNGRADE_DATA, Keras' cache, /usr/share/datasets].")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Seed for all randomness, 0 to 2**32-1 [default: fixed, recorded in the report].")
@click.option("--full", is_flag=True, help="Train even when the architecture is wrong (slower, more feedback).")
@click.option("--cpu", is_flag=True, help="Train on the CPU even when a GPU is visible.")
@click.option("--timeout", type=float, metavar="SECONDS", callback=positive_seconds,
              help="Wall-clock limit for the run, above 0 [default: the exercise's].")
@click.option("-o", "--output", type=click.Path(path_type=Path), callback=output_file("results.json"),
              help="Also write the JSON report to this file (checked before grading).")
@click.option("--html", "html_path", type=click.Path(path_type=Path), callback=output_file("report.html"),
              help="Also write a self-contained HTML report (training curve, test-set mistakes, your filters, your "
                   "code as it ran) to this file.")
@click.option("--gradescope-html", is_flag=True,
              help="Write -o for Gradescope's results page: test outputs as HTML with the training curve embedded "
                   "(the plain text stays in each test's extra_data.text).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of the table.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option("--no-sandbox", is_flag=True, help="DEBUGGING ONLY: run the submission without isolation.")
def submit(file: Path, exercise: str | None, data: str | None, seed: int | None, full: bool, cpu: bool,
           timeout: float | None, output: Path | None, html_path: Path | None, gradescope_html: bool, as_json: bool,
           quiet: bool, no_sandbox: bool) -> None:
    """Grade one submission FILE (.ipynb or .py).

    The code runs in an isolated child process; the grade rests only on what cnngrade recorded and
    re-measured from the exported model. Writes a Gradescope-compatible JSON report with -o.
    """
    from grader.api import DEFAULT_SEED, grade_with_feedback
    from grader.render import render
    from grader.report import write_report

    if no_sandbox:
        click.secho("cnngrade: WARNING: --no-sandbox runs the submission with your rights, unconfined. "
                    "Never use it on code you do not trust.", err=True, fg="red", bold=True)
    hide = tuple(p.resolve().parent for p in (output, html_path) if p is not None)
    try:
        with terminate_as_interrupt():
            report, feedback = grade_with_feedback(
                submission=file, exercise=exercise, data=data, seed=DEFAULT_SEED if seed is None else seed, full=full,
                cpu=cpu, timeout_s=timeout, progress=_progress(quiet or as_json), sandbox=not no_sandbox, hide=hide,
                pictures=html_path is not None)
    except CnngradeError as exc:
        fail(exc)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: the run was killed and its scratch removed
        click.echo(f"\ncnngrade: interrupted ({exc or 'SIGINT'}); nothing was graded.", err=True)
        sys.exit(exit_status(exc))
    if output is not None:
        if gradescope_html:
            from grader.html.gradescope import for_gradescope

            write_report(for_gradescope(report), output)
        else:
            write_report(report, output)
    if html_path is not None:
        from grader.html.report_page import write_html_report

        write_html_report(report, feedback, html_path)
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
from grader import cli_authoring, cli_batch, cli_platforms, cli_student  # noqa: E402,F401
