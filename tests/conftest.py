from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "mnist-single-conv"
SOLUTIONS = ROOT / "solutions" / "mnist-single-conv"
SMALL_SPEC = ROOT / "tests" / "specs" / "mnist-small.toml"


def _data_path() -> Path | None:
    for candidate in (os.environ.get("CNNGRADE_DATA"), ROOT.parent / "shared" / "data" / "mnist.npz"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = _data_path()
    if path is None:
        pytest.fail("MNIST not found: set CNNGRADE_DATA to mnist.npz (see README)")
    return path if path.is_file() else path / "mnist.npz"


def leftovers(marker: str) -> list[str]:
    """Processes whose command line contains ``marker`` (what a finished or killed run must not leave)."""
    out = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With $CNNGRADE_ATTACK_TABLE set, record each attack test's outcome (benchmarks/attack_table.py reads it)."""
    target = os.environ.get("CNNGRADE_ATTACK_TABLE")
    if not target or "test_attacks.py" not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and report.skipped):
        import json

        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"test": report.nodeid.split("::")[-1], "outcome": report.outcome,
                                     "seconds": round(report.duration, 1)}) + "\n")
