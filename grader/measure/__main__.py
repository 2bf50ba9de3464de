"""``python -I -m grader.measure JOB OUT``: measure an exported model, write a Measurement as JSON."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from grader.measure.config import UnsafeArchiveError, layer_classes, read_config  # noqa: E402
from grader.measure.graph import measure_graph  # noqa: E402
from grader.protocol import MeasureJob, Measurement  # noqa: E402


def main(argv: list[str]) -> int:
    import tensorflow as tf

    from grader.threads import apply_thread_cap

    apply_thread_cap(tf)
    job = MeasureJob.model_validate_json(Path(argv[1]).read_text(encoding="utf-8"))
    model_dir = Path(job.model_dir)
    classes, unverifiable, note = None, [], None
    try:
        classes, unverifiable = layer_classes(read_config(model_dir / "model.keras"))
    except (OSError, KeyError, ValueError, UnsafeArchiveError) as exc:
        note = f"layer list unavailable ({exc}); the architecture was judged from the computation graph"
    result = measure_graph(job)
    measurement = Measurement(layer_classes=classes, unverifiable_layers=unverifiable, note=note, **result)
    tmp = Path(argv[2] + ".tmp")
    tmp.write_text(measurement.model_dump_json(), encoding="utf-8")
    os.replace(tmp, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
