"""Build time and size of the class dashboard (RESULTS/index.html) for a synthetic class of 1,000 students.

Usage: python benchmarks/dashboard.py [N]      (seconds; no training, no data needed)
Writes benchmarks/results-dashboard.json.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from synthetic_class import synthetic_class  # noqa: E402

from grader.batch.gradebook import write_gradebook  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    reports = synthetic_class(n)
    links = {r.extra_data.student or "": f"students/{i}.html" for i, r in enumerate(reports)}
    with tempfile.TemporaryDirectory() as tmp:
        write_gradebook(Path(tmp), reports[:5], ignored=[], duplicates=[], links=links)  # warm imports and caches
        times = []
        for _ in range(3):
            start = time.perf_counter()
            write_gradebook(Path(tmp), reports, ignored=["README.md"], duplicates=[], links=links)
            times.append(time.perf_counter() - start)
        size = (Path(tmp) / "index.html").stat().st_size
    result = {"students": n, "gradebook_build_s_best_of_3": round(min(times), 3), "index_html_bytes": size}
    (ROOT / "benchmarks" / "results-dashboard.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
