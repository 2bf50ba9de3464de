"""Batch throughput: `cnngrade grade -j 2` on 8 small submissions vs. 8 separate `cnngrade` calls, side by side.

The 8 submissions are the reference with different layer sizes (distinct files, so nothing is deduplicated),
graded with the test spec (2000 training images, the real 0.998 threshold), so each one really trains; one of
them (32 filters, 64 units) misses a floor, which both ways of grading agree on. Prints one JSON object.

Usage: python benchmarks/batch_parallel.py [--data PATH] [--jobs 2] [--out results-batch-parallel.json]
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
REFERENCE = ROOT / "solutions" / "mnist-single-conv" / "reference_module.py"
SPEC = ROOT / "tests" / "specs" / "mnist-small.toml"
VARIANTS = [(32, 128), (48, 128), (64, 128), (32, 64), (64, 64), (40, 96), (56, 96), (64, 256)]


def make_class(folder: Path) -> list[Path]:
    text = REFERENCE.read_text()
    files = []
    for i, (filters, dense) in enumerate(VARIANTS):
        body = text.replace("Conv2D(64,", f"Conv2D({filters},").replace("Dense(128,", f"Dense({dense},")
        path = folder / f"student{i}.py"
        path.write_text(body)
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CNNGRADE_DATA", str(ROOT.parent / "shared" / "data" / "mnist.npz")))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        files = make_class(folder)
        start = time.perf_counter()
        separate = []
        for path in files:
            one = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "grader", str(path), "-e", str(SPEC), "--data", args.data,
                                   "--quiet", "--json"], capture_output=True, text=True)
            separate.append({"s": round(time.perf_counter() - one, 1), "exit": proc.returncode,
                             "status": json.loads(proc.stdout)["extra_data"]["status"] if proc.stdout else None})
        separate_s = time.perf_counter() - start
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "-o", str(Path(tmp) / "results"),
                               "-e", str(SPEC), "--data", args.data, "-j", str(args.jobs), "--no-progress"],
                              capture_output=True, text=True)
        batch_s = time.perf_counter() - start
        summary = json.loads((Path(tmp) / "results" / "summary.json").read_text())
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "submissions": len(files), "jobs": args.jobs,
        "separate_calls_s": round(separate_s, 1), "separate": separate,
        "batch_s": round(batch_s, 1), "batch_exit": proc.returncode, "batch_status": summary["status"],
        "ratio_batch_to_separate": round(batch_s / separate_s, 3),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
