"""``cnngrade validate``: everything about the exercises that can be checked without training."""
from __future__ import annotations

import re

import ast
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.authoring.repository import Exercise, load_repository
from grader.submission import read_notebook_text


@dataclass(frozen=True)
class Finding:
    exercise: str
    path: Path
    message: str


def _python_of(source: str) -> str:
    """A cell's code with IPython-only lines (magics, shell escapes) blanked, so ``ast`` can judge the rest."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def _starter_findings(exercise: Exercise) -> list[Finding]:
    path = exercise.starter
    if not path.is_file():
        return [Finding(exercise.id, path, "the starter notebook students download is missing")]
    try:
        node = read_notebook_text(path.read_text(encoding="utf-8"), path.name)
        nbformat.validate(node)
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(exercise.id, path, f"cannot be read as a notebook: {exc}")]
    except ValueError as exc:  # malformed JSON (with line and column), not a notebook at all
        return [Finding(exercise.id, path, str(exc))]
    except Exception as exc:  # nbformat.validate raises jsonschema's errors for a wrong structure
        return [Finding(exercise.id, path, f"not a valid notebook: {str(exc).splitlines()[0][:300]}")]
    findings = []
    code = [c.source for c in node.cells if c.cell_type == "code"]
    for index, cell in enumerate(node.cells, start=1):
        if cell.cell_type != "code":
            continue
        try:
            ast.parse(_python_of(cell.source))
        except SyntaxError as exc:
            findings.append(Finding(exercise.id, path,
                                    f"cell {index} is not valid Python (line {exc.lineno}: {exc.msg})"))
    entry = exercise.spec.entry_point if exercise.spec else None
    # A starter that wraps the exercise in functions must define the entry point (a typo there means nothing is
    # ever called); a flat starter, as the lesson's Fashion-MNIST notebook is, trains at top level instead.
    defines = any(re.search(r"^def \w+\(", source, re.MULTILINE) for source in code)
    if entry and defines and not any(f"def {entry}(" in source for source in code):
        findings.append(Finding(exercise.id, path,
                                f"the spec's entry_point is {entry!r} but the starter defines no {entry}()"))
    return findings


def validate_exercise(exercise: Exercise, repo: Path) -> list[Finding]:
    spec_path = exercise.folder / "exercise.toml"
    if exercise.spec is None:
        return [Finding(exercise.id, spec_path, exercise.spec_problem or "invalid spec")]
    findings = []
    if exercise.spec.id != exercise.folder.name:
        findings.append(Finding(exercise.id, spec_path,
                                f"id = {exercise.spec.id!r} but the folder is {exercise.folder.name!r}; "
                                "they must match so solutions/<id>/ can be found"))
    findings += _starter_findings(exercise)
    if not exercise.solutions:
        findings.append(Finding(exercise.id, repo / "solutions" / exercise.id,
                                "no reference solution (.ipynb or .py) to prove the exercise can be passed"))
    findings += [Finding(exercise.id, bad.path, bad.problem) for bad in exercise.known_bad if bad.problem]
    return findings


def validate_repository(repo: Path, *, only: str | None = None) -> tuple[list[Exercise], list[Finding]]:
    exercises = load_repository(repo, only=only)
    findings = [f for e in exercises for f in validate_exercise(e, repo)]
    seen: dict[str, Path] = {}
    for exercise in exercises:
        if exercise.spec and exercise.spec.id in seen:
            findings.append(Finding(exercise.id, exercise.folder,
                                    f"id {exercise.spec.id!r} is also used by {seen[exercise.spec.id]}"))
        seen.setdefault(exercise.id, exercise.folder)
    return exercises, findings
