"""``cnngrade starter``: what a student needs to start from the installed package alone."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli import fail, main, output_folder
from grader.errors import CnngradeError, ExitCode, UsageError

STARTER = "starter.ipynb"

STARTER_EXIT_HELP = """\b
Exit codes:
  0  written
  2  usage error (unknown exercise or invalid spec, an exercise without a
     starter notebook, -o that is a file or cannot be written (checked
     before anything is written), the notebook exists already and no
     --force)
  3  an unexpected error (one line; the details go to a log file it names)"""


@main.command(epilog=STARTER_EXIT_HELP)
@click.argument("exercise", required=False, metavar="[EXERCISE]")
@click.option("-o", "--output", "folder", type=click.Path(path_type=Path), default=Path("."),
              show_default="the current folder", callback=output_folder("the starter notebook"),
              help="Folder to write <exercise id>.ipynb in (created when missing).")
@click.option("--force", is_flag=True,
              help="Overwrite a notebook of that name already there (your work in it is lost).")
def starter(exercise: str | None, folder: Path, force: bool) -> None:
    """Write the starter notebook of EXERCISE (an id or spec path; default: mnist-single-conv) into a folder as
    <exercise id>.ipynb, to work in and then grade with `cnngrade FOLDER/<exercise id>.ipynb`.

    The exercise is looked up as --exercise is (see `cnngrade exercises --help`); with the installed package alone,
    its built-in exercises.
    """
    from grader.exercises import locate_exercise
    from grader.report import write_atomic

    try:
        located = locate_exercise(exercise)
        spec = located.spec
        assert spec is not None  # locate_exercise raises for an invalid spec
        source = located.folder / STARTER
        try:
            content = source.read_bytes()
        except FileNotFoundError as exc:
            raise UsageError(f"exercise {spec.id} {spec.version} has no starter notebook ({source} is missing; "
                             f"from {located.source.describe()})") from exc
        except OSError as exc:
            raise UsageError(f"cannot read the starter of exercise {spec.id}: {source}: {exc.strerror or exc}"
                             ) from exc
        target = folder / f"{spec.id}.ipynb"
        if target.is_dir():
            raise UsageError(f"{target} is a folder; choose another folder with -o")
        if target.exists() and not force:
            raise UsageError(f"{target} exists already (it may hold your work); pass --force to overwrite it, or "
                             "choose another folder with -o")
    except CnngradeError as exc:
        fail(exc)
    write_atomic(target, content)
    click.echo(f"{target}: the starter of exercise {spec.id} {spec.version}, from {located.source.describe()}\n"
               f"Work in it, then grade it: cnngrade {target}")
    sys.exit(int(ExitCode.PASSED))
