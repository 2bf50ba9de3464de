"""The submission's code as the grader ran it: every code cell (its source as the grader read it, saved outputs
never shown) with what it printed when the grader ran it, the cells that raised marked with the grader's own
traceback.

Rendered with nbconvert (its ``basic`` template: the cells' HTML without a page, styles or scripts around it) on
a notebook rebuilt from the grader's facts, with ``sanitize_html`` on, so student text stays text. When nbconvert
cannot render (its templates missing from an unusual install), the same facts are shown through this module's
own rows: Pygments escapes the source it highlights, everything else goes through the autoescaped template.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from grader.feedback import Feedback
from grader.protocol import CellError

MAX_SOURCE_CHARS = 20_000  # per cell: a generated megabyte of code is cut, with a note


@dataclass(frozen=True)
class CellRow:
    label: str
    code: Markup  # pygments' escaped HTML
    output: str  # printed text, escaped by the template
    errors: tuple[CellError, ...]
    cut: int  # characters left out


def _highlight(source: str) -> Markup:
    # Pygments escapes <, >, & and quotes in every token: the result is safe markup.
    return Markup(highlight(source, PythonLexer(), HtmlFormatter(nowrap=True)))


def cell_rows(feedback: Feedback, errors: list[CellError]) -> list[CellRow]:
    rows = []
    for view in feedback.cells:
        mine = tuple(e for e in errors if e.cell == view.cell) if feedback.kind == "notebook" else tuple(errors)
        label = f"cell {view.cell}" if view.cell is not None else "module"
        source = view.source[:MAX_SOURCE_CHARS]
        rows.append(CellRow(label=label, code=_highlight(source), output=view.output, errors=mine,
                            cut=max(0, len(view.source) - MAX_SOURCE_CHARS)))
    return rows


def highlight_css() -> str:
    return str(HtmlFormatter().get_style_defs(".code")) + str(HtmlFormatter().get_style_defs(".highlight"))


def _notebook(feedback: Feedback, errors: list[CellError]) -> Any:
    """The notebook as the grader ran it: code cells with the grader's captured output and errors."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    for view in feedback.cells:
        mine = [e for e in errors if e.cell == view.cell] if feedback.kind == "notebook" else list(errors)
        outputs = [nbformat.v4.new_output("stream", name="stdout", text=view.output)] if view.output else []
        outputs += [nbformat.v4.new_output("error", ename=e.type, evalue=e.message, traceback=e.traceback.splitlines())
                    for e in mine]
        # The id marks the cell for the page's style (a failed cell is outlined) and names it like the report does.
        cell_id = f"{'failed' if mine else 'cell'}-{view.cell if view.cell is not None else 'module'}"
        cell = nbformat.v4.new_code_cell(view.source[:MAX_SOURCE_CHARS], outputs=outputs, id=cell_id)
        cell.execution_count = view.cell
        nb.cells.append(cell)
    return nb


@contextlib.contextmanager
def _base_jupyter_path() -> Iterator[None]:
    """nbconvert's templates are data files under ``<prefix>/share/jupyter``. A virtual environment made with
    --system-site-packages uses the base Python's nbconvert, whose prefix Jupyter does not search: add it to
    $JUPYTER_PATH while exporting (the grading process only; restored after)."""
    before = os.environ.get("JUPYTER_PATH")
    extra = [str(Path(p) / "share" / "jupyter") for p in dict.fromkeys((sys.base_prefix, sys.exec_prefix))
             if p != sys.prefix and (Path(p) / "share" / "jupyter" / "nbconvert").is_dir()]
    if extra:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([*([before] if before else []), *extra])
    try:
        yield
    finally:
        if extra and before is None:
            os.environ.pop("JUPYTER_PATH", None)
        elif extra and before is not None:
            os.environ["JUPYTER_PATH"] = before


def notebook_html(feedback: Feedback, errors: list[CellError]) -> Markup | None:
    """The cells rendered by nbconvert, or None when nbconvert cannot (the caller then shows ``cell_rows``)."""
    if not feedback.cells:
        return None
    try:
        from nbconvert import HTMLExporter

        with _base_jupyter_path():
            body, _ = HTMLExporter(template_name="basic", sanitize_html=True).from_notebook_node(_notebook(feedback, errors))
    except Exception:  # templates not found, an nbconvert change: the grader's own view says the same
        return None
    # nbconvert escaped every source, output and traceback (sanitize_html also turns markup into text).
    return Markup(body)
