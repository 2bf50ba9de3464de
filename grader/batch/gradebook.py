"""grades.csv and summary.json, rebuilt from the per-student result files so they always agree with them.

``summary.json`` version 2: ``checks_failed`` counts, per check, the students for whom that check was the *first*
failing one (a report's tests are in check order, so that is the cause); ``checks_failed_after`` counts the failures
that followed it (the cascade: e.g. "architecture" and "test_accuracy" for code that never ran). Version 1 counted
every failure in ``checks_failed``.
"""
from __future__ import annotations

import csv
import html
import io
import json
import statistics
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from grader.report import Report, write_atomic

SUMMARY_VERSION = 2  # 2: checks_failed counts first failures only; checks_failed_after the rest
LEADING = ["student", "score", "max_score", "status"]  # then points_<check> per check, then:
TRAILING = ["test_accuracy", "train_accuracy", "epochs", "file", "error"]


def _check_ids(reports: list[Report]) -> list[str]:
    seen: dict[str, None] = {}
    for report in reports:
        for test in report.tests:
            seen.setdefault(test.extra_data.check, None)
    return list(seen)


def grades_csv(reports: list[Report]) -> str:
    checks = _check_ids(reports)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*LEADING, *(f"points_{c}" for c in checks), *TRAILING])
    for r in sorted(reports, key=lambda r: r.extra_data.student or ""):
        d = r.extra_data
        by_check = {t.extra_data.check: t.score for t in r.tests}
        error = (d.error or "").replace("\n", " ")[:300]
        writer.writerow([_csv_safe(d.student or ""), f"{r.score:g}", f"{r.max_score:g}", d.status,
                         *[f"{by_check[c]:g}" if c in by_check else "" for c in checks],
                         "" if d.test_accuracy is None else f"{d.test_accuracy:.4f}",
                         "" if d.train_accuracy is None else f"{d.train_accuracy:.4f}", d.epochs_run,
                         _csv_safe(d.submission), _csv_safe(error)])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A cell starting with = + - @ is a formula to spreadsheets: student-controlled text must not be one."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def summary(reports: list[Report], *, ignored: list[str], duplicates: list[list[str]], wall_s: float | None
            ) -> dict[str, object]:
    scores = [r.score for r in reports if r.extra_data.status != "not_graded"]
    first_failed, failed_after = _failed_checks(reports)
    hints = Counter(h for r in reports for h in r.extra_data.hints)
    return {
        "summary_version": SUMMARY_VERSION,
        "students": len(reports),
        "status": dict(Counter(r.extra_data.status for r in reports)),
        "score": {"max_score": max((r.max_score for r in reports), default=0.0),
                  "mean": round(statistics.fmean(scores), 3) if scores else None,
                  "median": statistics.median(scores) if scores else None,
                  "min": min(scores, default=None), "max": max(scores, default=None),
                  "distribution": {f"{k:g}": v for k, v in sorted(Counter(scores).items())}},
        "checks_failed": dict(first_failed.most_common()),
        "checks_failed_after": dict(failed_after.most_common()),
        "common_hints": [{"hint": h, "students": n} for h, n in hints.most_common(10)],
        "not_graded": sorted(r.extra_data.student or "" for r in reports if r.extra_data.status == "not_graded"),
        "duplicates": duplicates,
        "ignored_files": ignored,
        "time": {"grading_s": round(sum(r.extra_data.timings.total_s for r in reports), 1),
                 "this_run_wall_s": None if wall_s is None else round(wall_s, 1)},
    }


def _failed_checks(reports: list[Report]) -> tuple[Counter[str], Counter[str]]:
    """Per check id: how many students it was the first failing check of, and how many it failed for after an
    earlier check had already failed (often "not reached" because of that earlier failure)."""
    first: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for report in reports:
        failing = [t.extra_data.check for t in report.tests if t.status == "failed"]
        if failing:
            first[failing[0]] += 1
            after.update(failing[1:])
    return first, after


def write_gradebook(root: Path, reports: list[Report], *, ignored: list[str], duplicates: list[list[str]],
                    wall_s: float | None = None, links: Mapping[str, str] | None = None) -> None:
    """grades.csv, summary.json and the class dashboard index.html (``links``: student -> their HTML report)."""
    write_atomic(root / "grades.csv", grades_csv(reports))
    write_atomic(root / "summary.json", json.dumps(summary(reports, ignored=ignored, duplicates=duplicates,
                                                          wall_s=wall_s), indent=2) + "\n")
    from grader.html.dashboard import write_dashboard  # matplotlib and Jinja: loaded only when a gradebook is built

    try:
        write_dashboard(root, reports, links=links or {}, duplicates=duplicates, ignored=ignored, wall_s=wall_s)
    except Exception as exc:  # the numbers above are written; a dashboard that cannot be drawn says why
        write_atomic(root / "index.html", "<!DOCTYPE html><title>cnngrade</title><p>The dashboard could not be built: "
                     + html.escape(f"{type(exc).__name__}: {exc}") + ". grades.csv and summary.json are complete.</p>\n")
