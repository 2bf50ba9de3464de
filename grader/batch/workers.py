"""Where batch tasks run: local worker threads (each grade is still its own sandboxed child) or a Dask cluster.

Both expose the same three calls (submit, completed, close) so the coordinator does not care which it has.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import queue
import re
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from grader.batch.task import GradeTask, TaskOutcome, run_on_dask_worker, run_task
from grader.errors import ClusterError, UsageError
from grader.isolation import gpu_devices


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def gpu_ids() -> list[str]:
    """The GPUs this machine offers, as CUDA_VISIBLE_DEVICES values, found without importing TensorFlow."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    nodes = (Path(node).name for node in gpu_devices())  # also nvidiactl, nvidia-uvm...: keep nvidia0, nvidia1...
    return sorted((name[6:] for name in nodes if re.fullmatch(r"nvidia\d+", name)), key=int)


class LocalWorkers:
    """``jobs`` worker threads; each holds a slot that fixes its CPU thread share and its GPU."""

    def __init__(self, jobs: int, *, threads: int | None = None, cpu: bool = False) -> None:
        self.jobs = jobs
        self.threads = threads or max(1, cpu_count() // jobs)
        self.gpus = [] if cpu else gpu_ids()
        self.cancel = threading.Event()
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(jobs):
            self._slots.put(slot)
        self._pool = concurrent.futures.ThreadPoolExecutor(jobs, thread_name_prefix="cnngrade-worker")

    def describe(self) -> str:
        gpus = f", GPUs {','.join(self.gpus)} shared round-robin" if self.gpus else ""
        return f"{self.jobs} local worker{'s' * (self.jobs > 1)}, {self.threads} CPU thread(s) each{gpus}"

    def submit(self, task: GradeTask) -> concurrent.futures.Future[TaskOutcome]:
        return self._pool.submit(self._run, task)

    def _run(self, task: GradeTask) -> TaskOutcome:
        slot = self._slots.get()
        try:
            gpu = self.gpus[slot % len(self.gpus)] if self.gpus else None
            return run_task(task, threads=self.threads, gpu=gpu, cancel=self.cancel)
        finally:
            self._slots.put(slot)

    def completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return concurrent.futures.as_completed(list(futures))

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            self.cancel.set()  # running grades kill their sandboxed children at the next poll
        self._pool.shutdown(wait=True, cancel_futures=cancel)


ADDRESS = re.compile(r"(tcp|tls)://\[?([^\]/]+?)\]?:(\d+)/?|\[?([^\]/:]+|[0-9a-fA-F:]+)\]?:(\d+)")


def _probe(address: str) -> None:
    """Refuse an address that is not ``[tcp|tls]://host:port`` at once, and fail in a second, not after Dask's
    connect timeout, when nothing listens there (a half-built Client would also hang at exit)."""
    match = ADDRESS.fullmatch(address)
    if match is None:
        raise UsageError(f"--cluster {address!r} is not a Dask scheduler address: expected tcp://HOST:PORT "
                         "(or tls://HOST:PORT)")
    host = match.group(2) or match.group(4)
    port = int(match.group(3) or match.group(5))
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


class DaskWorkers:
    """Tasks sent to a running Dask scheduler. The coordinator still writes every result itself; a task whose
    worker dies is rerun by Dask elsewhere, and its future still completes exactly once."""

    def __init__(self, address: str, *, threads: int | None = None) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise UsageError("--cluster needs Dask's distributed package: pip install 'cnngrade[cluster]'") from exc
        self.threads = threads
        _probe(address)
        try:
            self.client = Client(address, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        self.address = address
        self._futures: list[Any] = []

    def describe(self) -> str:
        workers = self.client.scheduler_info().get("workers", {})
        return f"Dask cluster at {self.address} ({len(workers)} worker{'s' * (len(workers) != 1)})"

    def submit(self, task: GradeTask) -> Any:
        future = self.client.submit(run_on_dask_worker, task, self.threads, pure=False,
                                    key=f"cnngrade-{uuid.uuid4().hex}")
        self._futures.append(future)
        return future

    def completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        # Bound to this client's event loop: without ``loop``, as_completed looks for a default client, and this
        # one is deliberately not the default (set_as_default=False), so a grader process that made no other
        # client died with "ValueError: No clients found".
        return iter(as_completed(list(futures), loop=self.client.loop))

    def close(self, *, cancel: bool = False) -> None:
        if cancel:  # best effort: the scheduler may be gone, and stopping must go on
            with contextlib.suppress(Exception):
                self.client.cancel(self._futures)
        # Every outcome is written by now (a lost scheduler gives each unfinished task a clear not_graded reason).
        # A client that lost its scheduler logs its cancelled reconnection attempt as a traceback while closing:
        # noise at that point, which would end the command's output in a traceback.
        logger = logging.getLogger("distributed.client")
        level = logger.level
        logger.setLevel(logging.CRITICAL)
        try:
            self.client.close()
        finally:
            logger.setLevel(level)
