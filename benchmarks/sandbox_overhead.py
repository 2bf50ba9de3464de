"""Overhead of the sandbox: grade the reference solution with full isolation and with --no-sandbox, side by side.

Usage: python benchmarks/sandbox_overhead.py [--data PATH] [--rounds N] [--exercise ID|PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "mnist-single-conv" / "reference_module.py"


def _grade(extra: list[str], data: str, exercise: str) -> tuple[float, dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", str(REFERENCE), "--data", data, "-e", exercise, "--quiet",
                        "-o", str(out), *extra], capture_output=True, cwd=ROOT)
        wall = time.perf_counter() - start
        return wall, json.loads(out.read_text())["extra_data"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CNNGRADE_DATA", str(ROOT.parent / "shared" / "data" / "mnist.npz")))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--exercise", default="mnist-single-conv")
    args = parser.parse_args()
    sandboxed, bare, isolation, epochs = [], [], None, []
    for _ in range(args.rounds):
        wall, details = _grade([], args.data, args.exercise)
        sandboxed.append(wall)
        isolation = details["isolation"]
        epochs.append(details["epochs_run"])
        wall, details = _grade(["--no-sandbox"], args.data, args.exercise)
        bare.append(wall)
        epochs.append(details["epochs_run"])
    print(json.dumps({"isolation": isolation, "sandboxed_s": [round(w, 1) for w in sandboxed],
                      "no_sandbox_s": [round(w, 1) for w in bare], "epochs": epochs,
                      "ratio_median": round(statistics.median(sandboxed) / statistics.median(bare), 3)}, indent=2))


if __name__ == "__main__":
    main()
