"""Memory and process caps that really hold for TensorFlow: a cgroup per run (v2 or v1), where the host allows.

Address-space rlimits break TensorFlow (it reserves far more virtual memory than it uses) and RLIMIT_NPROC does
not bind root, so the caps come from a cgroup created for the run: ``memory.max``/``memory.limit_in_bytes`` and
``pids.max``. Where no cgroup can be created, ``Cgroup.create`` returns None and the sandbox's watchdog enforces
the memory cap by polling the run's resident memory instead.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
_counter = itertools.count()


def _own_path(controller: str) -> str | None:
    """This process's cgroup path for ``controller`` (v1), or the unified path ("" key) for v2."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


@dataclass
class Cgroup:
    """One run's cgroup(s): ``dirs`` are joined by the child; ``memory_dir`` tells whether the OOM killer struck."""

    dirs: list[Path]
    memory_dir: Path
    pids_dir: Path
    version: int

    @classmethod
    def create(cls, *, memory_bytes: int, max_pids: int) -> Cgroup | None:
        name = f"cnngrade-{os.getpid()}-{next(_counter)}"
        if (ROOT / "cgroup.controllers").exists():
            return cls._create_v2(name, memory_bytes, max_pids)
        return cls._create_v1(name, memory_bytes, max_pids)

    @classmethod
    def _create_v2(cls, name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
        own = _own_path("")
        if own is None:
            return None
        parent = ROOT / own.lstrip("/")
        group = parent / name
        try:
            group.mkdir()
        except OSError:
            return None
        if not (_write(group / "memory.max", str(memory_bytes)) and _write(group / "pids.max", str(max_pids))):
            _remove(group)
            return None
        _write(group / "memory.swap.max", "0")
        return cls([group], group, group, 2)

    @classmethod
    def _create_v1(cls, name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
        memory_own, pids_own = _own_path("memory"), _own_path("pids")
        if memory_own is None or pids_own is None:
            return None
        memory = ROOT / "memory" / memory_own.lstrip("/") / name
        pids = ROOT / "pids" / pids_own.lstrip("/") / name
        made: list[Path] = []
        try:
            for group in (memory, pids):
                group.mkdir()
                made.append(group)
        except OSError:
            for group in made:
                _remove(group)
            return None
        ok = _write(memory / "memory.limit_in_bytes", str(memory_bytes)) and _write(pids / "pids.max", str(max_pids))
        if not ok:
            for group in made:
                _remove(group)
            return None
        _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))  # no swap to escape into, if accounted
        return cls([memory, pids], memory, pids, 1)

    def join_paths(self) -> list[str]:
        """cgroup.procs files the child writes its own pid into before exec."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_killed(self) -> bool:
        events = "memory.events" if self.version == 2 else "memory.oom_control"
        for line in _read(self.memory_dir / events).splitlines():
            if line.startswith("oom_kill ") and line.split()[1] != "0":
                return True
        # v1 kernels without an oom_kill counter: hitting the limit at all means the cap held the run
        return self.version == 1 and _read(self.memory_dir / "memory.failcnt").strip() not in ("", "0")

    def pids_exhausted(self) -> bool:
        text = _read(self.pids_dir / "pids.events")
        return any(line.startswith("max ") and line.split()[1] != "0" for line in text.splitlines())

    def kill_all(self) -> None:
        """SIGKILL whatever is left in the group (v2: cgroup.kill; v1: each listed pid)."""
        for group in self.dirs:
            if _write(group / "cgroup.kill", "1"):
                continue
            for pid in _read(group / "cgroup.procs").split():
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid), 9)

    def remove(self) -> None:
        self.kill_all()
        for group in self.dirs:
            _remove(group)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _remove(group: Path) -> None:
    # rmdir fails while a process is still exiting; a few tries cover the exit's last moments.
    for _ in range(50):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
