"""The sandbox's own mechanics, on plain shell commands (no TensorFlow)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from grader.isolation import Isolation, Policy
from grader.sandbox import run_child


def test_run_ends_when_the_main_process_exits_even_if_a_child_holds_the_pipes(tmp_path: Path) -> None:
    """Without a PID namespace (isolation partial), a background child keeps stdout open; the run must still end
    when the main process does, and the child must be killed."""
    policy = Policy(isolation=Isolation.PARTIAL, writable=(tmp_path,))
    started = time.monotonic()
    result = run_child(argv=["/bin/sh", "-c", "echo hi; sleep 41 & exit 0"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                       policy=policy, stdout=tmp_path / "out", stderr=tmp_path / "err", events=tmp_path / "ev",
                       timeout_s=30, cell_timeout_s=30)
    assert time.monotonic() - started < 10
    assert result.returncode == 0 and result.limit is None
    assert (tmp_path / "out").read_text() == "hi\n"
    time.sleep(0.5)
    assert "sleep 41" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
