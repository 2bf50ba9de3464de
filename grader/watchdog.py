"""Resident memory of a process tree, read from /proc: the memory cap where no cgroup can be made."""
from __future__ import annotations

import os

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(stat[1]), []).append(int(entry))
    return tree


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and all its descendants (0 when it is gone)."""
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(tree.get(pid, []))
    return total


def tree_size(root: str, *, max_entries: int = 50_000) -> int:
    """Bytes of regular files under ``root``, counting at most ``max_entries`` entries (a flood of tiny files
    stops the count early and is reported as over any limit)."""
    total, seen, stack = 0, 0, [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > max_entries:
                return 1 << 62
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total
