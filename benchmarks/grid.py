"""Grade the whole grid of correct-solution variants (tests/grid.py) on the small spec; every one must pass.

Prints a pass/fail table per variant, then how often each check failed and the pass rate of each axis value (which
points at the feature the grader mishandles), and writes benchmarks/results-grid.json (rewritten after every
variant, so an interrupted run keeps what it graded). Exits 1 when any variant fails a check.

The whole grid is 432 variants at about 25 s each on 2 cores (about 3 hours); --sample N grades the covering sample
CI grades (tests/test_grid.py), --only SLUG... the named variants.

Usage: python benchmarks/grid.py [--sample N] [--seed S] [--only SLUG ...] [--jobs J] [--data PATH] [--out FILE]
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "specs" / "mnist-small.toml"
CHECKS = ("ran", "architecture", "budget", "stopped", "message", "train_accuracy", "test_accuracy")


def _load_grid():
    # Loaded by path: `import grid` would find this script itself (benchmarks/ is first on sys.path).
    spec = importlib.util.spec_from_file_location("cnngrade_test_grid", ROOT / "tests" / "grid.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building Variant
    spec.loader.exec_module(module)
    return module


grid = _load_grid()


def grade_one(variant, folder: Path, data: str, seed: int | None, threads: int | None) -> dict:
    from grader.api import grade

    path = folder / f"{variant.slug.replace('-', '_')}.py"
    path.write_text(grid.source(variant), encoding="utf-8")
    start = time.perf_counter()
    kwargs = {"seed": seed} if seed is not None else {}
    try:
        report = grade(submission=path, exercise=SPEC, data=data, threads=threads, **kwargs)
    except Exception as exc:  # the grader could not grade at all: a failure of its own
        return {"variant": variant.slug, "axes": asdict(variant), "passed": False, "error": f"{type(exc).__name__}: {exc}",
                "failed": {}, "seconds": round(time.perf_counter() - start, 1)}
    status = {t.extra_data.check: t for t in report.tests}
    failed = {c: status[c].output for c in CHECKS if c in status and status[c].status != "passed"}
    failed.update({c: "(check missing from the report)" for c in CHECKS if c not in status})
    d = report.extra_data
    return {"variant": variant.slug, "axes": asdict(variant), "passed": not failed, "failed": failed,
            "epochs_run": d.epochs_run, "stop_epoch": d.stop_epoch, "stopped_by": d.stopped_by,
            "train_accuracy": d.train_accuracy, "test_accuracy": d.test_accuracy, "preprocessing": d.preprocessing,
            "errors": [str(e) for e in d.errors], "seconds": round(time.perf_counter() - start, 1)}


def summarize(results: list[dict]) -> dict:
    per_check = collections.Counter(c for r in results for c in r["failed"])
    per_value: dict[str, dict[str, list[int]]] = {}
    for r in results:
        for axis, value in r["axes"].items():
            counts = per_value.setdefault(axis, {}).setdefault(value, [0, 0])
            counts[0 if r["passed"] else 1] += 1
    return {"graded": len(results), "passed": sum(r["passed"] for r in results),
            "failed": sum(not r["passed"] for r in results), "failures_per_check": dict(per_check),
            "per_axis_value": {axis: {v: {"passed": p, "failed": f} for v, (p, f) in values.items()}
                               for axis, values in per_value.items()}}


def print_tables(results: list[dict], summary: dict) -> None:
    width = max((len(r["variant"]) for r in results), default=10)
    print(f"\n{'variant':<{width}}  result  failed checks")
    for r in sorted(results, key=lambda r: r["variant"]):
        what = ", ".join(r["failed"]) if r["failed"] else (r.get("error") or "")
        print(f"{r['variant']:<{width}}  {'pass' if r['passed'] else 'FAIL':<6}  {what}")
    print("\ncheck            failures  first output")
    for check in CHECKS:
        n = summary["failures_per_check"].get(check, 0)
        first = next((r["failed"][check] for r in results if check in r["failed"]), "")
        print(f"{check:<16} {n:>8}  {first.splitlines()[0][:100] if first else ''}")
    print("\naxis value               passed  failed")
    for axis, values in summary["per_axis_value"].items():
        for value, c in values.items():
            print(f"{axis + '=' + value:<24} {c['passed']:>7} {c['failed']:>7}")
    print(f"\n{summary['passed']}/{summary['graded']} variants passed every check")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CNNGRADE_DATA", str(ROOT.parent / "shared" / "data" / "mnist.npz")))
    parser.add_argument("--sample", type=int, metavar="N", help="grade grid.sample(N) instead of the whole grid")
    parser.add_argument("--seed", type=int, default=None,
                        help="the sample's seed (default $CNNGRADE_GRID_SEED or grid.DEFAULT_SEED)")
    parser.add_argument("--only", nargs="+", metavar="SLUG", help="grade only these variants (by slug)")
    parser.add_argument("--grade-seed", type=int, default=None, help="the grader's seed (default: the grader's)")
    parser.add_argument("--jobs", type=int, default=1, help="variants graded at once; CPU threads shared out")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-grid.json")
    args = parser.parse_args()

    if args.only:
        by_slug = {v.slug: v for v in grid.grid()}
        unknown = [s for s in args.only if s not in by_slug]
        if unknown:
            parser.error(f"unknown variant(s): {', '.join(unknown)}")
        variants = [by_slug[s] for s in args.only]
    elif args.sample:
        variants = grid.sample(args.sample, args.seed)
    else:
        variants = grid.grid()
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    meta = {"spec": str(SPEC.relative_to(ROOT)), "selection": "only" if args.only else (
        f"sample({args.sample}, seed={args.seed})" if args.sample else "whole grid"), "grid_size": len(grid.grid()),
        "jobs": args.jobs, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"}
    print(f"grading {len(variants)} variants ({meta['selection']}) with {args.jobs} job(s)", file=sys.stderr)

    results: list[dict] = []
    started = time.perf_counter()

    def save() -> dict:
        summary = summarize(results)
        payload = {**meta, "wall_s": round(time.perf_counter() - started, 1), "summary": summary,
                   "results": sorted(results, key=lambda r: r["variant"])}
        tmp = args.out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        tmp.replace(args.out)
        return summary

    with tempfile.TemporaryDirectory(prefix="cnngrade-grid-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(grade_one, v, Path(tmp), args.data, args.grade_seed, threads) for v in variants]
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            results.append(r)
            verdict = "pass" if r["passed"] else "FAIL " + (", ".join(r["failed"]) or r.get("error", ""))
            print(f"[{len(results)}/{len(variants)}] {r['variant']}: {verdict} ({r['seconds']} s)",
                  file=sys.stderr, flush=True)
            save()
    summary = save()
    print_tables(results, summary)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0 if summary["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
