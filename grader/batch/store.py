"""The results folder: one report per student, written atomically the moment it is known.

RESULTS/students/<student>.json holds the same report as single grading (plus ``extra_data.student``). A file
is reused on a rerun only when the submission's sha256, the exercise id and version, the grader version and
the seed all match and the grader did decide a grade; anything else is graded again.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from grader import __version__
from grader.feedback import Feedback
from grader.html.report_page import write_html_report
from grader.report import Report, write_report
from grader.spec import ExerciseSpec

STUDENTS = "students"
_UNSAFE = re.compile(r"[^\w.@+-]+")  # \w: letters of every script, so 张伟 keeps its name


def file_stem(student: str) -> str:
    """A file name for ``student``, safe on every file system (no separators, no leading dot), the same on every
    run whoever else is in the class: a name that had to be changed gets a short hash of the original, so two
    students never share a file and adding or removing a classmate never moves anyone's result."""
    stem = _UNSAFE.sub("_", student).strip("._")[:100] or "student"
    if stem != student:
        stem += "-" + hashlib.sha256(student.encode()).hexdigest()[:8]
    return stem


def grading_options(spec: ExerciseSpec, *, full: bool, cpu: bool, timeout_s: float | None,
                    threads: int | None) -> dict[str, str]:
    """What can change a verdict besides the file, as compared on a rerun: the options, with their effective
    values (``--timeout`` equal to the exercise's limit is no change), and the exercise's rules themselves (an
    edited spec whose version was not bumped still regrades).

    ``--data`` is not among them: every source is verified against the same array hashes, so it cannot change
    a verdict. Automatic threads (``-j`` sharing the cores) are not either: only an explicit ``--threads``.
    """
    rules = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]
    return {"full": str(full).lower(), "cpu": str(cpu).lower(), "timeout_s": f"{timeout_s or spec.limits.timeout_s:g}",
            "threads": "auto" if threads is None else str(threads), "spec": rules}


@dataclass(frozen=True)
class ReuseKey:
    sha256: str
    exercise_id: str
    exercise_version: str
    seed: int
    options: tuple[tuple[str, str], ...] = ()
    grader_version: str = __version__

    def same_file(self, report: Report) -> bool:
        """Everything but the grading options matches: the file, the exercise, the grader and the seed."""
        d = report.extra_data
        return (d.status != "not_graded" and d.submission_sha256 == self.sha256 and d.exercise_id == self.exercise_id
                and d.exercise_version == self.exercise_version and d.seed == self.seed
                and d.grader_version == self.grader_version)

    def matches(self, report: Report) -> bool:
        return self.same_file(report) and tuple(sorted(report.extra_data.grading_options.items())) == self.options

    @classmethod
    def of(cls, *, sha256: str, spec: ExerciseSpec, seed: int, options: dict[str, str] | None = None) -> ReuseKey:
        return cls(sha256=sha256, exercise_id=spec.id, exercise_version=spec.version, seed=seed,
                   options=tuple(sorted((options or {}).items())))


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / STUDENTS
        self.folder.mkdir(parents=True, exist_ok=True)
        self._stems: dict[str, str] = {}
        for tmp in self.folder.glob(".*.tmp"):  # a write cut off by kill -9: never a result, safe to drop
            tmp.unlink(missing_ok=True)

    def path(self, student: str) -> Path:
        """The result file of ``student``; distinct students never share one, even when names sanitise alike."""
        if student not in self._stems:
            stem, n = file_stem(student), 2
            taken = set(self._stems.values())
            candidate = stem
            while candidate in taken:
                candidate, n = f"{stem}-{n}", n + 1
            self._stems[student] = candidate
        return self.folder / f"{self._stems[student]}.json"

    def load(self, student: str) -> Report | None:
        path = self.path(student)
        try:
            report = Report.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError):
            return None  # absent, or written by another version: grade again
        return report if report.extra_data.student == student else None

    def save(self, report: Report, feedback: Feedback | None = None) -> Path:
        """The JSON result, then its HTML report beside it (``<stem>.html``, what the class dashboard links to)."""
        path = self.path(report.extra_data.student or "student")
        write_report(report, path)
        self._html(report, feedback, path.with_suffix(".html"))
        return path

    def _html(self, report: Report, feedback: Feedback | None, path: Path) -> None:
        try:
            write_html_report(report, feedback, path)
        except Exception as exc:  # a picture that cannot be drawn must never cost a student their grade
            self.log({"student": report.extra_data.student, "html_error": f"{type(exc).__name__}: {exc}"[:300]})

    def link(self, student: str) -> str:
        """The HTML report of ``student``, relative to the results folder (for the class dashboard)."""
        return f"{STUDENTS}/{self.path(student).stem}.html"

    def ensure_html(self, report: Report) -> None:
        """A reused result keeps the HTML written when it was graded; one without (graded before HTML reports
        existed, or its file deleted) gets one from its JSON alone."""
        html = self.path(report.extra_data.student or "student").with_suffix(".html")
        if not html.is_file():
            self._html(report, None, html)

    def all_reports(self) -> list[Report]:
        """Every readable result in the folder (the gradebook is rebuilt from these, never from memory)."""
        reports = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                reports.append(Report.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError, ValueError):
                continue
        return reports

    def log(self, event: dict[str, object]) -> None:
        """Append one line to RESULTS/batch-log.jsonl: what happened to whom, in order (an audit trail)."""
        with open(self.root / "batch-log.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")
