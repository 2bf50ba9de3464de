"""Load a submission (.ipynb or .py) into code units, ignoring every saved output.

Nothing here executes student code: notebooks are parsed with nbformat, saved outputs and execution counts
are dropped (a stale output claiming success must not count), and problems become ``SubmissionProblem``s
that the report shows instead of crashes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nbformat

from grader.errors import SubmissionNotFoundError

MAX_SUBMISSION_BYTES = 20_000_000
MAX_CELLS = 2_000


@dataclass(frozen=True)
class CodeUnit:
    """One unit of execution: a notebook code cell (``cell`` 1-based among all cells) or a whole module."""

    cell: int | None
    source: str


Kind = Literal["notebook", "module"]


@dataclass(frozen=True)
class Submission:
    path: Path
    kind: Kind
    sha256: str
    units: tuple[CodeUnit, ...] = ()
    problem: str | None = None  # why it cannot be run at all, in words a student can act on
    notes: tuple[str, ...] = field(default=())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes, path: Path) -> tuple[str | None, str | None]:
    if b"\x00" in data[:8192]:
        return None, f"{path.name} is a binary file, not a {'notebook' if path.suffix.lower() == '.ipynb' else 'Python file'}."
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"{path.name} is not valid UTF-8 text (byte {exc.start}); save it again as UTF-8."


def notebook_problem(text: str, name: str) -> str | None:
    """Why ``text`` is not a Jupyter notebook nbformat can read, in words a student can act on (None when it may be
    one): malformed JSON with its line and column, JSON that is not a notebook (no cells, no nbformat version)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return (f"{name} is not a valid notebook: its JSON is malformed at line {exc.lineno}, column {exc.colno} "
                f"({exc.msg}). Look there in a text editor, or save it again from Jupyter.")
    except RecursionError:
        return f"{name} is not a valid notebook: its JSON is nested too deeply to read."
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}.get(
            type(data), "null")
        return (f"{name} is not a Jupyter notebook: its JSON is {kind}, not a notebook (a JSON object with "
                "\"cells\" and \"nbformat\").")
    has_cells = isinstance(data.get("cells"), list) or isinstance(data.get("worksheets"), list)
    if "nbformat" not in data and not has_cells:
        held = f"only the keys {', '.join(repr(k) for k in list(data)[:6])}" if data else "an empty object {}"
        return (f"{name} is not a Jupyter notebook: its JSON has no cells and no nbformat version (it is {held}). "
                "Save the notebook from Jupyter (File > Save) and submit that .ipynb file.")
    if not has_cells:
        return (f"{name} is not a valid notebook: it has an nbformat version ({data.get('nbformat')!r}) but no list "
                "of cells. Save the notebook from Jupyter again and submit that .ipynb file.")
    return None


def read_notebook_text(text: str, name: str) -> nbformat.NotebookNode:
    """Parse a notebook (as version 4); ValueError with a clear message when it is not one."""
    problem = notebook_problem(text, name)
    if problem:
        raise ValueError(problem)
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds (jsonschema's ValidationError, ...) for wrong structure
        detail = str(exc).split("\n", 1)[0][:300]
        raise ValueError(f"{name} is not a valid notebook: {detail}") from exc


def _notebook_units(text: str, path: Path) -> tuple[tuple[CodeUnit, ...], str | None, tuple[str, ...]]:
    try:
        node = read_notebook_text(text, path.name)
    except ValueError as exc:
        return (), str(exc), ()
    notes: list[str] = []
    metadata = node.get("metadata")
    kernelspec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    language = kernelspec.get("language") if isinstance(kernelspec, dict) else None
    if language and str(language).lower() != "python":
        notes.append(f"The notebook's kernelspec names language {language!r}; it was run as Python.")
    cells = node.get("cells", [])
    if len(cells) > MAX_CELLS:
        return (), f"{path.name} has {len(cells)} cells; at most {MAX_CELLS} are graded.", tuple(notes)
    units = tuple(
        CodeUnit(cell=index, source=str(cell.get("source", "")))
        for index, cell in enumerate(cells, start=1)
        if cell.get("cell_type") == "code"
    )
    if not units:
        return (), f"{path.name} has no code cells.", tuple(notes)
    return units, None, tuple(notes)


def load_submission(path: str | Path) -> Submission:
    """Read ``path``; a missing file raises, anything wrong inside the file becomes ``problem``."""
    path = Path(path)
    if path.is_dir():
        raise SubmissionNotFoundError(f"{path} is a folder, not a submission file: this command grades one .ipynb "
                                      f"notebook or .py module. To grade every submission in the folder, run: "
                                      f"cnngrade grade {path} -o RESULTS")
    if not path.is_file():
        raise SubmissionNotFoundError(f"{path}: no such file (expected a .ipynb notebook or a .py module)")
    if path.suffix.lower() not in (".ipynb", ".py"):
        raise SubmissionNotFoundError(f"{path}: cnngrade grades .ipynb notebooks and .py modules, "
                                      f"not {path.suffix or 'files without a suffix'}")
    kind: Kind = "notebook" if path.suffix.lower() == ".ipynb" else "module"
    size = path.stat().st_size
    if size > MAX_SUBMISSION_BYTES:
        return Submission(path, kind, "", problem=f"{path.name} is {size} bytes; submissions are capped at "
                                                 f"{MAX_SUBMISSION_BYTES} bytes.")
    data = path.read_bytes()
    digest = sha256_hex(data)
    if not data.strip():
        return Submission(path, kind, digest, problem=f"{path.name} is empty.")
    text, problem = _decode(data, path)
    if text is None:
        return Submission(path, kind, digest, problem=problem)
    if kind == "module":
        return Submission(path, kind, digest, units=(CodeUnit(cell=None, source=text),))
    units, problem, notes = _notebook_units(text, path)
    return Submission(path, kind, digest, units=units, problem=problem, notes=notes)
