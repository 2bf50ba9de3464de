from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "mnist-single-conv"
SOLUTIONS = ROOT / "solutions" / "mnist-single-conv"
SMALL_SPEC = ROOT / "tests" / "specs" / "mnist-small.toml"


def _data_path() -> Path | None:
    for candidate in (os.environ.get("CNNGRADE_DATA"), ROOT.parent / "shared" / "data" / "mnist.npz"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = _data_path()
    if path is None:
        pytest.fail("MNIST not found: set CNNGRADE_DATA to mnist.npz (see README)")
    return path if path.is_file() else path / "mnist.npz"
