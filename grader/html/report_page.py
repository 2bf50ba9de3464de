"""One submission's self-contained HTML report: the verdict as in the JSON, the training curve, the test set's
confusion matrix and mistakes, the journey of an image, and the code as cnngrade ran it.

Facts come only from the Report and the Feedback (the trusted measurement, the grader's reading of the file).
Sections other exercises need (the homemade convolution's image, result, reference and difference) plug in through
``SECTIONS``: a function from (report, feedback) to a titled piece of markup, or None when it has nothing to show.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from grader.feedback import Feedback
from grader.html import charts
from grader.html.notebook_view import cell_rows, highlight_css, notebook_html
from grader.render import check_body
from grader.report import Report, write_atomic


@dataclass(frozen=True)
class Section:
    title: str
    html: Markup  # built by trusted code with the same autoescaped environment (``environment()``)


SectionBuilder = Callable[[Report, Feedback], Section | None]
PANELS = ('{% for p in panels %}<figure><img src="{{ p.png }}" alt="{{ p.alt }}" class="panel">'
          '<figcaption>{{ p.title }}</figcaption></figure>{% endfor %}'
          '<p class="small">Differences are shown 8 times brighter; black means equal.</p>')


def _image_panels(report: Report, feedback: Feedback) -> Section | None:
    """The homemade convolution: each image, the student's result, the grader's and their difference."""
    if not feedback.panels:
        return None
    html = Markup(environment().from_string(PANELS).render(panels=feedback.panels))
    return Section(title="Your convolution, image by image", html=html)


# Extension point: exercise-specific sections (a builder returns None for reports it does not concern).
SECTIONS: list[SectionBuilder] = [_image_panels]


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Autoescape on for every template: student text (cells, output, file names, hints quoting them) stays text.
    return Environment(loader=PackageLoader("grader.html", "templates"), autoescape=select_autoescape(default=True),
                       trim_blocks=False)


@lru_cache(maxsize=1)
def css() -> str:
    return (Path(__file__).parent / "templates" / "base.css").read_text(encoding="utf-8") + highlight_css()


def fmt(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _mistakes(feedback: Feedback) -> list[dict[str, str]]:
    """One small image per misclassified test row, its labels as HTML text (and in its alt text)."""
    m = feedback.measurement
    return [{"uri": charts.data_uri(charts.tiles([np.asarray(feedback.test_images[x.index])], scale=2, cmap="gray_r")),
             "alt": f"Test image {x.index}: a {feedback.label(x.true)}, predicted {feedback.label(x.predicted)}",
             "caption": f"true {feedback.label(x.true)}, predicted {feedback.label(x.predicted)}"}
            for x in (m.misclassified if m else []) if x.index in feedback.test_images]


def _journey(feedback: Feedback) -> dict[str, object] | None:
    m = feedback.measurement
    j = m.journey if m else None
    if j is None:
        return None
    steps = []
    for n, row in enumerate(j.images):
        if row not in feedback.test_images:
            continue
        step = {"row": row, "image": charts.data_uri(charts.tiles([np.asarray(feedback.test_images[row])], scale=3)),
                "conv": charts.data_uri(charts.tiles([np.asarray(c) for c in j.conv_maps[n]], scale=3, columns=8)),
                "channels": len(j.conv_maps[n]), "pool": None}
        if j.pool_maps:
            step["pool"] = charts.data_uri(charts.tiles([np.asarray(c) for c in j.pool_maps[n]], scale=6, columns=8))
        steps.append(step)
    filters = charts.tiles([np.asarray(f) for f in j.filters], scale=12, columns=16, cmap="RdBu_r", symmetric=True)
    return {"filters": charts.data_uri(filters), "count": len(j.filters), "steps": steps}


@dataclass(frozen=True)
class _Check:
    number: str
    name: str
    status: str
    score: float
    max_score: float
    body: str
    extra_data: object


def render_report(report: Report, feedback: Feedback | None = None) -> str:
    feedback = feedback or Feedback()
    d = report.extra_data
    curve = charts.training_curve(report)
    m = feedback.measurement
    cells = cell_rows(feedback, list(d.errors))
    shown_cells = {c.cell for c in feedback.cells}
    tests = [_Check(t.number, t.name, t.status, t.score, t.max_score, "\n".join(check_body(t, with_hint=False, max_lines=10_000)),
                    t.extra_data) for t in report.tests]
    return environment().get_template("report.html.j2").render(
        r=report, d=d, tests=tests, css=css(), fmt=fmt, curve=charts.data_uri(curve) if curve else None,
        last_logged=d.history[-1].accuracy if d.history else None,
        confusion=m.confusion if m else None, label=feedback.label, mistakes=_mistakes(feedback),
        journey=_journey(feedback), journey_problem=m.journey_problem if m else None,
        extra_sections=[s for s in (build(report, feedback) for build in SECTIONS) if s is not None],
        cells=cells, notebook=notebook_html(feedback, list(d.errors)),
        loose_errors=[e for e in d.errors if feedback.kind == "notebook" and e.cell not in shown_cells],
        output=feedback.output, entry_point_output=feedback.entry_point_output)


def write_html_report(report: Report, feedback: Feedback | None, path: Path) -> None:
    write_atomic(path, render_report(report, feedback))
