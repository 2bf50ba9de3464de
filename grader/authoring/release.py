"""Student versions of solution notebooks: nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` convention.

Each marked region (markers included) becomes a placeholder at the BEGIN marker's indentation; outputs,
execution counts and cell ids' volatility are stripped so the released file is the same on every run.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from grader.errors import UsageError
from grader.report import write_atomic
from grader.submission import read_notebook_text

BEGIN = re.compile(r"^(?P<indent>[ \t]*)#+\s*BEGIN SOLUTION\s*$")
END = re.compile(r"^[ \t]*#+\s*END SOLUTION\s*$")
CODE_PLACEHOLDER = "# YOUR CODE HERE"
MARKDOWN_PLACEHOLDER = "YOUR ANSWER HERE"


class MarkerError(UsageError):
    """Unbalanced or nested solution markers."""


def release_source(source: str, *, placeholder: str, where: str) -> tuple[str, int]:
    """``source`` with every solution region replaced; returns the text and how many regions there were."""
    out: list[str] = []
    regions, inside, begin_line = 0, False, 0
    for number, line in enumerate(source.split("\n"), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside:
                raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside the region opened on line {begin_line}")
            inside, begin_line, regions = True, number, regions + 1
            out.extend(begin.group("indent") + p for p in placeholder.split("\n"))
        elif end:
            if not inside:
                raise MarkerError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}, line {begin_line}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out), regions


def release_notebook(node: nbformat.NotebookNode, *, placeholder: str = CODE_PLACEHOLDER,
                     name: str = "notebook") -> tuple[nbformat.NotebookNode, int]:
    """The student version of ``node`` (a new notebook) and the number of regions replaced."""
    released = nbformat.v4.new_notebook(metadata={k: v for k, v in node.metadata.items() if k in ("kernelspec",
                                                                                                  "language_info")})
    total = 0
    for index, cell in enumerate(node.cells, start=1):
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        marker = placeholder if cell.cell_type == "code" else MARKDOWN_PLACEHOLDER
        source, regions = release_source(text, placeholder=marker, where=f"{name}, cell {index}")
        total += regions
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source)
        else:
            new = nbformat.v4.new_raw_cell(source)
        new.id = f"cell-{index}"  # stable ids: releasing twice gives the same bytes
        released.cells.append(new)
    return released, total


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not a notebook: it is not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    try:
        return read_notebook_text(text, str(path))
    except ValueError as exc:  # malformed JSON (with line and column), not a notebook, invalid structure
        raise UsageError(str(exc)) from exc


def release_file(solution: Path, output: Path, *, placeholder: str = CODE_PLACEHOLDER) -> int:
    """Write the student version of ``solution`` to ``output``; returns the number of regions replaced."""
    released, regions = release_notebook(read_notebook(solution), placeholder=placeholder, name=solution.name)
    if regions == 0:
        raise MarkerError(f"{solution} has no ### BEGIN SOLUTION / ### END SOLUTION region to release")
    write_atomic(output, nbformat.writes(released) + "\n")
    return regions


def same_cells(a: nbformat.NotebookNode, b: nbformat.NotebookNode) -> str | None:
    """None when ``a`` and ``b`` have the same cells (type and source); else where they first differ."""
    if len(a.cells) != len(b.cells):
        return f"{len(a.cells)} cells vs {len(b.cells)}"
    for index, (x, y) in enumerate(zip(a.cells, b.cells), start=1):
        if x.cell_type != y.cell_type:
            return f"cell {index} is {x.cell_type} vs {y.cell_type}"
        if x.source.strip() != y.source.strip():
            left, right = x.source.strip().split("\n"), y.source.strip().split("\n")
            line = next((i for i, (p, q) in enumerate(zip(left, right), start=1) if p != q), min(len(left), len(right)) + 1)
            return f"cell {index} differs from line {line}"
    return None
