"""Run a command as an isolated child: its own session, clean environment, rlimits, wall-clock limits.

The child's output goes to files (never into the grader's memory); progress events are read from a file the
child appends to, which also tells which cell was running when a limit struck.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import SandboxError

MAX_EVENT_LINE = 65_536
FILE_SIZE_LIMIT = 1 << 30  # RLIMIT_FSIZE: caps output floods and disk fills by the student
POLL_S = 0.2
PASS_THROUGH = ("PATH", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CUDA_VISIBLE_DEVICES",
                "NVIDIA_VISIBLE_DEVICES", "XLA_FLAGS", "SYSTEMROOT")


@dataclass
class ChildResult:
    returncode: int | None
    wall_s: float
    timed_out: bool = False
    limit: str | None = None  # which limit struck: "timeout" or "cell timeout"
    limit_s: float | None = None
    last_cell: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


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


def _limit_child() -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class _EventReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(1 << 20)
        except OSError:
            return []
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


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(*, argv: list[str], cwd: Path, env: Mapping[str, str], stdout: Path, stderr: Path,
              events: Path, timeout_s: float, cell_timeout_s: float,
              on_event: Callable[[dict[str, Any]], None] | None = None) -> ChildResult:
    """Run ``argv`` to completion or to a limit; every process of its session is killed at the end."""
    start = time.monotonic()
    reader = _EventReader(events)
    result = ChildResult(returncode=None, wall_s=0.0)
    cell_started = start
    try:
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, preexec_fn=_limit_child, close_fds=True)
    except OSError as exc:
        raise SandboxError(f"cannot start the isolated run ({argv[0]}): {exc}") from exc
    try:
        while proc.poll() is None:
            time.sleep(POLL_S)
            for event in reader.read():
                if event.get("type") == "cell":
                    cell_started = time.monotonic()
                    result.last_cell = event.get("cell") if isinstance(event.get("cell"), int) else None
                if len(result.events) < 10_000:
                    result.events.append(event)
                if on_event:
                    on_event(event)
            now = time.monotonic()
            if now - start > timeout_s or now - cell_started > cell_timeout_s:
                result.timed_out = True
                result.limit = "timeout" if now - start > timeout_s else "cell timeout"
                result.limit_s = timeout_s if result.limit == "timeout" else cell_timeout_s
                _kill_group(proc)
                proc.wait()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    _kill_group(proc)  # leftovers the child started in its session
    for event in reader.read():
        result.events.append(event)
        if on_event:
            on_event(event)
    result.returncode = proc.returncode
    result.wall_s = time.monotonic() - start
    return result


def python_argv(module: str, *args: str) -> list[str]:
    """``python -I -m module``: isolated mode ignores PYTHON* variables, user site and the working folder,
    so a ``numpy.py`` or ``sitecustomize.py`` beside the submission cannot shadow a real module."""
    return [sys.executable, "-I", "-m", module, *args]
