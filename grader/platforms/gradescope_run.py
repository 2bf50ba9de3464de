"""The grading run inside the autograder's container (``python -m grader.platforms.gradescope_run``).

``grade ROOT``: grade the submission in ``ROOT/submission`` (Gradescope's ``/autograder`` layout) and write
``ROOT/results/results.json``, always: an empty submission, the wrong file type, several candidates, or the grader
itself failing all end in a valid results file with a message for the student and ``extra_data.status`` set to
``not_graded``. ``prepare SOURCE``: setup.sh's last step, verify the shipped dataset or fetch it into the image.
"""
from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from grader.errors import CnngradeError
from grader.platforms.gradescope_config import AutograderConfig, read_config
from grader.platforms.gradescope_results import results_json
from grader.platforms.gradescope_submission import find_submission
from grader.report import Report, write_atomic

GRADER_SIDE = ("The autograder could not grade your submission because of a problem on the grading side, not in "
               "your work. Your instructor can see the details; please tell them.")


def _data(config: AutograderConfig, source: Path) -> str | None:
    return str(source / config.data_file) if config.data_file else None


def prepare(source: Path) -> None:
    """Verify the dataset in the zip, or download and verify it into Keras' cache ($KERAS_HOME, set by setup.sh);
    an arrays exercise needs SciPy's ascent image instead, kept in cnngrade's cache ($XDG_CACHE_HOME, set by
    setup.sh) wherever it was found, so grading finds it there without network."""
    config = read_config(source)
    if config.exercise.kind == "arrays":
        from grader.arrays.ascent import cache_path, find_ascent

        ascent = find_ascent(_data(config, source))
        if config.data_file is None and ascent.path != cache_path():
            write_atomic(cache_path(), ascent.path.read_bytes())
        print(f"cnngrade: ascent image verified ({ascent.source})")
        return
    from grader.data import resolve_dataset

    path = resolve_dataset(config.exercise.dataset.name, data=_data(config, source))
    print(f"cnngrade: dataset {config.exercise.dataset.name} verified: {path}")


def _not_graded(config: AutograderConfig, message: str, *, shown: str = "(nothing graded)",
                detail: str | None = None) -> Report:
    from grader.api import not_graded_report

    report = not_graded_report(spec=config.exercise, shown=shown, sha256="", error=message)
    if detail:  # for the instructor: extra_data is not shown to students
        notes = [detail, *report.extra_data.notes]
        report = report.model_copy(update={"extra_data": report.extra_data.model_copy(update={"notes": notes})})
    return report


def _grade(config: AutograderConfig, root: Path) -> Report:
    from grader.api import grade, with_notes

    found = find_submission(root / "submission", config.exercise)
    if found.path is None:
        return _not_graded(config, found.message or "nothing to grade")
    shown = found.path.relative_to(root / "submission").as_posix()
    try:
        report = grade(submission=found.path, exercise=config.exercise, data=_data(config, root / "source"),
                       cpu=config.base == "cpu", timeout_s=config.timeout_s, hide=(root / "results",),
                       progress=lambda text: print(f"  .. {text}", flush=True))
    except CnngradeError as exc:
        print(f"cnngrade: not graded: {exc}", flush=True)
        return _not_graded(config, GRADER_SIDE, shown=shown, detail=str(exc))
    # The file as the student named it, not where this machine unpacked it.
    report = report.model_copy(update={"extra_data": report.extra_data.model_copy(update={"submission": shown})})
    return with_notes(report, [found.message] if found.message else [])


def _as_html(report: Report) -> Report:
    """The outputs as HTML with the training curve (Gradescope shows images only in html or md outputs); the plain
    report when drawing fails, so a plotting problem never costs the student the results."""
    try:
        from grader.html.gradescope import for_gradescope

        return for_gradescope(report)
    except Exception:  # noqa: BLE001 - the text report is still right
        traceback.print_exc(file=sys.stdout)
        return report


def grade_root(root: Path) -> int:
    """Grade ``root``'s submission; returns 0 whenever a results file was written (it always is, but for a root
    whose configuration cannot be read, where the shell's fallback writes it)."""
    started = time.monotonic()
    config = read_config(root / "source")
    try:
        report = _grade(config, root)
    except Exception as exc:  # noqa: BLE001 - a bug must still leave the student a results file
        traceback.print_exc(file=sys.stdout)
        report = _not_graded(config, GRADER_SIDE, detail=f"{type(exc).__name__}: {exc}")
    if report.execution_time == 0.0:
        report = report.model_copy(update={"execution_time": round(time.monotonic() - started, 2)})
    if config.output_format == "html":
        report = _as_html(report)
    write_atomic(root / "results" / "results.json", results_json(report, config))
    print(f"cnngrade: {report.extra_data.status}, {report.score:g}/{report.max_score:g}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("grade", "prepare"):
        print("usage: python -m grader.platforms.gradescope_run grade ROOT | prepare SOURCE", file=sys.stderr)
        return 2
    try:
        if argv[0] == "prepare":
            prepare(Path(argv[1]))
            return 0
        return grade_root(Path(argv[1]))
    except CnngradeError as exc:
        print(f"cnngrade: {exc}", file=sys.stderr)
        return int(exc.exit_code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
