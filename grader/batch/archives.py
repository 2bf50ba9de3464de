"""Unpack .zip archives (class exports, a student's zipped folder) without trusting them.

Members with absolute or ``..`` paths, links and special files are skipped; the member count and the total
unpacked size are capped while copying, so a zip bomb stops at the cap instead of filling the disk.
"""
from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 5_000
MAX_TOTAL_BYTES = 2 << 30
CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive cannot be unpacked; the message says why in words an instructor or student can act on."""


def _safe_name(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0].endswith(":"):
        return None
    if any(part in ("__MACOSX", ".ipynb_checkpoints", "__pycache__") for part in path.parts):
        return None  # OS and editor debris, never a submission
    return path


def _is_plain(info: zipfile.ZipInfo) -> bool:
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no file type (Windows tools)
    return not info.is_dir() and kind in (0, stat.S_IFREG)


def extract(archive: Path, dest: Path, *, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_TOTAL_BYTES) -> list[Path]:
    """Unpack the plain files of ``archive`` under ``dest``; returns their paths. Raises ``ArchiveError``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > max_members:
                raise ArchiveError(f"{archive.name} holds {len(infos)} entries; at most {max_members} are unpacked")
            written, total = [], 0
            for info in infos:
                name = _safe_name(info.filename)
                if name is None or not _is_plain(info):
                    continue
                target = dest.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        total += len(chunk)
                        if total > max_bytes:
                            raise ArchiveError(f"{archive.name} unpacks to more than {max_bytes >> 20} MiB; "
                                               "it looks like a zip bomb and was not unpacked")
                        out.write(chunk)
                written.append(target)
            return written
    except ArchiveError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, EOFError, ValueError) as exc:
        # RuntimeError: encrypted members; EOFError/BadZipFile: truncated or corrupt archives.
        shutil.rmtree(dest, ignore_errors=True)
        raise ArchiveError(f"{archive.name} is not a readable zip archive ({exc})") from exc
