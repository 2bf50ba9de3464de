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
from grader.html.notebook_view import cell_rows, highlight_css
from grader.render import check_body
from grader.report import Report, write_atomic


@dataclass(frozen=True)
class Section:
    title: str
    html: Markup  # built by trusted code with the same autoescaped environment (``environment()``)


SectionBuilder = Callable[[Report, Feedback], Section | None]
SECTIONS: list[SectionBuilder] = []  # extension point: exercise-specific sections, appended by their modules


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


def _mistakes(feedback: Feedback) -> tuple[str | None, str]:
    m = feedback.measurement
    shown = [x for x in (m.misclassified if m else []) if x.index in feedback.test_images]
    if not shown:
        return None, ""
    png = charts.image_grid([np.asarray(feedback.test_images[x.index]) for x in shown],
                            [f"true {x.true}, said {x.predicted}" for x in shown])
    alt = "Misclassified test images: " + "; ".join(f"image {x.index}: true {x.true}, predicted {x.predicted}"
                                                    for x in shown)
    return charts.data_uri(png), alt


def _journey(feedback: Feedback) -> dict[str, object] | None:
    m = feedback.measurement
    j = m.journey if m else None
    if j is None:
        return None
    steps = []
    for n, row in enumerate(j.images):
        if row not in feedback.test_images:
            continue
        images = [np.asarray(feedback.test_images[row]), *map(np.asarray, j.conv_maps[n])]
        titles = ["test image", *(f"conv {c + 1}" for c in range(len(j.conv_maps[n])))]
        if j.pool_maps:
            images += list(map(np.asarray, j.pool_maps[n]))
            titles += [f"pooled {c + 1}" for c in range(len(j.pool_maps[n]))]
        steps.append({"uri": charts.data_uri(charts.image_grid(images, titles, columns=len(j.conv_maps[n]) + 1,
                                                               size=0.9)),
                      "alt": (f"Test image {row}, then {len(j.conv_maps[n])} feature maps after the convolution"
                              + (" and the same after max pooling" if j.pool_maps else "")),
                      "caption": f"Test image {row} after your convolution" + (" and pooling" if j.pool_maps else "")})
    return {"filters": charts.data_uri(charts.filters(j.filters)), "count": len(j.filters), "steps": steps}


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
    mistakes, mistakes_alt = _mistakes(feedback)
    m = feedback.measurement
    cells = cell_rows(feedback, list(d.errors))
    shown_cells = {c.cell for c in feedback.cells}
    tests = [_Check(t.number, t.name, t.status, t.score, t.max_score, "\n".join(check_body(t, with_hint=False, max_lines=10_000)),
                    t.extra_data) for t in report.tests]
    return environment().get_template("report.html.j2").render(
        r=report, d=d, tests=tests, css=css(), fmt=fmt, curve=charts.data_uri(curve) if curve else None,
        last_logged=d.history[-1].accuracy if d.history else None,
        confusion=m.confusion if m else None, mistakes=mistakes, mistakes_alt=mistakes_alt,
        journey=_journey(feedback), journey_problem=m.journey_problem if m else None,
        extra_sections=[s for s in (build(report, feedback) for build in SECTIONS) if s is not None],
        cells=cells, loose_errors=[e for e in d.errors if feedback.kind == "notebook" and e.cell not in shown_cells],
        output=feedback.output)


def write_html_report(report: Report, feedback: Feedback | None, path: Path) -> None:
    write_atomic(path, render_report(report, feedback))
