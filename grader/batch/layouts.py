"""Who a file belongs to, for the export layouts instructors get from their course tools.

- Canvas: ``lastfirst_12345_67890_name.ipynb`` (``_late_`` after the name when late; ``-N`` resubmissions)
- Gradescope: ``submission_123/`` folders, students named in ``submission_metadata.yml`` at the top (the
  export's own file) or ``submission_metadata.json`` inside the folder (the autograder's)
- nbgrader: ``submitted/<student>/<assignment>/...``
- otherwise: a folder per student (``alice/...``) or a file per student (``alice.ipynb``)
- ``--pattern``: a regular expression with a ``student`` group, matched against the path inside SUBMISSIONS
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
