"""The submission's code as the grader ran it: every code cell (its source as the grader read it, saved outputs
never shown), the cells that raised marked with the grader's own traceback, and the output the sandbox captured.

The sandbox captures the run's output as one stream (per epoch, not per cell), so it is shown once, after the
cells. Pygments escapes the source it highlights; everything else goes through the autoescaped template.
"""
from __future__ import annotations

from dataclasses import dataclass

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
    return str(HtmlFormatter().get_style_defs(".code"))
