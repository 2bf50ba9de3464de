"""Find an exercise by id or path and load its spec.

``--exercise ID|PATH`` is resolved in this order (README, *Which exercise*; ``cnngrade exercises --help``):

1. an explicit spec path: an existing ``exercise.toml`` (any file name) or a folder holding one;
2. ``$CNNGRADE_EXERCISES``: folders (separated by ``os.pathsep``) that hold ``<id>/exercise.toml``;
3. the solutions repository the command runs in: the nearest folder, from the current folder upwards, with an
   ``exercises/<id>/exercise.toml`` in it (its ``exercises/`` folder is searched);
4. the exercises built into the installed package (in a wheel: ``grader/builtin_exercises/``, built from the
   repository's ``exercises/``; in a source checkout or an editable install: that ``exercises/`` folder itself).

The first source holding the id wins. Nothing else is searched: in particular the grader's own source checkout is
never a solutions repository unless the command runs inside it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader import __version__
from grader.errors import SpecError
from grader.spec import ExerciseSpec, load_spec

DEFAULT_EXERCISE = "mnist-single-conv"
SPEC_FILE = "exercise.toml"
ENV_VAR = "CNNGRADE_EXERCISES"
BUILTIN_PACKAGE_DIR = "builtin_exercises"  # inside the installed grader package (see pyproject.toml)

LOOKUP_ORDER = (f"an explicit spec path (an existing {SPEC_FILE} or a folder holding one); "
                f"${ENV_VAR} (folders holding <id>/{SPEC_FILE}, separated by '{os.pathsep}'); "
                f"the solutions repository the command runs in (the nearest folder, from the current folder "
                f"upwards, with exercises/<id>/{SPEC_FILE}); the exercises built into the installed package")

Kind = Literal["path", "env", "repository", "builtin"]


@dataclass(frozen=True)
class Source:
    """Where exercises come from: ``root`` holds ``<id>/exercise.toml`` folders."""

    kind: Kind
    root: Path

    def describe(self) -> str:
        if self.kind == "path":
            return f"spec path {self.root}"
        if self.kind == "env":
            return f"${ENV_VAR} folder {self.root}"
        if self.kind == "repository":
            return f"solutions repository {self.root.parent}"
        checkout = "" if self.root.is_relative_to(_package_dir()) else ", source checkout"
        return f"built into cnngrade {__version__}{checkout}: {self.root}"


@dataclass(frozen=True)
class Located:
    """An exercise as the lookup found it: its spec (None when invalid), its folder and its source."""

    id: str
    folder: Path
    source: Source
    spec: ExerciseSpec | None
    problem: str | None = None


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def _is_file(path: Path) -> bool:
    """``path.is_file()`` that answers False instead of raising for names the OS refuses (too long, NUL...)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _cwd() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the current folder was deleted
        return None


def builtin_root() -> Path | None:
    """The exercises built into the installed package, or None when this install carries none.

    A wheel carries them in ``grader/builtin_exercises/``; a source checkout (and an editable install of it) reads
    the repository's ``exercises/`` folder, which is what a wheel built from it would carry.
    """
    packaged = _package_dir() / BUILTIN_PACKAGE_DIR
    if _is_dir(packaged):
        return packaged
    checkout = _package_dir().parent
    if _is_file(checkout / "pyproject.toml") and _is_dir(checkout / "exercises"):
        return checkout / "exercises"
    return None


def _has_exercise(folder: Path) -> bool:
    try:
        return any(_is_file(child / SPEC_FILE) for child in folder.iterdir())
    except OSError:
        return False


def solutions_repository(start: Path | None = None) -> Path | None:
    """The solutions repository a command runs in: the nearest folder, from ``start`` (default: the current
    folder) upwards, whose ``exercises/`` holds at least one ``<id>/exercise.toml``. None outside any."""
    here = start if start is not None else _cwd()
    if here is None:
        return None
    here = here.absolute()
    for folder in (here, *here.parents):
        if _has_exercise(folder / "exercises"):
            return folder
    return None


def env_roots() -> list[Path]:
    return [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]


def sources(*, repo: Path | None = None) -> list[Source]:
    """The searched sources after an explicit path, in lookup order. ``repo`` replaces the solutions repository
    found from the current folder (``cnngrade exercises REPO``)."""
    found = [Source("env", root) for root in env_roots()]
    repository = repo if repo is not None else solutions_repository()
    if repository is not None:
        found.append(Source("repository", repository / "exercises"))
    builtin = builtin_root()
    if builtin is not None:
        found.append(Source("builtin", builtin))
    # One folder once, under its first name (in cnngrade's own checkout the solutions repository's exercises/ is
    # also what the package has built in).
    unique: dict[Path, Source] = {}
    for source in found:
        unique.setdefault(source.root.resolve(), source)
    return list(unique.values())


def _load(folder: Path, source: Source) -> Located:
    try:
        spec = load_spec(folder / SPEC_FILE)
    except SpecError as exc:
        return Located(folder.name, folder, source, None, str(exc))
    return Located(spec.id, folder, source, spec)


def exercises_in(source: Source) -> Iterator[Located]:
    """Every ``<id>/exercise.toml`` under ``source.root``, sorted by folder name."""
    try:
        folders = sorted(p for p in source.root.iterdir() if not p.name.startswith("."))
    except OSError:
        return
    for folder in folders:
        if _is_file(folder / SPEC_FILE):
            yield _load(folder, source)


def available(*, repo: Path | None = None) -> list[tuple[Located, Located | None]]:
    """Every exercise the lookup can find, in lookup order, each with the one that shadows it (the one an
    ``--exercise ID`` gets) or None when it is that one."""
    winners: dict[str, Located] = {}
    listed = []
    for source in sources(repo=repo):
        for found in exercises_in(source):
            key = found.folder.name  # lookup is by folder name, as --exercise ID is
            listed.append((found, winners.get(key)))
            winners.setdefault(key, found)
    return listed


def _looks_like_path(ref: str) -> bool:
    return os.sep in ref or "/" in ref or ref.endswith(".toml") or ref in (".", "..")


def locate_exercise(ref: str | os.PathLike[str] | None = None) -> Located:
    """Resolve ``ref`` (an id, a folder holding exercise.toml, or a .toml file; default mnist-single-conv) in the
    lookup order above. Raises ``SpecError`` (exit 2) naming every place searched."""
    ref = DEFAULT_EXERCISE if ref is None else ref
    text = os.fspath(ref)
    path = Path(text)
    if _is_file(path) and path.suffix == ".toml":  # a stray file named like an id is not a spec
        spec = load_spec(path)
        return Located(spec.id, path.parent, Source("path", path.parent), spec)
    if _is_file(path / SPEC_FILE):
        located = _load(path, Source("path", path))
        if located.spec is None:  # an explicit path: its problem is the answer, not a search elsewhere
            raise SpecError(located.problem or f"{path / SPEC_FILE}: invalid exercise spec")
        return located
    if _looks_like_path(text):
        raise SpecError(f"{text}: no exercise spec there (expected an {SPEC_FILE} file or a folder holding one)")
    searched = sources()
    for source in searched:
        candidate = source.root / text
        if _is_file(candidate / SPEC_FILE):
            spec = load_spec(candidate / SPEC_FILE)
            return Located(spec.id, candidate, source, spec)
    where = "; ".join(s.describe() for s in searched) or "no exercise source at all"
    raise SpecError(f"no exercise {text!r}: not a spec file or folder, and not an exercise id in any source "
                    f"searched ({where}); `cnngrade exercises` lists what there is")


def find_exercise(ref: str | os.PathLike[str] | None = None) -> tuple[ExerciseSpec, Path]:
    """``locate_exercise`` for callers that need only the spec and its folder."""
    located = locate_exercise(ref)
    assert located.spec is not None  # locate_exercise raises for an invalid spec
    return located.spec, located.folder
