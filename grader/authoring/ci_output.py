"""What CI systems read: JUnit XML (one testcase per case), and on GitHub Actions a job summary and annotations."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from grader.authoring.check import CaseResult, CheckResult
from grader.report import write_atomic


def junit_xml(result: CheckResult) -> str:
    suites = ET.Element("testsuites", name="cnngrade check", tests=str(len(result.cases)),
                        failures=str(sum(not c.ok for c in result.cases)),
                        time=f"{sum(c.seconds for c in result.cases):.1f}")
    by_exercise: dict[str, list[CaseResult]] = {}
    for case in result.cases:
        by_exercise.setdefault(case.exercise or "repository", []).append(case)
    for exercise, cases in by_exercise.items():
        suite = ET.SubElement(suites, "testsuite", name=exercise, tests=str(len(cases)),
                              failures=str(sum(not c.ok for c in cases)), errors="0", skipped="0",
                              time=f"{sum(c.seconds for c in cases):.1f}")
        for case in cases:
            node = ET.SubElement(suite, "testcase", classname=exercise, name=case.name, file=str(case.path),
                                 time=f"{case.seconds:.1f}")
            if not case.ok:
                failure = ET.SubElement(node, "failure", message=case.message.split("\n")[0][:500], type="CheckFailed")
                failure.text = case.message
            elif case.message:
                ET.SubElement(node, "system-out").text = case.message
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_junit(result: CheckResult, path: Path) -> None:
    write_atomic(path, junit_xml(result))


def _escape(text: str, *, prop: bool = False) -> str:
    """GitHub workflow-command escaping (``%``, newlines; plus ``:`` and ``,`` inside properties)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def error_annotations(result: CheckResult, *, root: Path) -> list[str]:
    lines = []
    for case in result.cases:
        if case.ok:
            continue
        try:
            where = case.path.resolve().relative_to(root.resolve())
        except ValueError:
            where = case.path
        lines.append(f"::error file={_escape(str(where), prop=True)},title={_escape(case.name, prop=True)}::"
                     f"{_escape(case.message)}")
    return lines


def markdown_summary(result: CheckResult) -> str:
    failed = sum(not c.ok for c in result.cases)
    head = "✅ every exercise is gradable" if result.ok else f"❌ {failed} of {len(result.cases)} checks failed"
    rows = ["| | exercise | case | result |", "|---|---|---|---|"]
    for case in result.cases:
        text = case.message.replace("|", "\\|").replace("\n", " ")[:300]
        rows.append(f"| {'✅' if case.ok else '❌'} | {case.exercise} | {case.name} | {text} |")
    return f"## cnngrade check\n\n{head}\n\n" + "\n".join(rows) + "\n"


def report_to_github(result: CheckResult, *, root: Path, env: Mapping[str, str] = os.environ,
                     out: TextIO | None = None) -> bool:
    """On GitHub Actions: print error annotations and append the job summary. False elsewhere."""
    if env.get("GITHUB_ACTIONS") != "true":
        return False
    for line in error_annotations(result, root=root):
        print(line, file=out)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown_summary(result))
    return True
