"""Who a file belongs to, for the export layouts instructors get from their course tools.

- Canvas: ``lastfirst_12345_67890_name.ipynb`` (``_late_`` after the name when late; ``-N`` resubmissions)
- Gradescope: ``submission_123/`` folders, students named in ``submission_metadata.yml`` at the top (the
  export's own file) or ``submission_metadata.json`` inside the folder (the autograder's)
- nbgrader: ``submitted/<student>/<assignment>/...``
- otherwise: a folder per student (``alice/...``) or a file per student (``alice.ipynb``)
- ``--pattern``: a regular expression with a ``student`` group, matched against the path inside SUBMISSIONS

and which files belong to nobody (see ``grader.batch.discover`` for the whole rule).
"""
from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

CANVAS = re.compile(r"^(?P<name>[A-Za-z][\w-]*?)(?:_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+?)(?:-(?P<rev>\d+))?"
                    r"(?P<suffix>\.[A-Za-z0-9]+)$", re.IGNORECASE)
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
NBGRADER = "submitted"
# What nbgrader keeps beside ``submitted/`` in a course folder: the instructor's, never a student's.
NBGRADER_COURSE = frozenset({"source", "release", "autograded", "feedback", "nbgrader_config.py", "gradebook.db"})
# The export's own metadata, wherever it lies (a Gradescope folder holds one beside the student's files).
EXPORT_METADATA = frozenset({"submission_metadata.yml", "submission_metadata.json"})
# Operating-system and editor debris (hidden files, ``.DS_Store`` included, are skipped before this is asked).
DEBRIS = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
# Files about the class, not from a student: README.md, Instructions.pdf, LICENSE (not "readmeister.pdf").
CLASS_FILE = re.compile(r"^(?:readme|instructions?|licen[cs]e)(?![a-z])", re.IGNORECASE)
# What tools write beside submissions (gradebooks, rosters, grades.csv and summary.json of an earlier run, logs,
# settings): in the root of a file-per-student folder these are the class's, not a hand-in named after a student.
DATA_SUFFIXES = frozenset({".csv", ".tsv", ".xls", ".xlsx", ".ods", ".json", ".jsonl", ".yml", ".yaml", ".toml",
                           ".ini", ".cfg", ".log", ".db", ".sqlite", ".sqlite3"})


def is_debris(name: str) -> bool:
    """Hidden files, Office lock files (``~$essay.docx``), editor backups (``hw.py~``), Thumbs.db and the like."""
    return name.startswith((".", "~$")) or name.endswith("~") or name.lower() in DEBRIS


def is_class_file(name: str) -> bool:
    """A README, instructions or licence, or a data file (``grades.csv``, ``roster.xlsx``, ``summary.json``)."""
    return bool(CLASS_FILE.match(name)) or PurePosixPath(name).suffix.lower() in DATA_SUFFIXES


def is_results_folder(folder: Path) -> bool:
    """A cnngrade results folder (``students/`` beside ``batch-log.jsonl``), e.g. an earlier run's output."""
    return (folder / "batch-log.jsonl").is_file() and (folder / "students").is_dir()


def is_nbgrader_course(root: Path) -> bool:
    """An nbgrader course folder: ``submitted/`` at the top, the course's own folders beside it."""
    return (root / NBGRADER).is_dir() and not (root / NBGRADER).is_symlink()


def canvas_owner(name: str) -> tuple[str, int] | None:
    """``(student, resubmission number)`` for a Canvas download name, or None."""
    match = CANVAS.match(name)
    if match is None:
        return None
    return match.group("name").lower(), int(match.group("rev") or 0)


def canvas_user(name: str) -> str | None:
    """The Canvas user id in a download name (tells apart two students whose names reduce alike)."""
    match = CANVAS.match(name)
    return match.group("uid") if match else None


def revision(name: str) -> int:
    """Canvas numbers resubmissions ``-1``, ``-2``...: a higher number is a later upload."""
    owner = canvas_owner(name)
    return owner[1] if owner else 0


def _person(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    for key in ("email", ":email", "sid", ":sid", "name", ":name", "id"):
        value = entry.get(key)
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()
    return None


def _submitters(meta: Any) -> list[str]:
    """People named in Gradescope metadata: ``:submitters:`` in the export's YAML, ``users`` in the JSON."""
    if not isinstance(meta, dict):
        return []
    people = meta.get(":submitters") or meta.get("submitters") or meta.get("users") or []
    if not isinstance(people, list):
        return []
    return [p for p in map(_person, people) if p]


def gradescope_names(root: Path) -> dict[str, str]:
    """Folder name -> student from the export's top-level ``submission_metadata.yml`` (empty when absent)."""
    path = root / "submission_metadata.yml"
    if not path.is_file():
        return {}
    try:
        import yaml

        meta = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace")[:10_000_000])
    except Exception:  # a broken metadata file falls back to folder names; it is noted by the caller
        return {}
    if not isinstance(meta, dict):
        return {}
    names = {}
    for folder, entry in meta.items():
        people = _submitters(entry)
        if people:
            names[str(folder)] = "+".join(people)  # a group submission: one result, named for everyone in it
    return names


def gradescope_owner(folder: Path, names: dict[str, str]) -> str:
    if folder.name in names:
        return names[folder.name]
    path = folder / "submission_metadata.json"
    if path.is_file() and path.stat().st_size < 1_000_000:
        try:
            people = _submitters(json.loads(path.read_text(encoding="utf-8", errors="replace")))
        except ValueError:
            people = []
        if people:
            return "+".join(people)
    return folder.name


def nbgrader_owner(relative: PurePosixPath) -> str | None:
    """The student of a file under ``submitted/<student>/<assignment>/``, or None."""
    parts = relative.parts
    for i, part in enumerate(parts[:-3]):
        if part == NBGRADER:
            return parts[i + 1]
    return None


def pattern_owner(pattern: re.Pattern[str], relative: PurePosixPath) -> str | None:
    match = pattern.search(relative.as_posix())
    if match is None:
        return None
    student = match.groupdict().get("student")
    return student or None
