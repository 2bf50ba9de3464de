"""The Click layer: help, exit codes, JSON output (CliRunner, in-process; grading still runs in children)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from conftest import FIXTURES, SMALL_SPEC
from grader.cli import main


def test_help_lists_commands_and_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "schema" in result.output and "submit" in result.output and "3  could not grade" in result.output


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


def test_cli_does_not_import_tensorflow() -> None:
    code = "import sys, grader.cli, grader.api, grader.batch.coordinator; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_relative_data_path_and_output_in_cwd(tmp_path: Path, mnist_path: Path, monkeypatch) -> None:
    """Paths as a user types them: relative --data, results written in the current folder."""
    monkeypatch.chdir(mnist_path.parent)
    result = CliRunner().invoke(main, [str(FIXTURES / "two_convolutions.py"), "-e", str(SMALL_SPEC), "--data",
                                       mnist_path.name, "-o", str(tmp_path / "r.json"), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "found 2 convolution layers" in result.output


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
