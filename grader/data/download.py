"""A missing dataset downloaded into Keras' cache, from Keras' own URL or a mirror: atomic, with progress, verified.

Each file is streamed to a ``.part`` file beside its target, fsynced, verified by the array hashes (for IDX files:
all four together) and only then renamed into place: an interrupted or refused download leaves nothing a later run
would trust.
"""
from __future__ import annotations

import http.client
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, TextIO

from grader.data import idx
from grader.data.registry import Dataset, how_to_provide
from grader.data.verify import remember, verify_npz
from grader.errors import DataError


def _megabytes(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class _Progress:
    """A download's progress on ``stream``: a live bar (bytes, rate) on a terminal, one plain line otherwise."""

    WIDTH = 24

    def __init__(self, stream: TextIO, *, what: str, url: str, folder: Path, total: int | None) -> None:
        self.stream, self.total = stream, total
        try:
            self.live = stream.isatty()
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            self.live = False
        self.started = self.last = time.monotonic()
        self.done = 0
        size = f" ({_megabytes(total)})" if total else ""
        self._write(f"cnngrade: downloading {what}{size} from {url} into {folder}\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the download
            pass

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.live and now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-6)
        if self.total:
            filled = min(self.WIDTH, self.WIDTH * self.done // self.total)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {_megabytes(self.done)}/{_megabytes(self.total)}"
        else:
            bar = _megabytes(self.done)
        self._write(f"\r  {bar}  {_megabytes(rate)}/s ")

    def close(self) -> None:
        if self.live:
            self._draw(time.monotonic())
            self._write("\n")


def _sweep_stale_parts(folder: Path, name: str, older_than_s: float = 600) -> None:
    """Remove ``.part`` files that a hard-killed download left behind (a live one is written at least every 30 s,
    the read timeout). They are never trusted anyway; this only keeps the cache from collecting them."""
    now = time.time()
    for part in folder.glob(f".{name}.*.part"):
        try:
            if now - part.stat().st_mtime > older_than_s:
                part.unlink()
        except OSError:
            pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _open_part(ds: Dataset, target: Path) -> tuple[Path, BinaryIO]:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale_parts(target.parent, target.name)
        # Created as any new file is (0666 less the umask), not 0600 as tempfile.mkstemp would: Keras' cache is
        # shared. The random part of the name keeps concurrent downloads apart; the last rename wins, both verified.
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise DataError(f"{ds.title} is not on this machine and cannot be downloaded into Keras' cache "
                        f"({target.parent}): {exc}.\n{how_to_provide(ds)}") from exc
    return tmp, os.fdopen(fd, "wb")


def _fetch(ds: Dataset, url: str, out: BinaryIO, *, what: str, folder: Path, stream: TextIO) -> None:
    """Stream ``url`` into ``out`` and fsync it; DataError (never a half-written success) on any failure."""
    try:
        try:
            response = urllib.request.urlopen(url, timeout=30)
        except ValueError as exc:  # not a URL urllib can open: a typo in the mirror setting, most often
            raise DataError(f"cannot download {ds.title} from {url!r} ({exc}); {ds.mirror_variable} must be an "
                            f"http://, https:// or file:// URL.\n{how_to_provide(ds)}") from exc
        with response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.strip().isdigit() else None
            progress = _Progress(stream, what=what, url=url, folder=folder, total=total)
            try:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    progress.advance(len(chunk))
            finally:
                progress.close()
        if total is not None and progress.done != total:  # http.client returns short reads without raising
            raise DataError(f"{ds.title} is not on this machine and the download from {url} stopped after "
                            f"{progress.done} of {total} bytes (the connection was closed); nothing was kept."
                            f"\n{how_to_provide(ds)}")
        out.flush()
        os.fsync(out.fileno())
    except (OSError, http.client.HTTPException) as exc:
        # URLError wraps the cause ("<urlopen error [Errno -2] ...>"): show the cause; HTTPError says it plainly.
        offline = isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError)
        reason = exc.reason if isinstance(exc, urllib.error.URLError) and offline else exc
        raise DataError(f"{ds.title} is not on this machine and downloading it from {url} failed ({reason}); "
                        f"nothing was kept.\n{how_to_provide(ds)}") from exc


def _refused(exc: DataError, ds: Dataset, target: Path) -> DataError:
    first = str(exc).split("\n", 1)[0]
    return DataError(f"{first}\nIt was refused and deleted: nothing was written to {target}.\n{how_to_provide(ds)}")


def _install(renames: dict[Path, Path], ds: Dataset) -> None:
    """Rename verified ``.part`` files into place."""
    try:
        for part, target in renames.items():
            os.replace(part, target)
            _fsync_dir(target.parent)
    except OSError as exc:
        raise DataError(f"the verified {ds.title} could not be put into Keras' cache: {exc}.\n{how_to_provide(ds)}"
                        ) from exc


def download_npz(ds: Dataset, target: Path, *, stream: TextIO | None = None) -> Path:
    """Download ``ds``'s .npz into ``target``; on any failure, Ctrl-C included, nothing is left at ``target``."""
    url, stream = ds.mirror(), stream if stream is not None else sys.stderr
    tmp, out = _open_part(ds, target)
    try:
        with out:
            _fetch(ds, url, out, what=ds.title, folder=target.parent, stream=stream)
        try:
            verify_npz(tmp, ds, shown=f"the file downloaded from {url}")
        except DataError as exc:
            raise _refused(exc, ds, target) from exc
        _install({tmp: target}, ds)
    except BaseException:  # Ctrl-C and SIGTERM's unwinding included: a .part is never left to be trusted
        tmp.unlink(missing_ok=True)
        raise
    remember(target, ds)  # verified just now, as the .part
    return target


def download_idx(ds: Dataset, folder: Path, *, stream: TextIO | None = None) -> Path:
    """Download ``ds``'s IDX files into ``folder`` (Keras' layout), all verified together before any is renamed
    into place; returns the converted .npz in cnngrade's cache."""
    assert ds.idx_files is not None
    base, stream = ds.mirror(), stream if stream is not None else sys.stderr
    base += "" if base.endswith("/") else "/"
    parts: dict[str, Path] = {}
    try:
        for name, file in ds.idx_files.items():
            parts[name], out = _open_part(ds, folder / file)
            with out:
                _fetch(ds, base + file, out, what=f"{ds.title} {file}", folder=folder, stream=stream)
        try:
            npz = idx.converted(ds, parts, shown=f"the files downloaded from {base}")
        except DataError as exc:
            raise _refused(exc, ds, folder) from exc
        _install({part: folder / ds.idx_files[name] for name, part in parts.items()}, ds)
    except BaseException:
        for part in parts.values():
            part.unlink(missing_ok=True)
        raise
    return npz
