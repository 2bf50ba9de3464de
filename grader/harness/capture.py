"""Capped output capture: the student's output goes to the log with a size cap, and each epoch's share
is kept apart so the grader can tell at which epoch a message was printed."""
from __future__ import annotations

import io
from typing import TextIO


class EpochOutput:
    """Collects text written while an epoch runs; ``start`` opens a new segment."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.segments: dict[int, list[str]] = {}
        self._sizes: dict[int, int] = {}
        self.current: int | None = None

    def start(self, epoch: int) -> None:
        self.current = epoch
        self.segments.setdefault(epoch, [])
        self._sizes.setdefault(epoch, 0)

    def stop(self) -> None:
        self.current = None

    def reset(self) -> None:
        self.segments.clear()
        self._sizes.clear()

    def add(self, text: str) -> None:
        epoch = self.current
        if epoch is None or self._sizes[epoch] >= self.cap:
            return
        piece = text[: self.cap - self._sizes[epoch]]
        self.segments[epoch].append(piece)
        self._sizes[epoch] += len(piece)

    def text(self, epoch: int) -> str:
        return "".join(self.segments.get(epoch, []))


class CappedTee(io.TextIOBase):
    """A text stream that forwards at most ``limit`` characters in total and feeds ``epochs``."""

    def __init__(self, target: TextIO, budget: list[int], epochs: EpochOutput) -> None:
        self._target = target
        self._budget = budget  # shared one-element list: stdout and stderr draw on one cap
        self._epochs = epochs
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            text = str(text)
        self._epochs.add(text)
        if self._budget[0] > 0:
            piece = text[: self._budget[0]]
            self._budget[0] -= len(piece)
            self._target.write(piece)
            if self._budget[0] <= 0:
                self._target.write("\n[cnngrade: output truncated here]\n")
                self.truncated = True
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"
