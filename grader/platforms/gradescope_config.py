"""What a built autograder zip says about itself: ``cnngrade-autograder.json`` beside ``setup.sh`` and
``run_autograder``, read by the grading run inside the container (and by ``cnngrade gradescope run``).

The exercise spec travels inside it (validated by the same frozen model as ``exercise.toml``), so grading on the
platform needs no exercise lookup, and a zip built from a test spec grades exactly that spec.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.errors import UsageError
from grader.spec import ExerciseSpec

CONFIG_FILE = "cnngrade-autograder.json"
SETUP = "setup.sh"
RUN = "run_autograder"
INSTALL = "install.sh"  # the install steps shared with the Dockerfiles and CI (grader/platforms/install.sh)
DATA_FOLDER = "data"
ROOT_VARIABLE = "CNNGRADE_AUTOGRADER_ROOT"  # the platform's /autograder; a scratch folder for the local run
PYTHON_VARIABLE = "CNNGRADE_PYTHON"  # the interpreter run_autograder uses; the local run passes its own
PREFIX = "/opt/cnngrade"  # where setup.sh installs the virtual environment and fetched datasets in the image
Visibility = Literal["visible", "after_published", "hidden"]
OutputFormat = Literal["html", "text"]


class AutograderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config_version: Literal[1] = 1
    grader_version: str
    exercise: ExerciseSpec
    visibility: Visibility = "visible"
    leaderboard: bool = False
    timeout_s: float | None = Field(default=None, gt=0)
    base: Literal["cpu", "gpu"] = "cpu"
    # How each check's output reaches Gradescope: "html" (Gradescope's output_format) embeds the training curve,
    # the plain text kept in each test's extra_data.text; "text" is the plain report.
    output_format: OutputFormat = "html"
    wheel: str = Field(min_length=1)  # file name of the cnngrade wheel inside the zip
    # The dataset file shipped in the zip (verified at build time), relative to the source folder; None: setup.sh
    # fetches it into the image and verifies it there.
    data_file: str | None = None


def read_config(source: Path) -> AutograderConfig:
    path = source / CONFIG_FILE
    try:
        return AutograderConfig.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the autograder's configuration ({exc.strerror or exc}); "
                         "is this a zip made by `cnngrade gradescope build`?") from exc
    except (ValidationError, ValueError) as exc:
        raise UsageError(f"{path}: not a valid autograder configuration: {exc}") from exc


def config_json(config: AutograderConfig) -> str:
    return json.dumps(config.model_dump(mode="json"), indent=2) + "\n"
