"""Run a command as an isolated child under a ``Policy``: namespaces (bubblewrap) or a fallback, cgroup caps,
wall-clock limits, output through size-capped pipes, and everything the child started killed at the end.

Progress events are read from a file the child appends to; they also tell which cell was running when a limit
struck. Nothing the child prints is held whole in the grader's memory.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from grader.errors import SandboxError
from grader.isolation import NOBODY, Isolation, Policy, bwrap_argv, nobody_can_run_python
from grader.limits import Cgroup
from grader.watchdog import tree_rss, tree_size

MAX_EVENT_LINE = 65_536
FILE_SIZE_LIMIT = 256 << 20  # RLIMIT_FSIZE: no single file the student writes grows past this
POLL_S = 0.2
PASS_THROUGH = ("PATH", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CUDA_VISIBLE_DEVICES",
                "NVIDIA_VISIBLE_DEVICES", "XLA_FLAGS", "SYSTEMROOT")


@dataclass
class ChildResult:
    returncode: int | None
    wall_s: float
    limit: str | None = None  # which limit struck: "timeout", "cell timeout", "memory", "processes", "disk",
    # or "cancelled" when the grader itself stopped it (a batch interrupted with Ctrl-C)
    limit_s: float | None = None
    last_cell: int | None = None
    output_truncated: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def timed_out(self) -> bool:
        return self.limit in ("timeout", "cell timeout")


def clean_env(scratch: Path, *, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: the child's HOME, caches and temp live in its scratch folder."""
    env = {k: os.environ[k] for k in PASS_THROUGH if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    for name, sub in (("HOME", "home"), ("TMPDIR", "tmp"), ("KERAS_HOME", "home/.keras"),
                      ("IPYTHONDIR", "home/.ipython"), ("MPLCONFIGDIR", "home/.matplotlib")):
        folder = scratch / sub
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env.update({"MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    env.update(extra or {})
    return env


PR_SET_PDEATHSIG = 1
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
except OSError:
    _LIBC = None


def _preexec(join: list[str], drop_to_nobody: bool) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for procs in join:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
        if drop_to_nobody:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        # If the grader is killed (kill -9 on a batch), take the run with it; set after the uid change, which
        # clears it. bubblewrap's --die-with-parent does the same under full isolation.
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return setup


class _EventReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return []
        with os.fdopen(fd, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read(1 << 20)
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()[-MAX_EVENT_LINE:]
        events = []
        for line in lines:
            try:
                event = json.loads(line[:MAX_EVENT_LINE])
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
        return events


class _CappedSink:
    """Drains a pipe into a file, keeping at most ``cap`` bytes; the rest is read and dropped."""

    def __init__(self, path: Path, cap: int) -> None:
        self.file: IO[bytes] = open(path, "wb")
        self.left = cap
        self.truncated = False

    def feed(self, data: bytes) -> None:
        if self.left > 0:
            self.file.write(data[: self.left])
            self.left -= min(len(data), self.left)
            if self.left == 0:
                self.file.write(b"\n[cnngrade: output truncated here]\n")
        elif data:
            self.truncated = True

    def close(self) -> None:
        self.file.close()


def _kill(proc: subprocess.Popen[bytes], cgroup: Cgroup | None) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if cgroup is not None:
        cgroup.kill_all()


def _start(argv: list[str], cwd: Path, env: Mapping[str, str], policy: Policy, cgroup: Cgroup | None
           ) -> subprocess.Popen[bytes]:
    if policy.isolation is Isolation.FULL:
        argv = bwrap_argv(argv, policy=policy, cwd=cwd)
    drop = policy.isolation is Isolation.PARTIAL and os.geteuid() == 0 and nobody_can_run_python()
    if drop:
        for path in policy.writable:
            for root, dirs, files in os.walk(path):
                for name in (root, *(os.path.join(root, n) for n in dirs + files)):
                    os.lchown(name, NOBODY, NOBODY)
    try:
        return subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, close_fds=True,
                                preexec_fn=_preexec(cgroup.join_paths() if cgroup else [], drop))
    except OSError as exc:
        raise SandboxError(f"cannot start the isolated run ({argv[0]}): {exc}") from exc


def run_child(*, argv: list[str], cwd: Path, env: Mapping[str, str], policy: Policy, stdout: Path, stderr: Path,
              events: Path, timeout_s: float, cell_timeout_s: float,
              on_event: Callable[[dict[str, Any]], None] | None = None,
              cancel: threading.Event | None = None) -> ChildResult:
    """Run ``argv`` to completion, to a limit or until ``cancel`` is set; every process it started is dead when
    this returns."""
    start = time.monotonic()
    reader = _EventReader(events)
    result = ChildResult(returncode=None, wall_s=0.0)
    cgroup = None if policy.isolation is Isolation.NONE else Cgroup.create(
        memory_bytes=policy.memory_bytes, max_pids=policy.max_pids)
    sinks = {"out": _CappedSink(stdout, policy.output_bytes), "err": _CappedSink(stderr, policy.output_bytes)}
    proc = _start(argv, cwd, env, policy, cgroup)
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, sinks["out"])  # type: ignore[arg-type]
    selector.register(proc.stderr, selectors.EVENT_READ, sinks["err"])  # type: ignore[arg-type]
    cell_started, last_check, last_disk = start, 0.0, 0.0

    def deliver(batch: list[dict[str, Any]]) -> None:
        nonlocal cell_started
        for event in batch:
            if event.get("type") == "cell":
                cell_started = time.monotonic()
                result.last_cell = event.get("cell") if isinstance(event.get("cell"), int) else None
            if len(result.events) < 10_000:
                result.events.append(event)
            if on_event:
                on_event(event)

    def stop(limit: str, limit_s: float | None = None) -> None:
        result.limit, result.limit_s = limit, limit_s
        _kill(proc, cgroup)

    def pump(timeout: float) -> bool:
        """Move whatever the pipes hold into the sinks; False when nothing was ready."""
        ready = selector.select(timeout)
        for key, _ in ready:
            data = os.read(key.fd, 65536)
            if data:
                key.data.feed(data)
            else:
                selector.unregister(key.fileobj)
        return bool(ready)

    try:
        while selector.get_map():
            pump(POLL_S)
            if proc.poll() is not None:
                # The main process is gone. A child it left behind may still hold the pipes open (no PID
                # namespace in partial isolation): take what is buffered, then stop waiting for them.
                for _ in range(256):
                    if not selector.get_map() or not pump(0):
                        break
                break
            now = time.monotonic()
            if now - last_check < POLL_S or result.limit:
                continue
            last_check = now
            deliver(reader.read())
            if cancel is not None and cancel.is_set():
                stop("cancelled")
            elif now - start > timeout_s:
                stop("timeout", timeout_s)
            elif now - cell_started > cell_timeout_s:
                stop("cell timeout", cell_timeout_s)
            elif cgroup is None and policy.isolation is not Isolation.NONE and tree_rss(proc.pid) > policy.memory_bytes:
                stop("memory")
            elif policy.writable and now - last_disk > 1.0:
                last_disk = now
                if sum(tree_size(str(p)) for p in policy.writable) > policy.disk_bytes:
                    stop("disk")
        proc.wait()
    finally:
        _kill(proc, cgroup)  # leftovers: daemons, grandchildren (a PID namespace already took them under bwrap)
        proc.wait()
        for sink in sinks.values():
            sink.close()
        selector.close()
    deliver(reader.read())
    if cgroup is not None:
        if result.limit is None and proc.returncode != 0 and cgroup.oom_killed():
            result.limit = "memory"
        elif result.limit is None and proc.returncode != 0 and cgroup.pids_exhausted():
            result.limit = "processes"
        cgroup.remove()
    result.returncode = proc.returncode
    result.output_truncated = any(s.truncated for s in sinks.values())
    result.wall_s = time.monotonic() - start
    return result


def python_argv(module: str, *args: str) -> list[str]:
    """``python -I -m module``: isolated mode ignores PYTHON* variables, user site and the working folder,
    so a ``numpy.py`` or ``sitecustomize.py`` beside the submission cannot shadow a real module."""
    return [sys.executable, "-I", "-m", module, *args]
