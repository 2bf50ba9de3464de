"""The package as students and instructors install it (issue 11): build the wheel, check what it carries, install it
into a fresh virtual environment (not editable) and use it from a folder outside the checkout: list the exercises,
get the starter, grade a fail-fast submission to its real verdict.

The wheel is built from a copy of the checkout (an in-tree build would leave build/ behind, whose stale files end up
in later wheels) with the current environment's setuptools, and installed without its dependencies into a venv that
sees the current environment's packages: no network, no second TensorFlow.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from grader import __version__

pytestmark = pytest.mark.timeout(600)

SKIP = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".git", ".venv", "node_modules",
                              ".pytest_cache", ".mypy_cache", ".ruff_cache")
BUILTIN = "grader/builtin_exercises"


def _run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _shipped_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "cnngrade"
    shutil.copytree(ROOT, source, ignore=SKIP, symlinks=True)
    dist = source / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir",
                  "-w", str(dist), "."], cwd=source)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels = list(dist.glob("cnngrade-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_carries_the_exercises_and_nothing_of_the_solutions(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert f"{BUILTIN}/mnist-single-conv/exercise.toml" in names
    assert f"{BUILTIN}/mnist-single-conv/starter.ipynb" in names
    # Every file of every exercise, from the repository's exercises/ (the single source: nothing is copied in git).
    exercises = _shipped_files(ROOT / "exercises")
    assert exercises and all(f"{BUILTIN}/{name}" in names for name in exercises)
    assert not (ROOT / BUILTIN).exists(), "no grader/builtin_exercises in the checkout: exercises/ is the source"
    # Every module of the grader (a subpackage missing from pyproject's list would be caught here).
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "grader").rglob("*.py") if "__pycache__" not in p.parts)
    assert [m for m in modules if m not in names] == []
    # Students install it: no reference solution, no known-bad example, no test, nothing outside the package.
    tops = {name.split("/")[0] for name in names}
    assert tops == {"grader", f"cnngrade-{__version__}.dist-info"}
    forbidden = [n for n in names if n.startswith(("solutions/", "tests/")) or "known-bad" in n
                 or "reference_" in n or "/fixtures/" in n]
    assert forbidden == []
    solution_names = {p.name for p in (ROOT / "solutions").rglob("*") if p.is_file()}
    assert not {n.rsplit("/", 1)[-1] for n in names} & solution_names


def test_installed_wheel_works_outside_the_checkout(wheel: Path, tmp_path: Path, mnist_path: Path) -> None:
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python, cnngrade = venv / "bin" / "python", venv / "bin" / "cnngrade"
    # pip comes from the current environment (seen through --system-site-packages) and installs into the venv.
    installed = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-cache-dir",
                      str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    work = tmp_path / "student"
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT.resolve())
    env = {k: v for k, v in os.environ.items() if k not in ("CNNGRADE_EXERCISES", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run([str(python), "-c", "import grader; print(grader.__file__)"], cwd=work, env=env)
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(venv), f"grader imported from {package}, not from the wheel installed in {venv}"
    builtin = package / "builtin_exercises"

    version = _run([str(cnngrade), "--version"], cwd=work, env=env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[0] == f"cnngrade {__version__}"
    assert any(line.split()[:2] == ["mnist-single-conv", "1.0.0"] and str(builtin) in line
               for line in version.stdout.splitlines()), version.stdout

    listed = _run([str(cnngrade), "exercises"], cwd=work, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "mnist-single-conv 1.0.0: " in listed.stdout
    assert f"from: built into cnngrade {__version__}: {builtin}" in listed.stdout
    assert "within 20 epochs" in listed.stdout

    starter = _run([str(cnngrade), "starter", "-o", "hw"], cwd=work, env=env)
    assert starter.returncode == 0, starter.stderr
    written = work / "hw" / "mnist-single-conv.ipynb"
    assert written.read_bytes() == (ROOT / "exercises" / "mnist-single-conv" / "starter.ipynb").read_bytes()

    # Not a solutions repository, and the grader's own checkout is never used instead.
    validated = _run([str(cnngrade), "validate"], cwd=work, env=env)
    assert validated.returncode == 2 and "not in a solutions repository" in validated.stderr

    # A fail-fast submission graded against the packaged exercise (full spec, default exercise): a real verdict.
    (work / "two_convolutions.py").write_bytes((FIXTURES / "two_convolutions.py").read_bytes())
    graded = _run([str(cnngrade), "two_convolutions.py", "--data", str(mnist_path), "-o", "report.json",
                   "--timeout", "300"], cwd=work, env=env, timeout=400)
    assert graded.returncode == 1, graded.stdout[-3000:] + graded.stderr[-3000:]
    assert "Traceback" not in graded.stdout + graded.stderr
    assert graded.stdout.splitlines()[0].startswith(f"cnngrade {__version__} - exercise mnist-single-conv 1.0.0 - ")
    report = json.loads((work / "report.json").read_text())
    details = report["extra_data"]
    assert (details["exercise_id"], details["exercise_version"]) == ("mnist-single-conv", "1.0.0")
    assert details["status"] == "failed" and details["epochs_run"] == 0
    failed = [t["extra_data"]["check"] for t in report["tests"] if t["status"] == "failed"]
    assert failed[0] == "architecture"
    arch = next(t for t in report["tests"] if t["extra_data"]["check"] == "architecture")
    assert "found 2 convolution layers" in arch["output"]
    assert f"Exercise mnist-single-conv 1.0.0, graded by cnngrade {__version__}." in report["output"].splitlines()
