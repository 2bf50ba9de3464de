"""One exception hierarchy, mapped to exit codes in one place (see ``exit_code``)."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every ``cnngrade`` command (documented in README and ``--help``)."""

    PASSED = 0  # graded, every check passed
    FAILED = 1  # graded, at least one check failed
    USAGE = 2  # bad arguments, missing file, invalid exercise spec
    NOT_GRADED = 3  # could not grade: data missing, grader environment broken


class CnngradeError(Exception):
    """Base of every error the grader reports to the user instead of crashing."""

    exit_code: ExitCode = ExitCode.NOT_GRADED


class UsageError(CnngradeError):
    """The user asked for something that cannot be done as asked."""

    exit_code = ExitCode.USAGE


class SubmissionNotFoundError(UsageError):
    """The submission path does not exist or is not a file."""


class SpecError(UsageError):
    """An exercise spec is missing or invalid; the message names the file and the field."""


class DataError(CnngradeError):
    """The dataset cannot be found or does not match the canonical arrays."""


class SandboxError(CnngradeError):
    """The isolated run could not be started at all (not the student's fault)."""


class ClusterError(CnngradeError):
    """The distributed engine (a Dask scheduler) cannot be reached or used."""
