"""The gradebook files ``cnngrade grade --canvas-gradebook / --gradescope-scores`` write into the results folder,
from its per-student result files (never from memory, like grades.csv), each with the lines to show the instructor
about who was not matched."""
from __future__ import annotations

from pathlib import Path

from grader.batch.store import ResultStore
from grader.platforms.canvas import CanvasExport, fill
from grader.platforms.gradescope_scores import scores_csv
from grader.report import write_atomic

CANVAS_IMPORT = "canvas-import.csv"
GRADESCOPE_SCORES = "gradescope-scores.csv"


def _names(people: list[str], limit: int = 20) -> str:
    return ", ".join(people[:limit]) + (f" and {len(people) - limit} more" if len(people) > limit else "")


def write_canvas(results: Path, export: CanvasExport) -> list[str]:
    filled = fill(export, ResultStore(results).all_reports())
    path = results / CANVAS_IMPORT
    write_atomic(path, filled.text)
    scale = f", scores scaled by {filled.scale:g} to the column's points" if filled.scale != 1.0 else ""
    lines = [f"Canvas import file: {path} ({len(filled.filled)} scores in {filled.column!r}{scale})"]
    if filled.unmatched_results:
        lines.append(f"  results matching no Canvas student (not written): {_names(filled.unmatched_results)}")
    if filled.not_graded:
        lines.append(f"  not graded, cells left as they were: {_names(filled.not_graded)}")
    if filled.several_results:
        lines.append(f"  several results for one Canvas student, cells left as they were: "
                     f"{_names(filled.several_results)}")
    if filled.rows_without_result:
        lines.append(f"  Canvas students without a result (cells left as they were): "
                     f"{_names(filled.rows_without_result)}")
    return lines


def write_gradescope_scores(results: Path) -> list[str]:
    scores = scores_csv(ResultStore(results).all_reports())
    path = results / GRADESCOPE_SCORES
    write_atomic(path, scores.text)
    lines = [f"Gradescope scores file: {path} ({scores.written} rows)"]
    if scores.unusable:
        lines.append(f"  neither an e-mail nor a Gradescope SID (not written): {_names(scores.unusable)}")
    if scores.not_graded:
        lines.append(f"  not graded (not written): {_names(scores.not_graded)}")
    return lines
