"""``python -I -m grader.measure JOB OUT``: measure an exported model, write a Measurement as JSON."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from grader.measure.config import UnsafeArchiveError, layer_refs, read_config  # noqa: E402
from grader.measure.graph import Model, accuracies, load_split, structure  # noqa: E402
from grader.measure.journey import journey  # noqa: E402
from grader.protocol import MeasureJob, Measurement  # noqa: E402


def _write(measurement: Measurement, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(measurement.model_dump_json(), encoding="utf-8")
    os.replace(tmp, out)


JOURNEY_BYTES = 400_000  # the measurement file is read capped at 1 MiB (grader.pipeline): pictures never fill it


def _journey(model: Model, job: MeasureJob) -> dict[str, object]:
    """The journey fields: pictures only, so any failure is a note on the report, never a failed measurement."""
    try:
        x_test = load_split(job)[2][:job.journey_images].astype("float32")
        feed = model.feed_shape(job.reshape)
        images = (x_test.reshape((-1, *job.reshape)) * job.scale + job.offset).reshape((-1, *feed))
        found = journey(model.fn, images, list(range(len(images))))
    except Exception as exc:  # an unusual graph: no pictures, said why
        return {"journey_problem": f"{type(exc).__name__}: {exc}"[:300]}
    if found is None:
        return {"journey_problem": "the exported graph has no plain Conv2D"}
    size = len(found.model_dump_json())
    if size > JOURNEY_BYTES:  # huge filters: the grade's measurement file must stay under the parent's read cap
        return {"journey_problem": f"the filters and feature maps take {size} bytes (at most {JOURNEY_BYTES} shown)"}
    return {"journey": found}


def main(argv: list[str]) -> int:
    import tensorflow as tf

    from grader.threads import apply_thread_cap

    apply_thread_cap(tf)
    job = MeasureJob.model_validate_json(Path(argv[1]).read_text(encoding="utf-8"))
    out = Path(argv[2])
    model_dir = Path(job.model_dir)
    refs, note = None, None
    try:
        refs = layer_refs(read_config(model_dir / "model.keras"))
    except (OSError, KeyError, ValueError, UnsafeArchiveError) as exc:
        note = f"layer list unavailable ({exc}); the architecture was judged from the computation graph"
    classes = [r.class_name for r in refs] if refs is not None else None
    folder = model_dir / "savedmodel"
    if folder.is_symlink() or not (folder / "saved_model.pb").is_file():
        _write(Measurement.empty(layer_classes=classes, note=note, error="no exported model was found"), out)
        return 0
    model = Model(folder)
    # Phase 1, written before any image is fed: the architecture verdict never depends on the accuracy run.
    first = Measurement(layer_classes=classes, note=note, phase="structure", **structure(model, refs))
    _write(first, out)
    if first.error is None and job.measure_accuracy:
        train, test = accuracies(model, job)
        done = first.model_copy(update={"phase": "complete", "train_accuracy": train, "test_accuracy": test.accuracy,
                                        "confusion": test.confusion.tolist(), "misclassified": test.mistakes})
        _write(done, out)  # the grade's facts are safe before the pictures are attempted
        if job.journey_images:
            _write(done.model_copy(update=_journey(model, job)), out)
    else:
        _write(first.model_copy(update={"phase": "complete"}), out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
