"""The terminal view of a report: a table of checks with each one's hint, the score and time per epoch."""
from __future__ import annotations

import textwrap

from grader.report import Report, TestResult

WIDTH = 100
MAX_LINES = 30


def check_body(t: TestResult, *, with_hint: bool = True, max_lines: int = MAX_LINES) -> list[str]:
    """A test's output, long tracebacks cut, with its hint kept last: each hint is printed once, under its check."""
    hint = t.extra_data.hint
    tail = f"\nHint: {hint}" if hint else ""
    output = t.extra_data.text or t.output  # the plain text when the output is Gradescope's HTML
    text = output[:-len(tail)] if tail and output.endswith(tail) else output
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... {len(lines) - max_lines} more line(s) in the JSON report"]
    return lines + ([f"Hint: {hint}"] if hint and with_hint else [])


def render(report: Report) -> str:
    d = report.extra_data
    lines = [f"cnngrade {d.grader_version} - exercise {d.exercise_id} {d.exercise_version} - {d.submission}", ""]
    name_width = max((len(t.name) for t in report.tests), default=0)
    for t in report.tests:
        mark = "PASS" if t.status == "passed" else "FAIL"
        lines.append(f"  {mark}  {t.name:<{name_width}}  {t.score:g}/{t.max_score:g}")
        for out_line in check_body(t):
            lines += textwrap.wrap(out_line, WIDTH, initial_indent="        ", subsequent_indent="          ") or [""]
    lines += ["", f"  Score: {report.score:g}/{report.max_score:g}" + ("  (all checks passed)" if report.passed else "")]
    if d.history:
        epochs = ", ".join(f"{e.epoch}: {e.accuracy:.4f}" for e in d.history if e.accuracy is not None)
        lines.append(f"  Epochs run: {d.epochs_run} of {d.epoch_budget} allowed; accuracy by epoch: {epochs}")
        if d.timings.mean_epoch_s is not None:
            lines.append(f"  Time per epoch: {d.timings.mean_epoch_s:.1f} s on {d.device}")
    for image in d.images:  # arrays exercises: what each run on each image left behind
        shapes = f"i_transformed {image.transformed_shape}, newImage {image.pooled_shape}"
        matched = f"; matched {image.orientation}" if image.orientation else ""
        lines.append(f"  Image {image.image} ({image.source}): {shapes}{matched}; ran {image.run_s:.1f} s")
    if d.graded_fit_source:
        lines.append(f"  Graded: {d.graded_fit_source}")
    for note in d.notes:
        lines.append(f"  Note: {note}")
    lines.append(f"\n  Seed {d.seed}; graded in {d.timings.total_s:.0f} s (isolation: {d.isolation}).")
    return "\n".join(lines)
