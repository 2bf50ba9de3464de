"""A cnngrade report as Gradescope's ``results.json``: the report's own fields (it already has Gradescope's shape),
with the autograder's visibility on the results and on every test, the grader's log hidden from students, and,
when asked, a leaderboard.

Gradescope's documented top-level fields: ``score``, ``execution_time``, ``output``, ``visibility``,
``stdout_visibility``, ``extra_data``, ``tests`` (each: ``score``, ``max_score``, ``status``, ``name``, ``number``,
``output``, ``tags``, ``visibility``, ``extra_data``) and ``leaderboard`` (``name``, ``value``, ``order``).
``extra_data.status == "not_graded"`` marks a submission nothing was decided for (instructors filter on it).
"""
from __future__ import annotations

import json
from typing import Any

from grader.platforms.gradescope_config import AutograderConfig
from grader.report import Report


def leaderboard(report: Report, config: AutograderConfig) -> list[dict[str, Any]]:
    """Test accuracy (higher first) and the epochs taken to the exercise's goal (fewer first; the epochs trained
    when no callback stops training), for what the run reached; a failing run has no epochs entry (Gradescope lists
    it last)."""
    d = report.extra_data
    entries: list[dict[str, Any]] = []
    if d.test_accuracy is not None:
        entries.append({"name": "Test accuracy", "value": round(d.test_accuracy, 4), "order": "desc"})
    goal = config.exercise.goal
    if goal.stop_callback and d.stop_epoch is not None and d.status == "passed":
        entries.append({"name": f"Epochs to {goal.describe()}", "value": d.stop_epoch, "order": "asc"})
    elif not goal.stop_callback and d.epochs_run and d.status == "passed":
        entries.append({"name": "Epochs trained", "value": d.epochs_run, "order": "asc"})
    return entries


def gradescope_results(report: Report, config: AutograderConfig) -> dict[str, Any]:
    results: dict[str, Any] = report.model_dump(mode="json")
    results["visibility"] = config.visibility
    results["stdout_visibility"] = "hidden"  # the grader's progress log: for instructors, never feedback
    for test in results["tests"]:
        test["visibility"] = config.visibility
    if config.leaderboard:
        results["leaderboard"] = leaderboard(report, config)
    return results


def results_json(report: Report, config: AutograderConfig) -> str:
    return json.dumps(gradescope_results(report, config), indent=2, allow_nan=False) + "\n"


def as_report(results: dict[str, Any]) -> Report | None:
    """The cnngrade report inside a results.json (None for the shell's own fallback, which is not one)."""
    own = {k: v for k, v in results.items() if k != "leaderboard"}
    try:
        return Report.model_validate(own)
    except ValueError:
        return None
