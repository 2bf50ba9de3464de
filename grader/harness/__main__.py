"""Entry point of the sandboxed child: ``python -I -m grader.harness SCRATCH``.

SCRATCH holds job.json (written by the grader); the child writes events.jsonl, record.json and the exported
models under SCRATCH/artifacts. The student's code runs with SCRATCH/work as its working directory.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from grader.harness.capture import StreamCapture
from grader.harness.state import RunState
from grader.protocol import RunJob


def _prepare_tensorflow(state: RunState) -> Any:
    """Import TensorFlow, seed it, serve the data and intercept fit; returns the installed fit."""
    import keras
    import tensorflow as tf

    from grader.harness import datasets, intercept
    from grader.threads import apply_thread_cap

    threads = apply_thread_cap(tf)
    keras.utils.set_random_seed(state.job.seed)
    gpus = tf.config.list_physical_devices("GPU")
    state.meta["tensorflow_version"] = tf.__version__
    parts = [g.name for g in gpus] + ([f"{threads} CPU thread{'s' if threads > 1 else ''}"] if threads else [])
    state.meta["device"] = ("GPU" if gpus else "CPU") + (f" ({', '.join(parts)})" if parts else "")
    served = state.job.datasets or {"mnist": state.job.data_path}  # a job from before datasets were listed
    datasets.install(datasets.loaders(served, state.job.train_limit, state.job.test_limit, state.data_requests))
    return intercept.install(state, state.epochs_out, state.scratch)


def main(argv: list[str]) -> int:
    scratch = Path(argv[1])
    job = RunJob.model_validate_json((scratch / "job.json").read_text(encoding="utf-8"))
    state = RunState(job, scratch)
    capture = StreamCapture(job.output_bytes, state.epochs_out, state.cells_out)
    capture.start()
    os.chdir(scratch / "work")
    sys.argv = [job.submission_name]
    state.event("start")
    if job.mode == "arrays":  # the homemade convolution: no TensorFlow, results saved as arrays
        from grader.harness import arrays

        arrays.run(state)
        capture.sync()
        state.event("done")
        os._exit(0)
    fit = _prepare_tensorflow(state)

    from grader.harness import runner

    namespace = runner.run_notebook(state) if job.kind == "notebook" else runner.run_module(state)
    runner.call_entry_point(state, namespace)

    import keras

    intact = keras.Model.__dict__.get("fit") is fit
    capture.sync()  # everything printed so far reaches the logs before the process ends
    state.write_record(finished=True, harness_intact=intact, output_truncated=capture.truncated)
    state.event("done")
    # Skip interpreter teardown: student objects' finalisers have nothing more to say to the grade.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
