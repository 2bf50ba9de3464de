"""The CSV Gradescope accepts when uploading an assignment's scores: one row per person, ``Email`` or ``SID`` and
``Score``.

People come from the results of a Gradescope export (``cnngrade grade`` names each student after the export's
``submission_metadata.yml``: e-mail, else SID; group members joined with ``+``, each gets the group's score). A
result whose student is neither an e-mail nor a SID-like token (a folder name with spaces, a Canvas name is still
written as SID when it is one word) is reported; ``not_graded`` results are left out and reported: a grader
failure is never uploaded as a zero.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from grader.report import Report

HEADER = ("Email", "SID", "Score")
SID = re.compile(r"^[\w.-]+$")
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula (CSV injection)
EXPORT_FOLDER = re.compile(r"(?:^|[/!])submission_\d+/")


@dataclass
class ScoresFile:
    text: str
    written: int = 0
    unusable: list[str] = field(default_factory=list)
    not_graded: list[str] = field(default_factory=list)


def scores_csv(reports: list[Report]) -> ScoresFile:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    result = ScoresFile(text="")
    for report in sorted(reports, key=lambda r: r.extra_data.student or ""):
        student = report.extra_data.student or ""
        if report.extra_data.status == "not_graded":
            result.not_graded.append(student)
            continue
        for person in student.split("+"):
            person = person.strip()
            if person.startswith(FORMULA):  # a spreadsheet would run it as a formula: never written
                result.unusable.append(person)
                continue
            if "@" in person and " " not in person:
                writer.writerow([person, "", f"{report.score:g}"])
            elif SID.match(person) and EXPORT_FOLDER.search(report.extra_data.submission):
                writer.writerow(["", person, f"{report.score:g}"])
            else:
                result.unusable.append(person or "(unnamed)")
                continue
            result.written += 1
    result.text = out.getvalue()
    return result
