"""Grading overhead: `cnngrade` on the reference solution vs. the same training as a plain script.

Both run on full MNIST with the same seed, one after the other, ROUNDS times (alternating, so that drift on the
machine hits both alike). Prints one JSON object with the wall times, the epochs each run trained and the ratio.

Usage: python benchmarks/overhead.py [--data PATH] [--rounds N] [--seed S]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "mnist-single-conv" / "reference_module.py"


def _timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CNNGRADE_DATA", str(ROOT.parent / "shared" / "data" / "mnist.npz")))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    data = Path(args.data)
    data = data / "mnist.npz" if data.is_dir() else data
    plain, graded, plain_epochs, graded_epochs = [], [], [], []
    for _ in range(args.rounds):
        wall, out = _timed([sys.executable, str(ROOT / "benchmarks" / "plain_reference.py"), str(data), str(args.seed)])
        plain.append(wall)
        plain_epochs.append(int(re.search(r"epochs=(\d+)", out).group(1)))  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as tmp:
            report_path = Path(tmp) / "r.json"
            wall, _ = _timed([sys.executable, "-m", "grader", str(REFERENCE), "--data", str(data), "--seed",
                              str(args.seed), "--quiet", "-o", str(report_path)])
            report = json.loads(report_path.read_text())
        graded.append(wall)
        graded_epochs.append(report["extra_data"]["epochs_run"])
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "device": report["extra_data"]["device"],
        "plain_s": [round(x, 1) for x in plain], "graded_s": [round(x, 1) for x in graded],
        "plain_epochs": plain_epochs, "graded_epochs": graded_epochs,
        "graded_timings": report["extra_data"]["timings"],
        "ratio_median": round(statistics.median(graded) / statistics.median(plain), 3),
        "ratio_per_epoch": round((statistics.median(graded) / statistics.median(graded_epochs))
                                 / (statistics.median(plain) / statistics.median(plain_epochs)), 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
