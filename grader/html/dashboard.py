"""The class dashboard, RESULTS/index.html: rebuilt with the gradebook from the result files on every batch exit.

Self-contained (figures embedded, styles inline, one small inline script for sorting the table, allowed by its
hash in the page's Content-Security-Policy and by nothing else). Student names and hint text are escaped.
"""
from __future__ import annotations

import base64
import hashlib
import math
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from grader.html import charts
from grader.html.report_page import css, environment
from grader.report import Report, write_atomic

MAX_NAMES = 30  # students named per hint; the rest counted
SORT_SCRIPT = (Path(__file__).parent / "templates" / "sort.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Row:
    student: str
    link: str | None
    score: float
    max_score: float
    status: str
    test_accuracy: float | None
    train_accuracy: float | None
    epochs: int
    seconds: float
    first_failed: str


@dataclass(frozen=True)
class CheckRate:
    name: str
    passed: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0


def _rows(reports: list[Report], links: Mapping[str, str]) -> list[Row]:
    rows = []
    for r in sorted(reports, key=lambda r: r.extra_data.student or ""):
        d = r.extra_data
        failed = next((t.name for t in r.tests if t.status == "failed"), "")
        link = links.get(d.student or "")
        rows.append(Row(d.student or d.submission, quote(link) if link else None, r.score, r.max_score, d.status,
                        d.test_accuracy, d.train_accuracy, d.epochs_run, d.timings.total_s, failed))
    return rows


def _check_rates(reports: list[Report]) -> list[CheckRate]:
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    names: dict[str, str] = {}
    for r in reports:
        for t in r.tests:
            names.setdefault(t.extra_data.check, t.name)
            total[t.extra_data.check] += 1
            passed[t.extra_data.check] += t.status == "passed"
    return [CheckRate(names[c], passed[c], total[c]) for c in names]


def _hints(reports: list[Report]) -> list[dict[str, object]]:
    who: dict[str, list[str]] = {}
    for r in reports:
        for h in dict.fromkeys(r.extra_data.hints):
            who.setdefault(h, []).append(r.extra_data.student or r.extra_data.submission)
    ranked = sorted(who.items(), key=lambda item: (-len(item[1]), item[0]))[:10]
    return [{"hint": h, "count": len(names), "names": sorted(names)[:MAX_NAMES],
             "more": max(0, len(names) - MAX_NAMES)} for h, names in ranked]


def _figures(reports: list[Report]) -> list[dict[str, str]]:
    graded = [r for r in reports if r.extra_data.status != "not_graded"]
    if not graded:
        return []
    top = max(r.max_score for r in graded) or 1.0
    specs: list[tuple[list[float | None], int | list[float], str, str]] = [
        ([float(r.score) for r in graded], [x - 0.5 for x in range(int(math.ceil(top)) + 2)], "score (points)",
         "Score distribution"),
        ([float(r.extra_data.epochs_run) for r in graded if r.extra_data.epochs_run],
         [x - 0.5 for x in range(max((r.extra_data.epoch_budget for r in graded), default=1) + 2)], "epochs run",
         "Epochs run"),
        ([float(r.extra_data.test_accuracy) for r in graded if r.extra_data.test_accuracy is not None], 20,
         "re-measured test accuracy", "Test accuracy"),
        ([float(r.extra_data.timings.total_s) for r in graded], 20, "grading time per student (s)", "Time per student"),
    ]
    figures = []
    for values, bins, label, title in specs:
        clean = [float(v) for v in values if v is not None]
        if not clean:
            continue
        png = charts.histogram(clean, bins=bins, xlabel=label)
        figures.append({"uri": charts.data_uri(png), "title": title,
                        "alt": f"{title}: histogram of {len(clean)} students, median {statistics.median(clean):.4g}"})
    return figures


def render_dashboard(reports: list[Report], *, links: Mapping[str, str], duplicates: list[list[str]],
                     ignored: list[str], wall_s: float | None = None) -> str:
    script_hash = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
    graded = [r for r in reports if r.extra_data.status != "not_graded"]
    status = Counter(r.extra_data.status for r in reports)
    return environment().get_template("dashboard.html.j2").render(
        css=css(), script=SORT_SCRIPT, script_hash=script_hash, students=len(reports), status=dict(status),
        passed=status.get("passed", 0), graded=len(graded),
        mean=statistics.fmean(r.score for r in graded) if graded else None,
        max_score=max((r.max_score for r in reports), default=0.0),
        rows=_rows(reports, links), checks=_check_rates(graded), hints=_hints(reports), figures=_figures(reports),
        duplicates=duplicates, ignored=ignored, wall_s=wall_s,
        not_graded=sorted(((r.extra_data.student or r.extra_data.submission), r.extra_data.error or "?")
                          for r in reports if r.extra_data.status == "not_graded"),
        errors=sorted(((r.extra_data.student or r.extra_data.submission), r.extra_data.error or "?")
                      for r in reports if r.extra_data.status == "error"))


def write_dashboard(root: Path, reports: list[Report], *, links: Mapping[str, str], duplicates: list[list[str]],
                    ignored: list[str], wall_s: float | None = None) -> Path:
    path = root / "index.html"
    write_atomic(path, render_dashboard(reports, links=links, duplicates=duplicates, ignored=ignored, wall_s=wall_s))
    return path
