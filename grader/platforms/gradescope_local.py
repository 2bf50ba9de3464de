"""``cnngrade gradescope run``: the platform reproduced on this machine, as ``otter run`` does for otter.

The zip is unpacked into a scratch root laid out like ``/autograder`` (``source/``, ``submission/``,
``results/``, ``run_autograder`` copied to the top as Gradescope does), and ``run_autograder`` runs there as a
subprocess with ``$CNNGRADE_AUTOGRADER_ROOT`` pointing at that root. setup.sh is NOT run (it installs system
packages): the current environment's cnngrade (its Python, ``$CNNGRADE_PYTHON``) grades, with this machine's
dataset (``--data``, ``$CNNGRADE_DATA``, Keras' cache) unless the zip ships one.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.archives import ArchiveError, extract
from grader.errors import SubmissionNotFoundError, UsageError
from grader.platforms.gradescope_config import PYTHON_VARIABLE, ROOT_VARIABLE, RUN, read_config

@dataclass(frozen=True)
class LocalRun:
    results: dict[str, Any]
    returncode: int


def _layout(autograder: Path, submission: Path, root: Path) -> None:
    if not autograder.is_file():
        raise SubmissionNotFoundError(f"{autograder}: no such autograder zip")
    if not submission.exists():
        raise SubmissionNotFoundError(f"{submission}: no such submission file or folder")
    try:
        extract(autograder, root / "source")
    except ArchiveError as exc:
        raise UsageError(f"{autograder}: {exc}") from exc
    if not (root / "source" / RUN).is_file():
        raise UsageError(f"{autograder}: no {RUN} at the top of the zip; build it with `cnngrade gradescope build`")
    shutil.copy2(root / "source" / RUN, root / RUN)
    os.chmod(root / RUN, 0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    if submission.is_dir():
        shutil.copytree(submission, root / "submission", dirs_exist_ok=True, symlinks=True)
    else:
        shutil.copy2(submission, root / "submission" / submission.name)


def run_local(autograder: Path, submission: Path, *, data: str | None = None,
              echo: Callable[[str], None] | None = None) -> LocalRun:
    """Run the autograder zip on ``submission`` (a file, or a folder as a student's upload) as Gradescope would."""
    with tempfile.TemporaryDirectory(prefix="cnngrade-autograder-root-") as scratch:
        root = Path(scratch)
        _layout(autograder, submission, root)
        read_config(root / "source")  # a zip that is not cnngrade's is refused here, with why
        env = dict(os.environ, **{ROOT_VARIABLE: str(root), PYTHON_VARIABLE: sys.executable})
        if data is not None:
            env["CNNGRADE_DATA"] = str(Path(data).resolve())
        with subprocess.Popen([str(root / RUN)], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
            assert proc.stdout is not None
            for line in proc.stdout:  # the autograder's own output, as Gradescope keeps it (hidden from students)
                if echo is not None:
                    echo(line.rstrip("\n"))
            returncode = proc.wait()  # the grading inside enforces the exercise's time limit itself
        try:
            results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{autograder}: run_autograder left no readable results.json ({exc})") from exc
    return LocalRun(results=results, returncode=returncode)
