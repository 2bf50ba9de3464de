"""Capped output capture at the file-descriptor level.

Everything the process writes to its stdout and stderr passes through here, whoever wrote it: Python's
``print``, ``tf.print`` (C++ writing straight to fd 2), Keras' progress lines, a child process. Each stream's fd
is replaced by a pipe that a reader thread drains: it forwards the bytes to the original fd (the sandbox's capped
log) up to a shared budget, and gives each epoch its own share of the text so the grader can tell at which epoch
a message was printed.

Epoch boundaries are synchronised in-band: the main thread writes a sentinel into each pipe and waits until the
reader has consumed it, so every byte written before the boundary is attributed to the epoch before it.
"""
from __future__ import annotations

import codecs
import os
import secrets
import sys
import threading
from collections.abc import Callable

SYNC_TIMEOUT_S = 5.0
TRUNCATED = b"\n[cnngrade: output truncated here]\n"


class _Segment:
    """One epoch's text within a cap: the first half of the cap from its start, the second half from its end
    (a message printed at the end of a chatty epoch, after 1,875 per-batch lines, is still there)."""

    def __init__(self, cap: int) -> None:
        self.half = max(1, cap // 2)
        self.head: list[str] = []
        self.head_size = 0
        self.tail = ""
        self.dropped = 0

    def add(self, text: str) -> None:
        room = self.half - self.head_size
        if room > 0:
            self.head.append(text[:room])
            self.head_size += len(text[:room])
            text = text[room:]
        if text:
            joined = self.tail + text
            self.dropped += max(0, len(joined) - self.half)
            self.tail = joined[-self.half:]

    def text(self) -> str:
        gap = f"\n[cnngrade: {self.dropped} characters not kept]\n" if self.dropped else ""
        return "".join(self.head) + gap + self.tail


class EpochOutput:
    """Collects text written while an epoch runs (or, a second instance, while a notebook cell runs); ``start``
    opens a new segment.

    ``sync`` (set by ``StreamCapture``) is called at each boundary so that text still in flight lands in the
    segment it was written in.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.segments: dict[int, _Segment] = {}
        self.current: int | None = None
        self.sync: Callable[[], None] = lambda: None
        self._lock = threading.Lock()

    def start(self, epoch: int) -> None:
        self.sync()
        with self._lock:
            self.current = epoch
            self.segments.setdefault(epoch, _Segment(self.cap))

    def stop(self) -> None:
        self.sync()
        with self._lock:
            self.current = None

    def reset(self) -> None:
        with self._lock:
            self.segments.clear()

    def add(self, text: str) -> None:
        with self._lock:
            if self.current is not None:
                self.segments[self.current].add(text)

    def keys(self) -> list[int]:
        with self._lock:
            return sorted(self.segments)

    def text(self, epoch: int) -> str:
        with self._lock:
            segment = self.segments.get(epoch)
            return segment.text() if segment else ""


class _Reader(threading.Thread):
    """Drains one pipe: forwards to ``target`` within the shared budget, feeds ``epochs``, acknowledges syncs."""

    def __init__(self, read_fd: int, target: int, sentinel: bytes, capture: StreamCapture) -> None:
        super().__init__(daemon=True, name=f"cnngrade-capture-{target}")
        self.read_fd, self.target, self.sentinel, self.capture = read_fd, target, sentinel, capture
        self.synced = threading.Event()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def run(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                return
            if not chunk:
                self._emit(pending)
                return
            pending = self._consume(pending + chunk)

    def _consume(self, data: bytes) -> bytes:
        """Emit ``data`` up to any sentinel (acknowledging it); keep a tail that may be a sentinel's start."""
        while (i := data.find(self.sentinel)) >= 0:
            self._emit(data[:i])
            data = data[i + len(self.sentinel):]
            self.synced.set()
        j = data.rfind(self.sentinel[:1])
        keep = j if j >= 0 and self.sentinel.startswith(data[j:]) else len(data)
        self._emit(data[:keep])
        return data[keep:]

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        text = self._decoder.decode(data)
        self.capture.epochs.add(text)
        if self.capture.cells is not None:
            self.capture.cells.add(text)
        self.capture.forward(self.target, data)


class StreamCapture:
    """Routes fds 1 and 2 through pipes for the whole run; see the module docstring."""

    def __init__(self, budget_bytes: int, epochs: EpochOutput, cells: EpochOutput | None = None) -> None:
        self.epochs = epochs
        self.cells = cells
        self.truncated = False
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._sentinel = b"\x00cnngrade-sync-" + secrets.token_hex(8).encode() + b"\x00"
        self._readers: list[_Reader] = []
        self._fds: list[int] = []

    def start(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd in (1, 2):
            saved = os.dup(fd)
            read_fd, write_fd = os.pipe()
            os.dup2(write_fd, fd)
            os.close(write_fd)
            reader = _Reader(read_fd, saved, self._sentinel, self)
            reader.start()
            self._readers.append(reader)
            self._fds.append(fd)
        # Prints reach the pipe at each line, not when a block buffer fills, so they land in their epoch.
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(line_buffering=True)
        self.epochs.sync = self.sync
        if self.cells is not None:
            self.cells.sync = self.sync

    def forward(self, target: int, data: bytes) -> None:
        with self._lock:
            if self._budget <= 0:
                return
            piece = data[: self._budget]
            self._budget -= len(piece)
            ends = self._budget <= 0
            self.truncated = self.truncated or ends
        try:
            os.write(target, piece + (TRUNCATED if ends else b""))
        except OSError:
            pass

    def sync(self) -> None:
        """Wait until every byte written so far to fds 1 and 2 has been read and attributed."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        for fd, reader in zip(self._fds, self._readers):
            if not reader.is_alive():
                continue
            reader.synced.clear()
            try:
                os.write(fd, self._sentinel)
            except OSError:
                continue  # the student closed or replaced the fd: nothing more can be attributed through it
            reader.synced.wait(SYNC_TIMEOUT_S)
