"""Find an exercise by id or path and load its spec."""
from __future__ import annotations

import os
from pathlib import Path

from grader.errors import SpecError
from grader.spec import ExerciseSpec, load_spec

DEFAULT_EXERCISE = "mnist-single-conv"
SPEC_FILE = "exercise.toml"


def exercise_roots() -> list[Path]:
    """Folders that hold exercises, in search order: $CNNGRADE_EXERCISES, then the source checkout's."""
    roots = [Path(p) for p in os.environ.get("CNNGRADE_EXERCISES", "").split(os.pathsep) if p]
    roots.append(Path(__file__).resolve().parent.parent / "exercises")
    return roots


def find_exercise(ref: str | os.PathLike[str] | None = None) -> tuple[ExerciseSpec, Path]:
    """Resolve ``ref`` (an id, a folder holding exercise.toml, or a .toml file) to its spec and folder."""
    ref = DEFAULT_EXERCISE if ref is None else ref
    path = Path(ref)
    if path.is_file():
        return load_spec(path), path.parent
    if (path / SPEC_FILE).is_file():
        return load_spec(path / SPEC_FILE), path
    for root in exercise_roots():
        candidate = root / str(ref) / SPEC_FILE
        if candidate.is_file():
            return load_spec(candidate), candidate.parent
    searched = ", ".join(str(r) for r in exercise_roots())
    raise SpecError(f"no exercise {str(ref)!r}: not a spec file or folder, and not an id under {searched}")
