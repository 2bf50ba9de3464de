"""The Click layer: help, exit codes, JSON output (CliRunner, in-process; grading still runs in children)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT, SMALL_SPEC
from grader import __version__
from grader.cli import main


def test_help_lists_commands_and_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "schema" in result.output and "submit" in result.output and "could not grade" in result.output


def test_submit_help_has_every_option() -> None:
    result = CliRunner().invoke(main, ["submit", "--help"])
    for option in ("--exercise", "--data", "--seed", "--full", "--cpu", "--timeout", "--output", "--json"):
        assert option in result.output


def test_schema_is_json_schema_of_the_report() -> None:
    result = CliRunner().invoke(main, ["schema"])
    schema = json.loads(result.output)
    assert result.exit_code == 0 and {"score", "max_score", "tests", "extra_data"} <= set(schema["properties"])


def test_missing_file_is_exit_2() -> None:
    result = CliRunner().invoke(main, ["no/such/file.ipynb"])
    assert result.exit_code == 2 and "no such file" in result.output


def test_bad_exercise_is_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "exercise.toml"
    spec.write_text('id = "BAD ID"\nversion = "1"\ntitle = "t"\n')
    result = CliRunner().invoke(main, [str(FIXTURES / "empty.py"), "--exercise", str(spec)])
    assert result.exit_code == 2 and "id:" in result.output


def test_missing_data_is_exit_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [str(FIXTURES / "empty.py"), "--data", str(tmp_path)])
    assert result.exit_code == 3 and "CNNGRADE_DATA" in result.output


def test_broken_submission_is_graded_and_written(tmp_path: Path, mnist_path: Path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, [str(FIXTURES / "malformed.ipynb"), "--data", str(mnist_path), "-o", str(out)])
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    assert report["score"] == 0 and report["extra_data"]["status"] == "error"
    assert "malformed" in report["tests"][0]["output"]


def test_fail_fast_run_through_the_cli(tmp_path: Path, mnist_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, [str(FIXTURES / "two_convolutions.py"), "-e", str(SMALL_SPEC), "--data",
                                       str(mnist_path), "--json", "-o", str(out)])
    assert result.exit_code == 1
    printed = json.loads(result.stdout)
    assert printed == json.loads(out.read_text())
    arch = next(t for t in printed["tests"] if t["extra_data"]["check"] == "architecture")
    assert arch["status"] == "failed" and "found 2 convolution layers" in arch["output"]
    # The exercise's version, in the data and in the text Gradescope shows (issue 11: a regraded class can tell).
    assert (printed["extra_data"]["exercise_id"], printed["extra_data"]["exercise_version"]) == (
        "mnist-single-conv-small", "1.0.0-test")
    assert printed["output"].splitlines()[-1] == (
        f"Exercise mnist-single-conv-small 1.0.0-test, graded by cnngrade {__version__}.")


def test_cli_does_not_import_tensorflow() -> None:
    code = ("import sys, grader.cli, grader.api, grader.batch.coordinator; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_relative_data_path_and_output_in_cwd(tmp_path: Path, mnist_path: Path, monkeypatch) -> None:
    """Paths as a user types them: relative --data, results written in the current folder."""
    monkeypatch.chdir(mnist_path.parent)
    result = CliRunner().invoke(main, [str(FIXTURES / "two_convolutions.py"), "-e", str(SMALL_SPEC), "--data",
                                       mnist_path.name, "-o", str(tmp_path / "r.json"), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "found 2 convolution layers" in result.output
    assert result.stdout.splitlines()[0].startswith(
        f"cnngrade {__version__} - exercise mnist-single-conv-small 1.0.0-test - ")


def test_grade_command_help_and_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    helped = runner.invoke(main, ["grade", "--help"])
    assert helped.exit_code == 0 and "--cluster" in helped.output and "130" in helped.output
    missing = runner.invoke(main, ["grade", str(tmp_path / "nope"), "-o", str(tmp_path / "r")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    bad_pattern = runner.invoke(main, ["grade", str(tmp_path), "-o", str(tmp_path / "r"), "--pattern", r"(\w+)"])
    assert bad_pattern.exit_code == 2 and "(?P<student>" in bad_pattern.output
    no_output = runner.invoke(main, ["grade", str(tmp_path)])
    assert no_output.exit_code == 2 and "--output" in no_output.output


# --- issue 10: no option silently ignored, every output path checked before any work, typos caught ---------------

def _no_grading(monkeypatch) -> None:
    """Make any grading fail the test: the checks below must stop the command before it grades anything."""
    import grader.api
    import grader.batch.coordinator

    def refuse(**_: object) -> None:
        raise AssertionError("grading started although the command line was invalid")

    monkeypatch.setattr(grader.api, "grade", refuse)
    monkeypatch.setattr(grader.batch.coordinator, "grade_batch", refuse)


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "1e-300"])
@pytest.mark.parametrize("command", ["submit", "grade"])
def test_negative_timeout_is_a_usage_error(command: str, value: str, tmp_path: Path, monkeypatch) -> None:
    _no_grading(monkeypatch)
    target = ([str(FIXTURES / "two_convolutions.py")] if command == "submit"
              else [str(FIXTURES), "-o", str(tmp_path / "r")])
    result = CliRunner().invoke(main, [command, *target, "--timeout", value])
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.output and "above 0" in result.output
    assert not (tmp_path / "r").exists()


def test_positive_timeout_is_accepted(monkeypatch) -> None:
    import grader.api
    from grader.errors import UsageError

    seen: dict[str, object] = {}

    def fake_grade(**kwargs: object) -> None:
        seen.update(kwargs)
        raise UsageError("stopped by the test")

    monkeypatch.setattr(grader.api, "grade_with_feedback", fake_grade)  # what submit calls (it may write HTML)
    result = CliRunner().invoke(main, ["submit", str(FIXTURES / "two_convolutions.py"), "--timeout", "1.5"])
    assert result.exit_code == 2 and "stopped by the test" in result.output and seen["timeout_s"] == 1.5


def test_output_folder_for_submit_is_refused_before_grading(tmp_path: Path, monkeypatch) -> None:
    _no_grading(monkeypatch)
    result = CliRunner().invoke(main, ["submit", str(FIXTURES / "two_convolutions.py"), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path} is a folder" in result.output and "results.json" in result.output


def test_output_file_for_grade_is_refused_before_grading(tmp_path: Path, monkeypatch) -> None:
    _no_grading(monkeypatch)
    taken = tmp_path / "results"
    taken.write_text("not a folder\n")
    result = CliRunner().invoke(main, ["grade", str(FIXTURES), "-o", str(taken)])
    assert result.exit_code == 2
    assert f"{taken} is a file" in result.output and "folder" in result.output
    assert taken.read_text() == "not a folder\n"


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: a read-only one, or /sys when running as root."""
    if os.geteuid() == 0:
        if not Path("/sys").is_dir() or _can_create_in(Path("/sys")):
            pytest.skip("no folder a root process cannot write in")
        return Path("/sys")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def _can_create_in(folder: Path) -> bool:
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("command", ["submit", "grade", "check", "release"])
def test_output_that_cannot_be_written_is_refused_before_grading(command: str, tmp_path: Path, monkeypatch) -> None:
    """Whatever the command: an output under a file, or in a folder we cannot write in, is exit 2 up front."""
    _no_grading(monkeypatch)
    import grader.authoring.check

    monkeypatch.setattr(grader.authoring.check, "run_check", lambda **_: pytest.fail("check started"))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    locked = _unwritable_folder(tmp_path)
    solution = ROOT / "solutions" / "mnist-single-conv" / "reference_notebook.ipynb"
    for target in (blocker / "out" / "x.json", locked / "x.json"):
        args = {"submit": ["submit", str(FIXTURES / "two_convolutions.py"), "-o", str(target)],
                "grade": ["grade", str(FIXTURES), "-o", str(target)],
                "check": ["check", str(ROOT), "--junit", str(target)],
                "release": ["release", str(solution), "-o", str(target)]}[command]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "cannot write" in result.output
        assert ("is a file, not a folder" if target.is_relative_to(blocker) else "cannot write in") in result.output


def test_junit_folder_is_refused_before_checking(tmp_path: Path, monkeypatch) -> None:
    import grader.authoring.check

    monkeypatch.setattr(grader.authoring.check, "run_check", lambda **_: pytest.fail("check started"))
    result = CliRunner().invoke(main, ["check", str(ROOT), "--junit", str(tmp_path)])
    assert result.exit_code == 2 and f"{tmp_path} is a folder" in result.output


def test_output_in_a_new_folder_is_accepted(tmp_path: Path, mnist_path: Path) -> None:
    """A report path whose folders do not exist yet is fine (they are created): a real fail-fast grading."""
    out = tmp_path / "new" / "deeper" / "r.json"
    result = CliRunner().invoke(main, [str(FIXTURES / "two_convolutions.py"), "-e", str(SMALL_SPEC), "--data",
                                       str(mnist_path), "-o", str(out), "--quiet", "--timeout", "120"])
    assert result.exit_code == 1, result.output
    assert json.loads(out.read_text())["extra_data"]["status"] == "failed"


@pytest.mark.parametrize("typo, meant", [("gradee", "grade"), ("chek", "check"), ("sumbit", "submit"),
                                         ("valdate", "validate"), ("exercise", "exercises"), ("startr", "starter")])
def test_subcommand_typo_suggests_grade(typo: str, meant: str, tmp_path: Path, monkeypatch) -> None:
    _no_grading(monkeypatch)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [typo, "x", "-o", "results"])
    assert result.exit_code == 2
    assert f"no such command '{typo}'; did you mean '{meant}'?" in result.output


def test_file_named_like_a_command_is_still_graded(tmp_path: Path, monkeypatch) -> None:
    """A word close to a command that names an existing file is a submission (``cnngrade gradee`` with that file)."""
    import grader.api

    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(main, ["submit.ipynb"])  # a file name, not a typo: says the file is missing
    assert missing.exit_code == 2 and "submit.ipynb: no such file" in missing.output
    graded: list[object] = []
    monkeypatch.setattr(grader.api, "grade_with_feedback", lambda **kw: graded.append(kw["submission"]) or sys.exit(9))
    (tmp_path / "gradee").write_text("print(1)\n")
    result = CliRunner().invoke(main, ["gradee"])
    assert result.exit_code == 9 and graded == [Path("gradee")]


@pytest.mark.parametrize("args", [[], ["submit"]])
def test_folder_as_submission_suggests_grade(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*args, str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path} is a folder" in result.output and f"cnngrade grade {tmp_path} -o RESULTS" in result.output


def test_empty_class_is_a_usage_error_unless_allowed(tmp_path: Path) -> None:
    """An empty class folder is almost always a wrong path: exit 2, unless --allow-empty."""
    folder = tmp_path / "class"
    folder.mkdir()
    empty = CliRunner().invoke(main, ["grade", str(folder), "-o", str(tmp_path / "r1"), "-e", str(SMALL_SPEC)])
    assert empty.exit_code == 2 and "--allow-empty" in empty.output
    allowed = CliRunner().invoke(main, ["grade", str(folder), "-o", str(tmp_path / "r2"), "-e", str(SMALL_SPEC),
                                        "--allow-empty", "--quiet"])
    assert allowed.exit_code == 0, allowed.output
    assert "0 students" in allowed.output and (tmp_path / "r2" / "grades.csv").is_file()
    helped = CliRunner().invoke(main, ["grade", "--help"])
    assert "--allow-empty" in helped.output and "no students found unless" in " ".join(helped.output.split())


COMMANDS = ["submit", "grade", "check", "validate", "exercises", "starter", "release", "schema"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_no_literal_backslash_b(command: str | None) -> None:
    result = CliRunner().invoke(main, [command, "--help"] if command else ["--help"])
    assert result.exit_code == 0 and "\\b" not in result.output


def test_top_level_help_lists_every_commands_exit_codes() -> None:
    text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    codes = text[text.index("Exit codes"):]
    for code in ("0", "1", "2", "3", "130"):
        assert f" {code} " in codes
    for command in ("submit", "grade", "check", "validate"):
        assert command in codes
    assert "143" in codes and "--allow-empty" in codes and "no exercise found" in codes
    # Each command's own help agrees with the summary on the codes it can return.
    own = {c: " ".join(CliRunner().invoke(main, [c, "--help"]).output.split()) for c in ("submit", "grade", "check",
                                                                                         "validate")}
    assert all(f" {code} " in own["submit"] for code in ("0", "1", "2", "3"))
    assert all(f" {code} " in own["grade"] for code in ("0", "2", "3", "130")) and "143" in own["grade"]
    assert all(f" {code} " in own["check"] for code in ("0", "1", "2", "3"))
    assert all(f" {code} " in own["validate"] for code in ("0", "1", "2"))
