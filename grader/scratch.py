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
        shutil.rmtree(folder, ignore_errors=True)
        lock_path.unlink(missing_ok=True)
        os.close(fd)


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
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return removed
