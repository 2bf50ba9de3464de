"""A Canvas gradebook import file, from the gradebook Canvas exports and a results folder.

Canvas' export (Grades > Export) is a CSV: a header row (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
``Section``, then one column per assignment named ``Title (ASSIGNMENT_ID)``, then read-only totals), one or two
more header rows (``Points Possible``; ``Manual Posting`` where a posting policy is set), then a row per student.
The import file is that CSV with one assignment column filled: every row, column and header row is kept as
exported (Canvas ignores unchanged and read-only columns). Any row whose ``ID`` is not a number is a header row.

How a result finds its Canvas row, first that applies:

1. the Canvas user id: Canvas' "Download submissions" names files ``lastfirst_USERID_SUBMISSIONID_name.ext``
   (``lastfirst_late_USERID_...`` when late); the graded file's name gives USERID, matched to the ``ID`` column;
   a student named ``lastfirst_USERID`` (two students whose names reduce alike) gives it too;
2. the name: a student named ``smithjane`` matches the one row whose ``Student`` (``Smith, Jane``) reduces to it
   (letters and digits, lower case: how Canvas makes ``lastfirst``), e.g. a student who handed in only a PDF;
3. otherwise the result is reported as unmatched, and so is every Canvas row left without a result.

A result that was not graded (``not_graded``) leaves its cell as it was and is reported: a grader failure is never
a zero. Scores are scaled to the column's ``Points Possible`` when it differs from the exercise's points.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.batch.layouts import canvas_user
from grader.errors import UsageError
from grader.report import Report

ASSIGNMENT = re.compile(r"^(?P<title>.*?)\s*\((?P<id>\d+)\)$")
REQUIRED = ("Student", "ID", "Section")
NAMESAKE = re.compile(r"^[^\W\d_][\w-]*?_(?P<uid>\d+)$")  # batch's name for one of two "smithjane"s


@dataclass(frozen=True)
class CanvasExport:
    rows: list[list[str]]
    column: int  # index of the assignment column to fill
    bom: bool
    newline: str

    @property
    def header(self) -> list[str]:
        return self.rows[0]

    def cell(self, row: list[str], name: str) -> str:
        index = self.header.index(name)
        return row[index] if index < len(row) else ""

    def is_student(self, row: list[str]) -> bool:
        return self.cell(row, "ID").strip().isdigit()


@dataclass
class CanvasFill:
    text: str
    column: str
    filled: dict[str, str] = field(default_factory=dict)  # result's student -> Canvas "Student"
    unmatched_results: list[str] = field(default_factory=list)
    rows_without_result: list[str] = field(default_factory=list)
    not_graded: list[str] = field(default_factory=list)
    # Canvas students several results matched (two uploads graded separately): their cell is left as it was.
    several_results: list[str] = field(default_factory=list)
    scale: float = 1.0


def _choose(header: list[str], wanted: str | None, source: Path) -> int:
    assignments = [i for i, name in enumerate(header) if ASSIGNMENT.match(name)]
    listed = "; ".join(header[i] for i in assignments) or "none"
    if wanted is None:
        if len(assignments) == 1:
            return assignments[0]
        raise UsageError(f"{source}: {len(assignments)} assignment columns ({listed}); choose one with "
                         "--canvas-column (its name or its id)")
    for i in assignments:
        match = ASSIGNMENT.match(header[i])
        assert match is not None
        if wanted.strip() in (header[i], match["id"]) or wanted.strip().lower() == match["title"].lower():
            return i
    raise UsageError(f"{source}: no assignment column {wanted!r} (assignment columns: {listed})")


def read_export(path: Path, column: str | None = None) -> CanvasExport:
    """Parse and check a Canvas gradebook export (before any grading, so a wrong file costs nothing)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the Canvas gradebook ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a UTF-8 CSV file as Canvas exports it") from exc
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or any(name not in rows[0] for name in REQUIRED):
        raise UsageError(f"{path}: not a Canvas gradebook export: its first row must name the columns "
                         f"{', '.join(REQUIRED)} (found: {', '.join(rows[0][:8]) if rows else 'an empty file'})")
    return CanvasExport(rows=rows, column=_choose(rows[0], column, path), bom=raw.startswith(b"\xef\xbb\xbf"),
                        newline="\r\n" if "\r\n" in text else "\n")


def _name_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.lower())


def canvas_id(report: Report) -> str | None:
    """The Canvas user id a result carries: in its graded file's download name, or in a namesake's student name."""
    d = report.extra_data
    for segment in d.submission.split("!"):
        for part in PurePosixPath(segment).parts:
            uid = canvas_user(part)
            if uid:
                return uid
    match = NAMESAKE.match(d.student or "")
    return match["uid"] if match else None


def _points_possible(export: CanvasExport) -> float | None:
    for row in export.rows[1:]:
        if not export.is_student(row) and export.cell(row, "Student").strip().lower() == "points possible":
            try:
                return float(row[export.column])
            except (IndexError, ValueError):
                return None
    return None


def fill(export: CanvasExport, reports: list[Report]) -> CanvasFill:
    students = [row for row in export.rows[1:] if export.is_student(row)]
    by_id = {export.cell(row, "ID").strip(): row for row in students}
    by_name: dict[str, list[list[str]]] = {}
    for student_row in students:
        by_name.setdefault(_name_key(export.cell(student_row, "Student")), []).append(student_row)
    result = CanvasFill(text="", column=export.header[export.column])
    possible = _points_possible(export)
    matched: dict[int, list[tuple[str, Report]]] = {}
    rows = {id(row): row for row in students}
    for report in sorted(reports, key=lambda r: r.extra_data.student or ""):
        student = report.extra_data.student or report.extra_data.submission
        uid = canvas_id(report)
        named = by_name.get(_name_key(student), [])
        found: list[str] | None = by_id.get(uid) if uid else (named[0] if len(named) == 1 else None)
        if found is None:
            result.unmatched_results.append(student)
        else:
            matched.setdefault(id(found), []).append((student, report))
    for key, results in matched.items():
        row = rows[key]
        if len(results) > 1:  # never a silent choice between two grades of one student
            result.several_results.append(f"{export.cell(row, 'Student')} ({', '.join(s for s, _ in results)})")
            continue
        student, report = results[0]
        if report.extra_data.status == "not_graded":
            result.not_graded.append(student)
            continue
        result.scale = possible / report.max_score if possible and report.max_score else 1.0
        while len(row) <= export.column:
            row.append("")
        row[export.column] = f"{round(report.score * result.scale, 2):g}"
        result.filled[student] = export.cell(row, "Student")
    result.rows_without_result = [export.cell(r, "Student") for r in students if id(r) not in matched]
    out = io.StringIO()
    csv.writer(out, lineterminator=export.newline).writerows(export.rows)
    result.text = ("\ufeff" if export.bom else "") + out.getvalue()
    return result
