"""What the HTML report adds to a grading, measured side by side on the same submission.

Plain: ``api.grade`` (no pictures). With the report: ``api.grade_with_feedback`` (the measurement child also traces
the journey of 3 test images; the confusion matrix comes from the accuracy pass in both) and then rendering the
HTML page. Runs alternate (plain, report, plain, report...) so that a busy machine slows both alike.

Usage: python benchmarks/report_overhead.py [--full-size] [--repeats N]
  default: tests/specs/mnist-small.toml (a slice of MNIST, ~30 s a grading)
  --full-size: the real exercise on full MNIST (minutes per grading; the issue's <= 5% target is about this)
Writes benchmarks/results-report-overhead[-full].json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from grader.api import grade, grade_with_feedback
from grader.html.report_page import render_report

ROOT = Path(__file__).resolve().parent.parent
SUBMISSION = ROOT / "solutions" / "mnist-single-conv" / "reference_notebook.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full-size", action="store_true")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    spec = None if args.full_size else ROOT / "tests" / "specs" / "mnist-small.toml"
    plain, with_report, render, measure_plain, measure_report = [], [], [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        measure_plain.append(grade(submission=SUBMISSION, exercise=spec).extra_data.timings.measure_s)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        report, feedback = grade_with_feedback(submission=SUBMISSION, exercise=spec)
        rendered = time.perf_counter()
        page = render_report(report, feedback)
        with_report.append(time.perf_counter() - start)
        render.append(time.perf_counter() - rendered)
        measure_report.append(report.extra_data.timings.measure_s)
    result = {
        "spec": "full MNIST (mnist-single-conv)" if args.full_size else "tests/specs/mnist-small.toml",
        "repeats": args.repeats, "plain_s": [round(x, 2) for x in plain],
        "with_report_s": [round(x, 2) for x in with_report], "render_s": [round(x, 3) for x in render],
        # The measurement child alone (the journey is its only extra work): less noisy than whole gradings.
        "measure_plain_s": measure_plain, "measure_with_journey_s": measure_report,
        "overhead_median_pct": round(100 * (statistics.median(with_report) / statistics.median(plain) - 1), 1),
        "html_bytes": len(page.encode()),
        "note": "grading times vary by several seconds on a shared machine: compare the render time, which is exact",
    }
    name = "results-report-overhead-full.json" if args.full_size else "results-report-overhead.json"
    (ROOT / "benchmarks" / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
