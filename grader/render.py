"""The terminal view of a report: a table of checks, the score, hints and time per epoch."""
from __future__ import annotations

import textwrap

from grader.report import Report

WIDTH = 100


def render(report: Report) -> str:
    d = report.extra_data
    lines = [f"cnngrade {d.grader_version} - {d.exercise_id} {d.exercise_version} - {d.submission}", ""]
    name_width = max(len(t.name) for t in report.tests)
    for t in report.tests:
        mark = "PASS" if t.status == "passed" else "FAIL"
        lines.append(f"  {mark}  {t.name:<{name_width}}  {t.score:g}/{t.max_score:g}")
        for out_line in t.output.splitlines()[:30]:
            lines += textwrap.wrap(out_line, WIDTH, initial_indent="        ", subsequent_indent="          ") or [""]
    lines += ["", f"  Score: {report.score:g}/{report.max_score:g}" + ("  (all checks passed)" if report.passed else "")]
    if d.history:
        epochs = ", ".join(f"{e.epoch}: {e.accuracy:.4f}" for e in d.history if e.accuracy is not None)
        lines.append(f"  Epochs run: {d.epochs_run} of {d.epoch_budget} allowed; accuracy by epoch: {epochs}")
        lines.append(f"  Time per epoch: {d.timings.mean_epoch_s:.1f} s on {d.device}")
    if d.graded_fit_source:
        lines.append(f"  Graded: {d.graded_fit_source}")
    for note in d.notes:
        lines.append(f"  Note: {note}")
    if d.hints:
        lines += ["", "  Hints:"] + [f"   - {h}" for h in d.hints]
    lines.append(f"\n  Seed {d.seed}; graded in {d.timings.total_s:.0f} s (isolation: {d.isolation}).")
    return "\n".join(lines)
