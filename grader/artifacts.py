"""Collect what the run left behind, treating every file as hostile: regular files only, opened without
following links, size-capped, parsed into strict models."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import ValidationError

from grader.protocol import RunRecord

MAX_RECORD_BYTES = 32 * 1024 * 1024


def read_capped(path: Path, limit: int) -> bytes:
    """Read a regular file without following a final symlink; refuse FIFOs, devices and oversized files."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise OSError(f"{path.name} is {info.st_size} bytes (limit {limit})")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def read_record(scratch: Path) -> tuple[RunRecord | None, str | None]:
    try:
        data = read_capped(scratch / "record.json", MAX_RECORD_BYTES)
    except FileNotFoundError:
        return None, "the run left no record"
    except OSError as exc:
        return None, f"the run's record is unusable: {exc}"
    try:
        return RunRecord.model_validate_json(data), None
    except ValidationError as exc:
        return None, f"the run's record is malformed ({exc.error_count()} problems)"


def fit_folder(scratch: Path, index: int) -> Path | None:
    """The export folder of fit ``index``, only if it is a real folder inside the scratch area."""
    folder = scratch / "artifacts" / f"fit{index}"
    try:
        resolved = folder.resolve(strict=True)
    except OSError:
        return None
    if folder.is_symlink() or not resolved.is_dir() or scratch.resolve() not in resolved.parents:
        return None
    return folder


def tail(path: Path, limit: int = 4000) -> str:
    """The last ``limit`` bytes of a log, decoded leniently."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return ""
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - limit))
        return handle.read(limit).decode("utf-8", errors="replace")


MAX_MODEL_BYTES = 512 * 1024 * 1024  # a 1-conv MNIST model exports in a few MB; a huge Dense is refused


def check_model_folder(folder: Path, *, max_bytes: int = MAX_MODEL_BYTES, max_files: int = 200) -> str | None:
    """Why the exported model must not be loaded (links, special files, too big, too many files), or None."""
    total, count = 0, 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            info = path.lstat()
            count += 1
            if stat.S_ISLNK(info.st_mode):
                return f"the exported model contains a link ({path.relative_to(folder)})"
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                return f"the exported model contains a special file ({path.relative_to(folder)})"
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
        if total > max_bytes or count > max_files:
            return f"the exported model is {total} bytes in {count} files (limit {max_bytes} bytes, {max_files} files)"
    return None
