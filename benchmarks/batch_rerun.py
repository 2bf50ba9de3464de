"""Rerun cost: `cnngrade grade` on a finished batch of 100 students with nothing changed.

The class: 100 students, each with their own file; the files are 4 distinct fail-fast submissions (25 copies
each) so that the first, untimed run trains only 4 times. The timed rerun still hashes every student's file,
validates every result file against the report schema and rebuilds grades.csv and summary.json.

Usage: python benchmarks/batch_rerun.py [--data PATH] [--students 100] [--out results-batch-rerun.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "fixtures" / "mnist-single-conv" / "two_convolutions.py"
SPEC = ROOT / "tests" / "specs" / "mnist-small.toml"


def _grade(folder: Path, results: Path, data: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "-o", str(results), "-e", str(SPEC),
                           "--data", data, "-j", "2", "--no-progress"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return time.perf_counter() - start, proc.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CNNGRADE_DATA", str(ROOT.parent / "shared" / "data" / "mnist.npz")))
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = SOURCE.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        folder, results = Path(tmp) / "class", Path(tmp) / "results"
        folder.mkdir()
        for i in range(args.students):
            (folder / f"student{i:03d}.py").write_text(text + f"\n# version {i % 4}\n")
        first_s, _ = _grade(folder, results, args.data)
        rerun_s, line = _grade(folder, results, args.data)
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "students": args.students, "first_run_s": round(first_s, 1), "rerun_s": round(rerun_s, 2),
              "rerun_output": line}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
