"""Apply the grader's CPU thread cap inside a child, before TensorFlow starts its thread pools."""
from __future__ import annotations

import os
from typing import Any

ENV = "CNNGRADE_THREADS"  # set by the grader (pipeline.device_env), never by the student


def apply_thread_cap(tf: Any) -> int | None:
    """Give TensorFlow at most $CNNGRADE_THREADS threads per pool; returns the cap, or None when unset."""
    value = os.environ.get(ENV, "")
    if not value.isdigit() or int(value) < 1:
        return None
    tf.config.threading.set_intra_op_parallelism_threads(int(value))
    tf.config.threading.set_inter_op_parallelism_threads(int(value))
    return int(value)
