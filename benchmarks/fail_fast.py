"""Time to a verdict for an architecture violation on full MNIST with the shipped exercise spec.

Usage: python benchmarks/fail_fast.py [--data PATH] [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSION = ROOT / "tests" / "fixtures" / "mnist-single-conv" / "two_convolutions.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CNNGRADE_DATA", str(ROOT.parent / "shared" / "data" / "mnist.npz")))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    walls = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", str(SUBMISSION), "--data", args.data, "--quiet", "--json"],
                              capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        report = json.loads(proc.stdout)
        arch = next(t for t in report["tests"] if t["extra_data"]["check"] == "architecture")
        assert proc.returncode == 1 and arch["status"] == "failed", proc.stderr[-2000:]
    print(json.dumps({"verdict_s": [round(w, 1) for w in walls], "median_s": round(statistics.median(walls), 1),
                      "epochs_trained": report["extra_data"]["epochs_run"]}, indent=2))


if __name__ == "__main__":
    main()
