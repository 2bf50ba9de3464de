"""Find each student's submission under SUBMISSIONS (a folder or a .zip), without running anything.

A student with several files gets one result. The rule, also written into their feedback: prefer the files
that look like a solution (they define the exercise's entry point or call ``fit``), then the latest upload
(Canvas ``-N`` resubmission number, then modification time), then the path name, so the choice is stable.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.batch import layouts
from grader.batch.archives import ArchiveError, extract
from grader.errors import UsageError

SUFFIXES = (".ipynb", ".py")
SKIPPED_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git", "node_modules"}
SNIFF_BYTES = 20_000_000


@dataclass(frozen=True)
class Candidate:
    path: Path  # the file on disk (inside the staging folder when it came from an archive)
    shown: str  # the path the instructor knows: "alice/hw.ipynb", "class.zip!alice/hw.ipynb"
    revision: int = 0
    mtime: float = 0.0


@dataclass
class Entry:
    student: str
    layout: str
    files: list[Candidate] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    chosen: Candidate | None = None
    note: str | None = None  # which file was graded and why, when there was a choice

    @property
    def problem(self) -> str | None:
        """Why nothing can be graded for this student, in words they can act on."""
        if self.chosen is not None:
            return None
        found = ", ".join(self.other_files[:8]) or "nothing"
        return "; ".join([*self.problems, f"no .ipynb notebook or .py module was found (found: {found})"])


@dataclass
class Discovery:
    entries: list[Entry]
    ignored: list[str]  # files that belong to nobody (README.md beside the submissions, links)


def _walk(root: Path, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Every plain file under ``root``, skipping editor and OS debris, ``exclude`` (a results folder kept
    inside the submissions) and never following links."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")
                         and (Path(folder) / d).resolve() not in exclude)
        found.extend(Path(folder) / f for f in sorted(files) if not f.startswith("."))
    return found


def _owner(rel: PurePosixPath, root: Path, pattern: re.Pattern[str] | None, gs_names: dict[str, str]
           ) -> tuple[str, str] | None:
    """``(student, layout)`` for a file at ``rel`` under ``root``, or None when it belongs to nobody."""
    if pattern is not None:
        student = layouts.pattern_owner(pattern, rel)
        return (student, "pattern") if student else None
    student = layouts.nbgrader_owner(rel)
    if student:
        return student, "nbgrader"
    if len(rel.parts) > 1:
        top = rel.parts[0]
        if layouts.GRADESCOPE_FOLDER.match(top):
            return layouts.gradescope_owner(root / top, gs_names), "gradescope"
        return top, "folder per student"
    canvas = layouts.canvas_owner(rel.name)
    if canvas:
        return canvas[0], "canvas"
    if rel.suffix.lower() in (*SUFFIXES, ".zip"):
        return rel.stem, "file per student"
    return None


def _unwrap(root: Path) -> Path:
    """An export zip usually wraps the submissions in one folder (``class/alice/...``): look inside it, once."""
    children = [c for c in root.iterdir() if c.name not in SKIPPED_DIRS and not c.name.startswith(".")]
    if (len(children) == 1 and children[0].is_dir() and children[0].name != layouts.NBGRADER
            and not layouts.GRADESCOPE_FOLDER.match(children[0].name)):
        return children[0]
    return root


def _add_file(entry: Entry, path: Path, shown: str, staging: Path) -> None:
    suffix = path.suffix.lower()
    if path.is_symlink():
        entry.problems.append(f"{shown} is a link, not a file, and was not followed")
    elif suffix in SUFFIXES:
        try:
            mtime = path.stat().st_mtime
        except OSError as exc:
            entry.problems.append(f"{shown} cannot be read ({exc.strerror or exc})")
            return
        entry.files.append(Candidate(path, shown, layouts.revision(path.name), mtime))
    elif suffix == ".zip":
        target = Path(tempfile.mkdtemp(dir=staging))
        try:
            for member in extract(path, target):
                _add_file(entry, member, f"{shown}!{member.relative_to(target).as_posix()}", staging)
        except ArchiveError as exc:
            entry.problems.append(str(exc))
    else:
        entry.other_files.append(shown.rsplit("/", 1)[-1])


def _looks_like_solution(path: Path, entry_point: str | None) -> bool:
    try:
        with open(path, "rb") as handle:
            text = handle.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return ".fit(" in text or bool(entry_point and f"def {entry_point}(" in text)


def choose(entry: Entry, entry_point: str | None) -> None:
    """Pick the file to grade (see the module docstring) and explain the choice when there was one."""
    if not entry.files:
        return
    solution_like = {c.path: _looks_like_solution(c.path, entry_point) for c in entry.files}  # each file read once
    entry.chosen = max(entry.files, key=lambda c: (solution_like[c.path], c.revision, c.mtime, c.shown))
    if len(entry.files) > 1:
        why = (f"the latest file that trains a model (calls fit{f' or defines {entry_point}()' if entry_point else ''})"
               if solution_like[entry.chosen.path] else "the latest file (none of them calls fit)")
        names = ", ".join(c.shown for c in entry.files[:10])
        entry.note = f"{len(entry.files)} files were submitted ({names}); graded {entry.chosen.shown}: {why}."


def discover(submissions: Path, *, staging: Path, entry_point: str | None = None, pattern: str | None = None,
             exclude: tuple[Path, ...] = ()) -> Discovery:
    """Group the files under ``submissions`` (a folder, a .zip, or one file) by student and choose one each."""
    compiled = _compile(pattern)
    prefix = ""
    if not submissions.exists():
        raise UsageError(f"{submissions}: no such file or folder")
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        try:
            extract(submissions, staging / "export")
        except ArchiveError as exc:
            raise UsageError(str(exc)) from exc
        prefix, submissions = f"{submissions.name}!", _unwrap(staging / "export")
    elif submissions.is_file():
        entry = Entry(student=submissions.stem, layout="one file")
        _add_file(entry, submissions, submissions.name, _archives(staging))
        choose(entry, entry_point)
        return Discovery([entry], [])
    return _group(submissions, prefix=prefix, staging=_archives(staging), entry_point=entry_point, pattern=compiled,
                  exclude=tuple(p.resolve() for p in exclude))


def _archives(staging: Path) -> Path:
    folder = staging / "archives"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _group(root: Path, *, prefix: str, staging: Path, entry_point: str | None, pattern: re.Pattern[str] | None,
           exclude: tuple[Path, ...] = ()) -> Discovery:
    entries: dict[str, Entry] = {}
    ignored: list[str] = []
    gs_names = layouts.gradescope_names(root)
    for path in _walk(root, exclude):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        owner = _owner(rel, root, pattern, gs_names)
        if owner is None or rel.name in ("submission_metadata.json", "submission_metadata.yml"):
            ignored.append(prefix + rel.as_posix())
            continue
        entry = entries.setdefault(owner[0], Entry(student=owner[0], layout=owner[1]))
        _add_file(entry, path, prefix + rel.as_posix(), staging)
    grouped = [part for entry in entries.values() for part in _split_canvas_namesakes(entry)]
    for entry in grouped:
        choose(entry, entry_point)
    return Discovery(sorted(grouped, key=lambda e: e.student), ignored)


def _split_canvas_namesakes(entry: Entry) -> list[Entry]:
    """Two Canvas users whose names reduce to the same ``lastfirst`` become ``lastfirst_<user id>`` each."""
    if entry.layout != "canvas":
        return [entry]
    users = {layouts.canvas_user(c.path.name) for c in entry.files}
    if len(users) < 2 or None in users:
        return [entry]
    parts = []
    for user in sorted(u for u in users if u):
        part = Entry(student=f"{entry.student}_{user}", layout="canvas")
        part.files = [c for c in entry.files if layouts.canvas_user(c.path.name) == user]
        parts.append(part)
    return parts


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--pattern {pattern!r} is not a valid regular expression: {exc}") from exc
    if "student" not in compiled.groupindex:
        raise UsageError(f"--pattern {pattern!r} needs a named group (?P<student>...) that captures the student")
    return compiled

