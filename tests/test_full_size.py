"""End to end on the whole of MNIST with the shipped exercise spec: the real thing, about 2-3 minutes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SOLUTIONS


@pytest.mark.slow
def test_reference_notebook_passes_on_full_mnist(tmp_path: Path, mnist_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "grader", str(SOLUTIONS / "reference_notebook.ipynb"),
                           "--data", str(mnist_path), "-o", str(out), "--quiet"], capture_output=True, text=True,
                          timeout=1200)
    report = json.loads(out.read_text())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = report["extra_data"]
    assert report["score"] == report["max_score"]
    assert d["exercise_id"] == "mnist-single-conv" and d["epochs_run"] < 20
    assert d["history"][d["stop_epoch"] - 1]["accuracy"] > 0.998
    assert d["train_accuracy"] >= 0.995 and d["test_accuracy"] >= 0.98
    assert "Score: 10/10" in proc.stdout
