"""Which file in Gradescope's ``submission`` folder is the student's notebook or module, whatever it is named.

Students upload a notebook, a module, or both with extras (a PDF, data, their checkpoints folder). The rule:
the ``.ipynb`` and ``.py`` files, debris left out (hidden files, ``__MACOSX``, ``.ipynb_checkpoints``,
``__pycache__``); one of them: that one; several: the only one that looks like a solution (defines the exercise's
entry point or calls ``fit``; for an arrays exercise, assigns its results), else nothing is graded and the student
is told which files to choose from. No guessing between two solutions: the student sees at once what to fix and
resubmits.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.spec import ExerciseSpec

SUFFIXES = (".ipynb", ".py")
DEBRIS_PARTS = frozenset({"__MACOSX", ".ipynb_checkpoints", "__pycache__"})
METADATA = frozenset({"submission_metadata.json", "submission_metadata.yml"})
SNIFF_BYTES = 5_000_000


@dataclass(frozen=True)
class Found:
    path: Path | None  # the file to grade, or None when nothing can be graded
    message: str | None = None  # why nothing is graded (for the student), or a note about the choice


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                  and not any(part.startswith(".") or part in DEBRIS_PARTS for part in p.relative_to(folder).parts)
                  and p.name not in METADATA)


def _looks_like_solution(path: Path, markers: tuple[str, ...]) -> bool:
    try:
        with open(path, "rb") as handle:
            text = handle.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(marker in text for marker in markers)


def markers_of(spec: ExerciseSpec) -> tuple[tuple[str, ...], str]:
    """What a file that solves ``spec`` contains, and how to say it: a training exercise calls fit (or defines the
    entry point); an arrays exercise assigns its results (the homemade convolution's i_transformed, newImage)."""
    if spec.arrays is not None:
        return (f"{spec.arrays.transformed} =", f"{spec.arrays.pooled} ="), f"computes {spec.arrays.transformed}"
    return (".fit(", *([f"def {spec.entry_point}("] if spec.entry_point else [])), "trains a model"


def find_submission(folder: Path, spec: ExerciseSpec) -> Found:
    files = _files(folder)
    shown = [p.relative_to(folder).as_posix() for p in files]
    candidates = [p for p in files if p.suffix.lower() in SUFFIXES]
    if not files:
        return Found(None, "Your submission is empty: no file was uploaded. Upload your notebook (.ipynb) or "
                           "Python module (.py) and submit again.")
    if not candidates:
        listed = ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")
        return Found(None, f"No notebook (.ipynb) or Python module (.py) was found in your submission (found: "
                           f"{listed}). Upload your notebook or module and submit again.")
    if len(candidates) == 1:
        return Found(candidates[0])
    markers, does = markers_of(spec)
    solutions = [p for p in candidates if _looks_like_solution(p, markers)]
    names = ", ".join(p.relative_to(folder).as_posix() for p in candidates[:10])
    if len(solutions) == 1:
        chosen = solutions[0].relative_to(folder).as_posix()
        return Found(solutions[0], f"{len(candidates)} files were submitted ({names}); graded {chosen}, the only "
                                   f"one that {does}.")
    return Found(None, f"Your submission holds {len(candidates)} notebooks or modules ({names}) and the autograder "
                       "cannot tell which one to grade. Submit exactly one notebook or module and submit again.")
