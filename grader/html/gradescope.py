"""results.json for Gradescope's results page: each test's output as HTML (Gradescope's ``output_format``), the
training curve embedded in the training check as a base64 PNG. The plain text stays in ``extra_data.text`` of each
test for every other consumer.

Gradescope renders HTML outputs itself; everything taken from the report is escaped here, so student text quoted
in an output (an error message, a file name) stays text there too. The curve is drawn small (about 20-30 KB as a
data URI) so that the whole file stays far below the sizes Gradescope is known to handle.
"""
from __future__ import annotations

import html

from grader.html import charts
from grader.report import Report, TestResult

CURVE_CHECK = "budget"  # the check about reaching the threshold within the epoch budget: where the curve belongs
CURVE_SIZE = (5.5, 2.8)  # inches at charts.DPI


def _html(test: TestResult, curve: str | None) -> str:
    hint = test.extra_data.hint
    tail = f"\nHint: {hint}" if hint else ""
    body = test.output[:-len(tail)] if tail and test.output.endswith(tail) else test.output
    parts = [f"<pre>{html.escape(body)}</pre>"]
    if hint:
        parts.append(f"<p><strong>Hint:</strong> {html.escape(hint)}</p>")
    if curve:
        parts.append(f'<p><img src="{curve}" alt="Training curve: logged accuracy and loss per epoch, the threshold and '
                     'the re-measured accuracy" style="max-width:100%"></p>')
    return "\n".join(parts)


def for_gradescope(report: Report) -> Report:
    """``report`` with HTML test outputs and the training curve; scores, statuses and extra_data unchanged."""
    png = charts.training_curve(report, width=CURVE_SIZE[0], height=CURVE_SIZE[1])
    curve = charts.data_uri(png) if png else None
    checks = [t.extra_data.check for t in report.tests]
    target = CURVE_CHECK if CURVE_CHECK in checks else (checks[0] if checks else None)
    tests = [t.model_copy(update={"output": _html(t, curve if t.extra_data.check == target else None),
                                  "output_format": "html",
                                  "extra_data": t.extra_data.model_copy(update={"text": t.output})})
             for t in report.tests]
    return report.model_copy(update={"tests": tests})
