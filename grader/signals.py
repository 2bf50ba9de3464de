"""Stopping the way schedulers do: SIGTERM (``kill``, ``docker stop``, Slurm, Kubernetes, a cancelled CI job) and
SIGHUP (a closed terminal) unwind like Ctrl-C, so every ``finally`` runs: children are killed, finished results
are kept, the gradebook is rebuilt and scratch folders are removed. Exit status 128 + the signal number.

A Python started in the background by a non-interactive shell inherits SIGINT as ignored: SIGTERM still works.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when a handled signal arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def exit_status(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return exc.exit_status if isinstance(exc, Terminated) else 130


def _raise(signum: int, frame: FrameType | None) -> None:
    # Later signals while unwinding are ignored (Ctrl-C too): one is enough, and a second would cut the cleanup short.
    for sig in (*HANDLED, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within this block, SIGTERM and SIGHUP raise ``Terminated`` (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block is done (the gradebook is written whole); a signal that
    arrived meanwhile is delivered on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, *HANDLED}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
