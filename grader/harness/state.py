"""The mutable state of one sandboxed run, and the two ways it is written out (events, record)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.harness.capture import EpochOutput
from grader.preprocessing import PreprocessingUnknown, infer
from grader.protocol import CellError, CellOutput, FitRecord, RunJob, RunRecord, Skipped


class RunState:
    def __init__(self, job: RunJob, scratch: Path) -> None:
        self.job = job
        self.scratch = scratch
        self.epochs_out = EpochOutput(job.epoch_output_bytes)
        self.cells_out = EpochOutput(job.cell_output_bytes)  # keyed by notebook cell number (0: the entry point)
        self.cell: int | None = None
        self.epoch = 0
        self.in_entry_point = False
        self.fits: list[dict[str, Any]] = []
        self.cells: dict[int, int | None] = {}  # IPython execution count -> notebook cell number
        self.errors: list[CellError] = []
        self.skipped: list[Skipped] = []
        self.data_requests: list[str] = []
        self.meta: dict[str, Any] = {"seed": job.seed}
        self._raw: np.ndarray | None = None
        self._events = open(scratch / "events.jsonl", "a", encoding="utf-8", buffering=1)

    def exercise_data(self, rows: np.ndarray | None, rows_of: np.ndarray | None = None) -> bool:
        """Whether a fit trains on the exercise's dataset, as far as its sampled rows show (unknown: yes).

        Fail-fast refuses to train a model that breaks the rules only then: a course notebook's experiment on
        another dataset (the MNIST run after the Fashion-MNIST model) is not graded, and refusing it would break
        the cells after it. The grading process decides again from the saved sample; this only saves time.
        """
        if rows is None:
            return True
        if self._raw is None:
            with np.load(self.job.data_path, allow_pickle=False) as data:
                self._raw = data["x_train"][: self.job.train_limit]
        try:
            infer(rows, self._raw, rows_of=rows_of)
        except PreprocessingUnknown:
            return False
        except Exception:  # a strange sample: judge as before
            return True
        return True

    def event(self, kind: str, **fields: Any) -> None:
        """One JSON line for the grader's progress display and timeouts (not used for the grade)."""
        self._events.write(json.dumps({"type": kind, "t": round(time.time(), 3), **fields}) + "\n")

    def record(self, **extra: Any) -> RunRecord:
        return RunRecord(
            fits=[FitRecord.model_validate(f) for f in self.fits],
            errors=self.errors,
            skipped=self.skipped,
            data_requests=self.data_requests[:100],
            cell_outputs=[CellOutput(cell=c, text=self.cells_out.text(c)) for c in self.cells_out.keys()],
            **self.meta,
            **extra,
        )

    def write_record(self, **extra: Any) -> None:
        path = self.scratch / "record.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.record(**extra).model_dump_json(), encoding="utf-8")
        os.replace(tmp, path)
