"""``cnngrade gradescope build``: the autograder zip Gradescope asks for.

The zip holds, at its top (Gradescope unpacks it into ``/autograder/source``):

- ``setup.sh``: run once when Gradescope builds the image: Python >= 3.11, bubblewrap and cnngrade from the wheel
  below through ``install.sh`` (the same steps as the Dockerfiles and CI), then the dataset, verified by hash;
- ``run_autograder``: run per submission; always leaves a valid ``results.json``;
- ``cnngrade-autograder.json``: the exercise spec and the options (visibility, leaderboard, time limit, base);
- ``cnngrade-VERSION-py3-none-any.whl``: this very cnngrade, built now (or the ``--wheel`` given), so the image
  grades with the version that built the zip and needs no package index for it;
- ``data/<dataset>.npz`` (an arrays exercise: ``data/ascent.dat``) with ``--data``: the dataset, verified now;
  without it setup.sh downloads and verifies it.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

from grader import __version__
from grader.errors import CnngradeError, UsageError
from grader.platforms.gradescope_config import (CONFIG_FILE, DATA_FOLDER, INSTALL, PREFIX, PYTHON_VARIABLE,
                                                ROOT_VARIABLE, RUN, SETUP, AutograderConfig, OutputFormat,
                                                Visibility, config_json)
from grader.report import write_atomic
from grader.spec import ExerciseSpec

# What a source checkout's wheel is built from (the rest of the checkout, solutions above all, never goes in).
WHEEL_SOURCES = ("grader", "exercises", "pyproject.toml", "README.md")


class BuildError(CnngradeError):
    """The zip cannot be built on this machine (no wheel can be made); not the instructor's typo."""


def script(name: str) -> str:
    """A shell script shipped in this package (install.sh and the two Gradescope templates)."""
    return resources.files("grader.platforms").joinpath(name).read_text(encoding="utf-8")


def _fill(template: str, *, wheel: str, gpu: bool) -> str:
    values = {"VERSION": __version__, "PREFIX": PREFIX, "WHEEL": wheel, "INSTALL": INSTALL,
              "EXTRAS": "[gpu]" if gpu else "", "EXTRAS_NOTE": " with CUDA" if gpu else "",
              "ROOT_VARIABLE": ROOT_VARIABLE, "PYTHON_VARIABLE": PYTHON_VARIABLE}
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template


def _checkout() -> Path | None:
    """The source checkout this cnngrade runs from, when it does (an editable install or ``python -m grader``)."""
    top = Path(__file__).resolve().parents[2]
    return top if (top / "pyproject.toml").is_file() and (top / "exercises").is_dir() else None


def build_wheel(dest: Path) -> Path:
    """This cnngrade as a wheel in ``dest``, built from a copy of its checkout (an in-tree build leaves build/
    behind), without build isolation: no package index needed."""
    top = _checkout()
    if top is None:
        raise UsageError("this cnngrade is installed from a wheel, not a source checkout, so it cannot build its own "
                         "wheel: pass the wheel it was installed from with --wheel cnngrade-"
                         f"{__version__}-py3-none-any.whl")
    with tempfile.TemporaryDirectory(prefix="cnngrade-wheel-") as scratch:
        copy = Path(scratch) / "cnngrade"
        for name in WHEEL_SOURCES:
            src = top / name
            if src.is_dir():
                shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif src.is_file():
                copy.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, copy / name)
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                              "--no-cache-dir", "-q", "-w", str(dest), str(copy)], capture_output=True, text=True)
    wheels = sorted(dest.glob(f"cnngrade-{__version__}-*.whl"))
    if run.returncode != 0 or len(wheels) != 1:
        raise BuildError(f"building cnngrade's wheel failed (pip wheel exit {run.returncode}; setuptools must be "
                         f"installed): {(run.stderr or run.stdout).strip()[-1500:]}")
    return wheels[0]


def _checked_wheel(path: Path) -> Path:
    if not (path.is_file() and zipfile.is_zipfile(path) and path.name.startswith("cnngrade-")
            and path.suffix == ".whl"):
        raise UsageError(f"--wheel {path}: not a cnngrade wheel (cnngrade-VERSION-py3-none-any.whl)")
    return path


def _dataset(spec: ExerciseSpec, data: str | os.PathLike[str]) -> Path:
    """The instructor's dataset file (an arrays exercise: SciPy's ascent.dat, or a folder holding it), verified
    against the canonical hashes before it is shipped."""
    if spec.kind == "arrays":
        from grader.arrays.ascent import FILE_NAME, MAX_FILE_BYTES, read_verified

        path = Path(data) / FILE_NAME if Path(data).is_dir() else Path(data)
        if path.name != FILE_NAME or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"--data {data}: exercise {spec.id} needs SciPy's {FILE_NAME} (the file, or a folder "
                             "holding it)")
        read_verified(path.read_bytes(), str(path))
        return path
    from grader.data import resolve_dataset

    return resolve_dataset(spec.dataset.name, data=data)


def build(*, spec: ExerciseSpec, output: Path, visibility: Visibility = "visible", leaderboard: bool = False,
          timeout_s: float | None = None, gpu: bool = False, data: str | os.PathLike[str] | None = None,
          wheel: Path | None = None, output_format: OutputFormat = "html") -> AutograderConfig:
    """Write the autograder zip to ``output`` (atomically: a zip or nothing) and return its configuration."""
    data_path = _dataset(spec, data) if data is not None else None
    with tempfile.TemporaryDirectory(prefix="cnngrade-autograder-") as scratch:
        wheel_path = _checked_wheel(wheel) if wheel is not None else build_wheel(Path(scratch))
        config = AutograderConfig(grader_version=__version__, exercise=spec, visibility=visibility,
                                  leaderboard=leaderboard, timeout_s=timeout_s, base="gpu" if gpu else "cpu",
                                  wheel=wheel_path.name, output_format=output_format,
                                  data_file=f"{DATA_FOLDER}/{data_path.name}" if data_path else None)
        members: list[tuple[str, str | Path, int]] = [
            (SETUP, _fill(script("gradescope_setup.sh"), wheel=wheel_path.name, gpu=gpu), 0o755),
            (RUN, _fill(script("gradescope_run_autograder.sh"), wheel=wheel_path.name, gpu=gpu), 0o755),
            (INSTALL, script("install.sh"), 0o755),
            (CONFIG_FILE, config_json(config), 0o644),
            (wheel_path.name, wheel_path, 0o644),
        ]
        if data_path is not None:
            members.append((f"{DATA_FOLDER}/{data_path.name}", data_path, 0o644))
        _write_zip(output, members)
    return config


def _write_zip(output: Path, members: list[tuple[str, str | Path, int]]) -> None:
    """The zip built in memory (tens of MB at most, with a dataset), then written atomically like every output."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content, mode in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16  # a regular file with its mode: scripts stay executable
            # A dataset archive or a wheel is compressed already: deflating it again costs seconds for nothing.
            stored = isinstance(content, Path) and content.suffix in (".npz", ".whl")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, content.read_bytes() if isinstance(content, Path) else content.encode("utf-8"))
    write_atomic(output, buffer.getvalue())
