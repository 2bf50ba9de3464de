"""Find each student's submission under SUBMISSIONS (a folder or a .zip), without running anything.

A student with several files gets one result. The rule, also written into their feedback: prefer the files
that look like a solution (they define the exercise's entry point or call ``fit``), then the latest upload
(Canvas ``-N`` resubmission number, then modification time), then the path name, so the choice is stable.

Nobody goes missing: every file is a student's or, only when it clearly belongs to nobody, listed in
``Discovery.ignored`` (``ignored_files`` in summary.json). A student none of whose files is a .ipynb or .py (a PDF,
a .txt, an unreadable zip, an empty folder) still gets an entry, and so a result saying what was found. Who a file
belongs to:

- a file inside a student's folder (folder per student, Gradescope ``submission_N/``, nbgrader
  ``submitted/<student>/``) is that student's, whatever it is; such a folder holding no file of anyone's (empty,
  only debris or metadata) is still a student, who handed in nothing;
- a Canvas download name (``lastfirst_uid_sid_name.ext``) is always that student's, whatever the suffix;
- any other file in the root of SUBMISSIONS is a student named after its stem (``erin.txt`` -> ``erin``,
  ``mia.pdf`` -> ``mia``), unless it is a class file: a README, instructions or licence (``README.md``,
  ``Instructions.pdf``, whatever the suffix), or a data file (.csv .tsv .xls .xlsx .ods .json .jsonl .yml .yaml
  .toml .ini .cfg .log .db .sqlite: a gradebook or roster, ``grades.csv`` or ``summary.json`` of an earlier run)
  that is not a notebook saved under the wrong suffix;
- with ``--pattern`` the pattern says who is who: a file it matches is its ``student``'s; a file it would match
  with a .ipynb/.py/.zip suffix (``alice-final.pdf`` for ``-final\\.ipynb$``) is that student's, in the wrong
  format (class files excepted); any other file belongs to nobody.

Belong to nobody wherever they are: hidden files and folders and OS or editor debris (``__MACOSX``,
``.ipynb_checkpoints``, ``Thumbs.db``, ``desktop.ini``, ``~$`` lock files, ``*~`` backups, skipped silently), the
export's own metadata (``submission_metadata.yml``/``.json``), a cnngrade results folder (``students/`` beside
``batch-log.jsonl``) and, beside nbgrader's top-level ``submitted/``, the course's ``source/``, ``release/``,
``autograded/``, ``feedback/``, ``nbgrader_config.py``, ``gradebook.db`` and files directly in ``submitted/``.
When in doubt a file is a student's: a row saying "no notebook found" is easily deleted, a lost student is not.
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
GRADABLE = (*SUFFIXES, ".zip")  # a .zip is looked into
SKIPPED_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git", "node_modules"}
SNIFF_BYTES = 20_000_000
NOTEBOOK_SNIFF_BYTES = 65_536


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
    ignored: list[str]  # files (and whole folders, "source/") that belong to nobody, see the module docstring

    @property
    def gradable(self) -> int:
        """How many students have a .ipynb or .py file to grade (0: almost always a wrong path)."""
        return sum(e.chosen is not None for e in self.entries)


@dataclass(frozen=True)
class _Owner:
    student: str
    layout: str
    canvas_user: str | None = None  # tells apart two Canvas users whose names reduce alike


@dataclass(frozen=True)
class _Context:
    root: Path
    pattern: re.Pattern[str] | None
    gs_names: dict[str, str]
    course: bool  # an nbgrader course folder: submitted/ at the top


def _walk(root: Path, exclude: tuple[Path, ...] = (), skip_top: frozenset[str] = frozenset()) -> list[Path]:
    """Every plain file under ``root``, skipping editor and OS debris, ``exclude`` (a results folder kept
    inside the submissions), the top-level folders in ``skip_top`` and never following links."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        top = Path(folder) == root
        dirs[:] = sorted(d for d in dirs if _is_walked_dir(Path(folder) / d, exclude)
                         and not (top and d in skip_top))
        found.extend(Path(folder) / f for f in sorted(files) if not layouts.is_debris(f))
    return found


def _is_walked_dir(path: Path, exclude: tuple[Path, ...]) -> bool:
    return (path.name not in SKIPPED_DIRS and not path.name.startswith(".") and not path.is_symlink()
            and path.resolve() not in exclude)


def _nobodys_folders(root: Path, course: bool) -> list[str]:
    """Top-level folders that belong to nobody: nbgrader's course folders, a cnngrade results folder."""
    skipped = ["students"] if layouts.is_results_folder(root) else []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink() and child.name not in skipped and (
                (course and child.name in layouts.NBGRADER_COURSE) or layouts.is_results_folder(child)):
            skipped.append(child.name)
    return skipped


def _linked_folders(ctx: _Context) -> list[str]:
    """Top-level links to folders, in the layouts where a top-level folder is a student."""
    if ctx.pattern is not None:
        return []
    try:
        children = sorted(ctx.root.iterdir())
    except OSError:
        return []
    return [c.name for c in children if c.is_symlink() and c.is_dir() and not c.name.startswith(".")]


def _student_folders(ctx: _Context, skip_top: frozenset[str], exclude: tuple[Path, ...]) -> list[tuple[str, _Owner]]:
    """``(folder, owner)`` for each folder that stands for one student, whatever it holds."""
    if ctx.pattern is not None:
        return []
    found: list[tuple[str, _Owner]] = []
    for child in sorted(ctx.root.iterdir()):
        if not child.is_dir() or not _is_walked_dir(child, exclude) or child.name in skip_top:
            continue
        if ctx.course and child.name == layouts.NBGRADER:
            try:
                subs = sorted(child.iterdir())
            except OSError:
                continue
            found.extend((f"{child.name}/{sub.name}", _Owner(sub.name, "nbgrader")) for sub in subs
                         if sub.is_dir() and _is_walked_dir(sub, exclude))
        elif layouts.GRADESCOPE_FOLDER.match(child.name):
            found.append((child.name, _Owner(layouts.gradescope_owner(child, ctx.gs_names), "gradescope")))
        else:
            found.append((child.name, _Owner(child.name, "folder per student")))
    return found


def _owner(rel: PurePosixPath, ctx: _Context) -> _Owner | None:
    """Who the file at ``rel`` under the root belongs to, or None when it belongs to nobody (module docstring)."""
    if rel.name in layouts.EXPORT_METADATA:
        return None
    if ctx.pattern is not None:
        return _pattern_owner(rel, ctx.pattern)
    top = rel.parts[0]
    if ctx.course and top == layouts.NBGRADER:
        return _Owner(rel.parts[1], "nbgrader") if len(rel.parts) > 2 else None
    student = layouts.nbgrader_owner(rel)
    if student:
        return _Owner(student, "nbgrader")
    if len(rel.parts) > 1:
        if layouts.GRADESCOPE_FOLDER.match(top):
            return _Owner(layouts.gradescope_owner(ctx.root / top, ctx.gs_names), "gradescope")
        return _Owner(top, "folder per student")
    canvas = layouts.canvas_owner(rel.name)
    if canvas:
        return _Owner(canvas[0], "canvas", layouts.canvas_user(rel.name))
    if (ctx.course and rel.name in layouts.NBGRADER_COURSE) or layouts.CLASS_FILE.match(rel.name):
        return None
    if rel.suffix.lower() in layouts.DATA_SUFFIXES and not _is_notebook(ctx.root / rel):
        return None
    return _Owner(rel.stem, "file per student")


def _pattern_owner(rel: PurePosixPath, pattern: re.Pattern[str]) -> _Owner | None:
    student = layouts.pattern_owner(pattern, rel)
    if student:
        return _Owner(student, "pattern")
    if rel.suffix.lower() in GRADABLE or layouts.is_class_file(rel.name):
        return None
    for suffix in GRADABLE:  # the right name in the wrong format: alice-final.pdf for "-final\.ipynb$"
        try:
            student = layouts.pattern_owner(pattern, rel.with_suffix(suffix))
        except ValueError:
            continue
        if student:
            return _Owner(student, "pattern")
    return None


def _is_notebook(path: Path) -> bool:
    """A notebook saved as ``.json`` is a student's hand-in, not a data file."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(NOTEBOOK_SNIFF_BYTES)
    except OSError:
        return False
    return b'"nbformat"' in head or b'"cells"' in head


def _unwrap(root: Path) -> Path:
    """An export zip usually wraps the submissions in one folder (``class/alice/...``): look inside it, once."""
    children = [c for c in root.iterdir() if c.name not in SKIPPED_DIRS and not c.name.startswith(".")]
    if (len(children) == 1 and children[0].is_dir() and children[0].name != layouts.NBGRADER
            and not layouts.GRADESCOPE_FOLDER.match(children[0].name)):
        return children[0]
    return root


def _add_file(entry: Entry, path: Path, shown: str, staging: Path, depth: int = 0) -> None:
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
    elif suffix == ".zip" and depth > 0:
        # One level only: each archive has its own size cap, so nesting would multiply it (a nested zip bomb).
        entry.problems.append(f"{shown} is a zip inside a zip and was not unpacked; hand in the notebook itself")
    elif suffix == ".zip":
        target = Path(tempfile.mkdtemp(dir=staging))
        try:
            for member in extract(path, target):
                _add_file(entry, member, f"{shown}!{member.relative_to(target).as_posix()}", staging, depth + 1)
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
            (staging / "export").mkdir(parents=True, exist_ok=True)  # an empty archive (or all members skipped) unpacks nothing
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
    ctx = _Context(root, pattern, layouts.gradescope_names(root), layouts.is_nbgrader_course(root))
    skip_top = frozenset(_nobodys_folders(root, ctx.course))
    ignored = [f"{prefix}{name}/" for name in sorted(skip_top)]
    entries: dict[tuple[str, str | None], Entry] = {}  # (student, Canvas user id) -> their files
    owned: set[str] = set()  # folders (top level, and submitted/<student>) holding a file of someone's
    for path in _walk(root, exclude, skip_top):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        owner = _owner(rel, ctx)
        if owner is None:
            ignored.append(prefix + rel.as_posix())
            continue
        owned.update("/".join(rel.parts[:n]) for n in (1, 2) if len(rel.parts) > n)
        entry = entries.setdefault((owner.student, owner.canvas_user),
                                   Entry(student=owner.student, layout=owner.layout))
        _add_file(entry, path, prefix + rel.as_posix(), staging)
    for folder, owner in _student_folders(ctx, skip_top, exclude):
        if folder not in owned:  # an empty folder, or one holding only debris or metadata: a student with nothing
            entries.setdefault((owner.student, None), Entry(student=owner.student, layout=owner.layout))
    for link in _linked_folders(ctx):  # never followed (it may point anywhere), never lost: a row with the reason
        entry = entries.setdefault((link, None), Entry(student=link, layout="folder per student"))
        entry.problems.append(f"{prefix}{link} is a link to a folder, not a folder, and was not followed")
    grouped = _name_canvas_namesakes(entries)
    for entry in grouped:
        choose(entry, entry_point)
    return Discovery(sorted(grouped, key=lambda e: e.student), ignored)


def _name_canvas_namesakes(entries: dict[tuple[str, str | None], Entry]) -> list[Entry]:
    """Two Canvas users whose names reduce to the same ``lastfirst`` become ``lastfirst_<user id>`` each; entries
    that end up with one name (a Canvas file and a folder of the same student) are one student."""
    users: dict[str, set[str]] = {}
    for student, user in entries:
        if user is not None:
            users.setdefault(student, set()).add(user)
    named: dict[str, Entry] = {}
    for (student, user), entry in entries.items():
        if user is not None and len(users[student]) > 1:
            entry.student = f"{student}_{user}"
        if entry.student in named:
            first = named[entry.student]
            first.files += entry.files
            first.other_files += entry.other_files
            first.problems += entry.problems
        else:
            named[entry.student] = entry
    return list(named.values())


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

