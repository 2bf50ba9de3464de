"""A solutions repository: ``exercises/<id>/`` (exercise.toml, starter.ipynb) beside ``solutions/<id>/``.

``solutions/<id>/*.ipynb|*.py`` are reference solutions that must pass. ``solutions/<id>/known-bad/NAME.py``
(or .ipynb) are examples that must fail, each declaring how in ``NAME.toml``::

    fails = "architecture"      # the id of the first check that must fail
    why = "two Conv2D layers"   # shown when the example misbehaves
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from grader.errors import SpecError, UsageError
from grader.exercises import SPEC_FILE
from grader.spec import ExerciseSpec, load_spec

SUFFIXES = (".ipynb", ".py")
KNOWN_BAD = "known-bad"
STARTER = "starter.ipynb"


class KnownBad(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fails: str
    why: str = ""


@dataclass
class BadExample:
    path: Path
    declared: KnownBad | None
    problem: str | None = None  # the sidecar is missing or invalid


@dataclass
class Exercise:
    folder: Path
    spec: ExerciseSpec | None
    spec_problem: str | None = None
    solutions: list[Path] = field(default_factory=list)
    known_bad: list[BadExample] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id if self.spec else self.folder.name

    @property
    def starter(self) -> Path:
        return self.folder / STARTER


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES and not p.name.startswith("."))


def _sidecar(path: Path, spec: ExerciseSpec | None) -> BadExample:
    toml = path.with_suffix(".toml")
    if not toml.is_file():
        return BadExample(path, None, f"{toml.name} is missing: declare the check it must fail, e.g. fails = \"architecture\"")
    try:
        declared = KnownBad.model_validate(tomllib.loads(toml.read_text(encoding="utf-8")))
        if spec is not None and declared.fails not in spec.check_ids:  # the checks follow from the exercise's rules
            return BadExample(path, None, f"{toml}: fails: {declared.fails!r} is not a check of {spec.id}; its checks "
                              f"are {', '.join(spec.check_ids)}")
        return BadExample(path, declared)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return BadExample(path, None, f"{toml}: invalid TOML: {exc}")
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        return BadExample(path, None, f"{toml}: {errors}")


def load_repository(repo: Path, *, only: str | None = None) -> list[Exercise]:
    """Every exercise under ``repo/exercises`` (or just ``only``), with its solutions and known-bad examples."""
    root = repo / "exercises"
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except (OSError, ValueError) as exc:  # missing, not a folder, unreadable, a name the OS refuses
        missing = isinstance(exc, (FileNotFoundError, NotADirectoryError))
        why = "" if missing else f" ({getattr(exc, 'strerror', None) or exc})"
        raise UsageError(f"{repo}: no exercises/ folder{why} (run in a solutions repository or pass its path)"
                         ) from exc
    exercises = []
    for folder in folders:
        if not (folder / SPEC_FILE).is_file():
            continue
        try:
            exercise = Exercise(folder, load_spec(folder / SPEC_FILE))
        except SpecError as exc:
            exercise = Exercise(folder, None, str(exc))
        if only is not None and only not in (exercise.id, folder.name):
            continue
        solutions = repo / "solutions" / exercise.id
        exercise.solutions = _files(solutions)
        exercise.known_bad = [_sidecar(p, exercise.spec) for p in _files(solutions / KNOWN_BAD)]
        exercises.append(exercise)
    if only is not None and not exercises:
        raise UsageError(f"{repo}: no exercise {only!r} under exercises/")
    if not exercises:  # an empty exercises/ is almost always a wrong path: nothing checked must not read as success
        raise UsageError(f"{root} holds no exercise (no <id>/{SPEC_FILE} in it), so there is nothing to check: "
                         "wrong repository path?")
    return exercises
