"""Scratch folders in the system temp folder, and the removal of those a killed run left behind.

Each folder ``cnngrade-...`` has a sibling lock file ``cnngrade-....lock`` that its owner holds with ``flock`` for
as long as it lives, outside the folder (the sandboxed run can write into the folder, never beside it). A run
that finds a lock nobody holds knows its owner is gone (SIGKILL, a power cut) and removes the folder: student
code and trained models do not pile up in /tmp.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "cnngrade-"
LOCK = ".lock"


@contextmanager
def scratch_dir(kind: str = "") -> Iterator[Path]:
    """A fresh folder ``cnngrade-<kind>...``, held locked while in use and removed on the way out."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX + kind))
    lock_path = folder.with_name(folder.name + LOCK)
    fd = _locked(lock_path)
    folder.mkdir(mode=0o700, exist_ok=True)  # a sweep that won the race to the new lock removed the empty folder
    try:
        yield folder
    finally:
        _remove(folder)
        if not folder.exists():  # a folder that survived keeps its lock file, so a later sweep retries it
            lock_path.unlink(missing_ok=True)
        os.close(fd)


def _remove(folder: Path) -> None:
    """Remove ``folder`` even where the run took the write bit off its own subfolders (when not root)."""

    def retry(function: object, path: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass

    shutil.rmtree(folder, onerror=retry)


def _locked(lock_path: Path) -> int:
    """Create and lock ``lock_path``. A sweep may remove a lock file between its creation and the lock (it saw an
    unheld lock): the lock then belongs to a file no longer there, so lock a fresh one."""
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_ino == os.stat(lock_path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def sweep(root: Path | None = None) -> list[Path]:
    """Remove scratch folders whose owner is gone; returns what was removed. Never raises."""
    removed: list[Path] = []
    base = Path(root or tempfile.gettempdir())
    try:
        locks = list(base.glob(PREFIX + "*" + LOCK))
    except OSError:
        return removed
    for lock_path in locks:
        folder = lock_path.with_name(lock_path.name[: -len(LOCK)])
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(lock_path).st_ino:
                raise OSError("replaced")  # a new owner made a fresh lock file meanwhile
        except OSError:
            os.close(fd)
            continue  # held: its owner is alive
        try:
            if folder.is_dir() and not folder.is_symlink():
                _remove(folder)
                removed.append(folder)
            if not folder.exists():
                lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return removed
