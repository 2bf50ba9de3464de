"""Which isolation a run gets, and the bubblewrap command line that provides it.

``full``: bubblewrap with every namespace unshared (no network, own PID space so nothing outlives the run), the
system read-only, the grader's checkout, the submission's folder, the results folder and $HOME hidden, the run as
uid 65534 with all capabilities dropped, plus a cgroup for memory and processes.
``partial``: no user namespaces on this host (e.g. AppArmor, unprivileged containers): a separate session, an
unprivileged uid when the grader is root, rlimits, cgroup or watchdog caps; the report says so.
``none``: ``--no-sandbox``, for debugging only.
"""
from __future__ import annotations

import functools
import shutil
import stat
import site
import subprocess
import tempfile
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import grader

NOBODY = 65534


class Isolation(str, Enum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


@dataclass(frozen=True)
class Policy:
    """What one sandboxed child may see and use."""

    isolation: Isolation
    writable: tuple[Path, ...] = ()
    readonly: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    memory_bytes: int = 8 << 30
    max_pids: int = 256
    disk_bytes: int = 1 << 30
    output_bytes: int = 2_000_000


@functools.lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when bubblewrap can build the full sandbox here (probed once: the host may forbid user namespaces)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    probe = [exe, "--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY), "--cap-drop", "ALL",
             "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def choose(*, sandbox: bool) -> Isolation:
    if not sandbox:
        return Isolation.NONE
    return Isolation.FULL if bwrap_works() else Isolation.PARTIAL


def runtime_paths() -> tuple[Path, ...]:
    """What the child needs to read even when hidden folders contain it: Python, packages, the grader."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent,
             Path(grader.__file__).resolve().parent}
    paths.update(Path(p) for p in site.getsitepackages())
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        paths.add(Path(site.getusersitepackages()))
    return tuple(sorted(p for p in paths if p.exists()))


@functools.lru_cache(maxsize=1)
def nobody_can_run_python() -> bool:
    """Whether an unprivileged uid can reach this Python (a pyenv under /root usually cannot)."""
    for path in (Path(sys.executable).resolve(), *runtime_paths()):
        for folder in [path, *path.parents] if path.is_dir() else list(path.parents):
            try:
                if not folder.stat().st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                return False
    return True


def default_hidden(extra: Iterable[Path] = ()) -> tuple[Path, ...]:
    """Folders a submission must not read: the grader's checkout (solutions, exercises, tests), $HOME, the
    current folder, the temp folder (where other runs keep their scratch, when $TMPDIR is not /tmp) and whatever
    the caller adds (the submission's folder, the results folder). The run's own scratch is bound back on top."""
    candidates = [Path(grader.__file__).resolve().parent.parent, Path.home(), Path.cwd(), Path(tempfile.gettempdir()),
                  *extra]
    return tuple(sorted({p.resolve() for p in candidates if p.exists() and p.resolve() != Path("/")}))


def gpu_devices() -> list[str]:
    """NVIDIA device nodes of this host (none on a CPU-only machine)."""
    return sorted(str(p) for p in Path("/dev").glob("nvidia*") if p.exists())


def _depth(path: Path) -> int:
    return len(path.parts)


def bwrap_argv(argv: list[str], *, policy: Policy, cwd: Path) -> list[str]:
    """The bubblewrap command that runs ``argv`` under ``policy``."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--cap-drop", "ALL", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--tmpfs", "/dev/shm", "--tmpfs", "/run", "--tmpfs", "/var/tmp"]
    for device in gpu_devices():  # --dev gives a minimal /dev: pass the GPU's nodes through so CUDA sees it
        args += ["--dev-bind", device, device]
    for path in sorted(policy.hidden, key=_depth):
        args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    exposed = [(p, "--ro-bind") for p in (*runtime_paths(), *policy.readonly)] + [(p, "--bind") for p in policy.writable]
    for path, how in sorted(exposed, key=lambda item: _depth(item[0])):
        args += [how, str(path), str(path)]
    return [*args, "--chdir", str(cwd), "--", *argv]
