"""Where ``--exercise ID`` comes from (issue 11): an explicit spec path, $CNNGRADE_EXERCISES, the solutions repository
the command runs in (found from the current folder upwards), the exercises built into the package; check and
validate use only a solutions repository and say which; ``cnngrade starter``; ``--version``; one line and exit 3,
never a traceback, for an unexpected error. All in-process with CliRunner except where a real terminal stream is
needed; nothing here trains."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, SMALL_SPEC

from grader import __version__
from grader.cli import main
from grader.errors import SpecError
from grader.exercises import builtin_root, locate_exercise, solutions_repository

SHIPPED = ROOT / "exercises" / "mnist-single-conv"


def _exercise(root: Path, ex_id: str, version: str, *, starter: bool = True) -> Path:
    """An exercise folder ``root/<ex_id>`` (the small test spec under another id and version)."""
    folder = root / ex_id
    folder.mkdir(parents=True)
    text = SMALL_SPEC.read_text().replace('id = "mnist-single-conv-small"', f'id = "{ex_id}"')
    (folder / "exercise.toml").write_text(text.replace('version = "1.0.0-test"', f'version = "{version}"'))
    if starter:
        (folder / "starter.ipynb").write_bytes((SHIPPED / "starter.ipynb").read_bytes())
    return folder


@pytest.fixture()
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current folder outside any solutions repository, with no $CNNGRADE_EXERCISES."""
    folder = tmp_path / "student"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("CNNGRADE_EXERCISES", raising=False)
    assert solutions_repository() is None, "the test needs a temp folder outside any solutions repository"
    return folder


@pytest.fixture()
def course(tmp_path: Path) -> Path:
    """A solutions repository with its own mnist-single-conv (version 7-repo) and a hw2 exercise."""
    repo = tmp_path / "course"
    _exercise(repo / "exercises", "mnist-single-conv", "7-repo")
    _exercise(repo / "exercises", "hw2", "2.0")
    (repo / "solutions" / "hw2" / "known-bad").mkdir(parents=True)
    return repo


def test_outside_any_repository_the_builtin_exercise_is_used(nowhere: Path) -> None:
    located = locate_exercise(None)
    assert located.source.kind == "builtin" and located.spec is not None and located.spec.id == "mnist-single-conv"
    assert located.folder.resolve() == (builtin_root() / "mnist-single-conv").resolve()
    assert (located.folder / "starter.ipynb").read_bytes() == (SHIPPED / "starter.ipynb").read_bytes()


def test_lookup_order(nowhere: Path, course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = course / "solutions" / "hw2" / "known-bad"
    monkeypatch.chdir(deep)  # found from the current folder upwards
    assert solutions_repository() == course
    repo_one = locate_exercise("mnist-single-conv")
    assert repo_one.source.kind == "repository" and repo_one.spec.version == "7-repo"
    assert repo_one.source.describe() == f"solutions repository {course}"
    # $CNNGRADE_EXERCISES comes before the solutions repository (several folders: the first holding the id wins).
    env_a, env_b = tmp_path / "env-a", tmp_path / "env-b"
    _exercise(env_b, "mnist-single-conv", "5-env")
    _exercise(env_a, "other", "1")
    monkeypatch.setenv("CNNGRADE_EXERCISES", f"{env_a}{os.pathsep}{env_b}")
    from_env = locate_exercise("mnist-single-conv")
    assert from_env.source.kind == "env" and from_env.spec.version == "5-env"
    assert from_env.folder == env_b / "mnist-single-conv"
    assert locate_exercise("hw2").source.kind == "repository"  # not in the environment's folders: the repository's
    # An explicit spec path beats everything, as a file or as a folder holding exercise.toml.
    explicit = _exercise(tmp_path / "mine", "mnist-single-conv", "3-path")
    for ref in (explicit, explicit / "exercise.toml", str(explicit)):
        located = locate_exercise(ref)
        assert located.source.kind == "path" and located.spec.version == "3-path"
    # Outside the repository, without the variable: the package's own.
    monkeypatch.delenv("CNNGRADE_EXERCISES")
    monkeypatch.chdir(nowhere)
    assert locate_exercise("mnist-single-conv").spec.version == "1.0.0"
    with pytest.raises(SpecError) as err:
        locate_exercise("hw2")
    assert "no exercise 'hw2'" in str(err.value) and "built into cnngrade" in str(err.value)


def test_a_students_folder_named_like_the_exercise_is_not_a_spec_path(nowhere: Path) -> None:
    """A bare word is a path only when it names a spec or a folder holding one; a work folder of that name is not."""
    (nowhere / "mnist-single-conv").mkdir()
    (nowhere / "mnist-single-conv" / "notes.md").write_text("my work\n")
    assert locate_exercise("mnist-single-conv").source.kind == "builtin"
    with pytest.raises(SpecError, match="no exercise spec there"):
        locate_exercise("./mnist-single-conv")  # written as a path: it must be one
    with pytest.raises(SpecError, match="no exercise spec there"):
        locate_exercise("missing/exercise.toml")


def test_an_invalid_spec_found_by_id_names_file_and_field(nowhere: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _exercise(tmp_path / "env", "broken", "1")
    spec = folder / "exercise.toml"
    spec.write_text(spec.read_text().replace("epoch_budget = 12", "epoch_budget = -3"))
    monkeypatch.setenv("CNNGRADE_EXERCISES", str(tmp_path / "env"))
    result = CliRunner().invoke(main, ["starter", "broken"])
    assert result.exit_code == 2 and str(spec) in result.output and "goal.epoch_budget" in result.output


def test_exercises_lists_every_source_and_what_is_shadowed(nowhere: Path, course: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "env"
    _exercise(env, "hw2", "2.1-env")
    monkeypatch.setenv("CNNGRADE_EXERCISES", str(env))
    monkeypatch.chdir(course / "exercises")
    result = CliRunner().invoke(main, ["exercises"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "hw2 2.1-env: MNIST single convolution" in text and f"from: $CNNGRADE_EXERCISES folder {env}" in text
    assert "hw2 2.0: " in text
    assert f"NOT USED: --exercise hw2 finds the one from $CNNGRADE_EXERCISES folder {env}" in text
    assert "mnist-single-conv 7-repo" in text and f"from: solutions repository {course}" in text
    assert "mnist-single-conv 1.0.0" in text and "from: built into cnngrade" in text
    assert "NOT USED: --exercise mnist-single-conv finds the one from solutions repository" in text
    assert "0 solution(s), 0 known-bad example(s)" in text  # the repository's exercises show their solutions
    # The order of the listing is the lookup order.
    assert text.index("2.1-env") < text.index("7-repo") < text.index("mnist-single-conv 1.0.0")


def test_exercises_help_states_the_lookup_order() -> None:
    text = " ".join(CliRunner().invoke(main, ["exercises", "--help"]).output.split())
    order = ["explicit spec path", "$CNNGRADE_EXERCISES", "solutions repository the command runs in",
             "built into the installed package"]
    positions = [text.index(step) for step in order]
    assert positions == sorted(positions)
    assert "from the current folder upwards, with exercises/<id>/exercise.toml" in text


def test_version_names_each_exercise_and_its_version(nowhere: Path, course: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    outside = CliRunner().invoke(main, ["--version"])
    assert outside.exit_code == 0
    lines = outside.output.splitlines()
    assert lines[0] == f"cnngrade {__version__}"
    assert any(line.split()[:2] == ["mnist-single-conv", "1.0.0"] and "built into cnngrade" in line for line in lines)
    monkeypatch.chdir(course)
    inside = CliRunner().invoke(main, ["--version"]).output.splitlines()
    assert any(line.split()[:2] == ["hw2", "2.0"] and f"solutions repository {course}" in line for line in inside)
    assert any(line.split()[:2] == ["mnist-single-conv", "7-repo"] for line in inside)
    assert not any(line.split()[:2] == ["mnist-single-conv", "1.0.0"] for line in inside)  # shadowed: not used here


def _named_repository(output: str) -> bool:
    return any(line.startswith("solutions repository:") for line in output.splitlines())


@pytest.mark.parametrize("command", ["check", "validate"])
def test_check_and_validate_outside_a_repository_are_usage_errors(command: str, nowhere: Path) -> None:
    """Never silently the grader's own checkout: no '1 exercise(s), 0 problem(s)', no 10-minute check of it."""
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 2, result.output
    assert f"not in a solutions repository: neither {nowhere} nor any folder above it" in result.output
    assert f"cnngrade {command} REPO" in result.output
    assert "exercise(s)" not in result.output and "checks hold" not in result.output
    assert not _named_repository(result.output)  # nothing named: nothing used


def test_check_and_validate_name_the_repository_they_use(course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CNNGRADE_EXERCISES", raising=False)
    monkeypatch.chdir(course / "solutions" / "hw2")
    validated = CliRunner().invoke(main, ["validate"])
    assert validated.output.splitlines()[0] == f"solutions repository: {course}"
    assert "2 exercise(s)" in validated.output  # the course's two, not the grader's one
    named = CliRunner().invoke(main, ["validate", str(ROOT)])
    assert named.exit_code == 0 and named.output.splitlines()[0] == f"solutions repository: {ROOT}"
    # check names it before anything else (hw2 has nothing to grade: its missing solution is a failing case).
    checked = CliRunner().invoke(main, ["check", "-e", "hw2"])
    assert checked.exit_code == 1 and checked.output.splitlines()[0] == f"solutions repository: {course}"
    assert "no reference solution" in checked.output
    unknown = CliRunner().invoke(main, ["check", "-e", "nope"])  # refused before naming a repository it will not use
    assert unknown.exit_code == 2 and "no exercise 'nope'" in unknown.output and not _named_repository(unknown.output)


def test_starter_writes_the_notebook(nowhere: Path) -> None:
    result = CliRunner().invoke(main, ["starter", "-o", "work"])
    assert result.exit_code == 0, result.output
    written = nowhere / "work" / "mnist-single-conv.ipynb"
    assert written.read_bytes() == (SHIPPED / "starter.ipynb").read_bytes()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask  # as any new file, like a released starter
    assert "exercise mnist-single-conv 1.0.0" in result.output
    assert "cnngrade work/mnist-single-conv.ipynb" in result.output
    # The student's work is never overwritten silently.
    written.write_text("my work")
    again = CliRunner().invoke(main, ["starter", "mnist-single-conv", "-o", "work"])
    assert again.exit_code == 2 and "exists already" in again.output and "--force" in again.output
    assert written.read_text() == "my work"
    forced = CliRunner().invoke(main, ["starter", "-o", "work", "--force"])
    assert forced.exit_code == 0 and written.read_bytes() == (SHIPPED / "starter.ipynb").read_bytes()
    here = CliRunner().invoke(main, ["starter"])  # default folder: the current one
    assert here.exit_code == 0 and (nowhere / "mnist-single-conv.ipynb").is_file()


def test_starter_refuses_before_writing(nowhere: Path, tmp_path: Path) -> None:
    blocker = nowhere / "a-file"
    blocker.write_text("x")
    for target in (blocker, blocker / "sub"):
        result = CliRunner().invoke(main, ["starter", "-o", str(target)])
        assert result.exit_code == 2 and "-o" in result.output, result.output
    unknown = CliRunner().invoke(main, ["starter", "hw9", "-o", "out"])
    assert unknown.exit_code == 2 and "no exercise 'hw9'" in unknown.output
    bare = _exercise(tmp_path / "bare", "bare", "1", starter=False)
    missing = CliRunner().invoke(main, ["starter", str(bare), "-o", "out"])
    assert missing.exit_code == 2 and "has no starter notebook" in missing.output
    assert not (nowhere / "out").exists()
    helped = " ".join(CliRunner().invoke(main, ["starter", "--help"]).output.split())
    assert all(f" {code} " in helped for code in ("0", "2", "3")) and "--force" in helped


# --- no traceback, ever ---------------------------------------------------------------------------------------------

def _one_line_exit_3(output: str, stderr: str, cache: Path) -> Path:
    assert "Traceback" not in output
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cnngrade: unexpected error"), stderr
    logs = sorted((cache / "cnngrade").glob("cnngrade-crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in lines[0]
    return logs[0]


def test_an_unexpected_error_is_one_line_exit_3_and_a_log(nowhere: Path, tmp_path: Path) -> None:
    """A real unexpected error: a 300-character folder name makes batch discovery's stat() fail with ENAMETOOLONG
    (grader/batch/discover.py does not expect it). Were that fixed, pick another real one: no test-only hook."""
    cache = tmp_path / "cache"
    long_name = "a" * 300
    result = CliRunner().invoke(main, ["grade", long_name, "-o", str(tmp_path / "results")],
                                env={"XDG_CACHE_HOME": str(cache)})
    assert result.exit_code == 3, result.output
    log = _one_line_exit_3(result.stdout, result.stderr, cache)
    assert "File name too long" in result.stderr
    details = log.read_text()
    assert "Traceback (most recent call last)" in details and "OSError" in details
    assert f"command: cnngrade grade {long_name}" in details


def test_a_failing_standard_output_is_one_line_exit_3(tmp_path: Path) -> None:
    """The machine's fault, through the real entry point: stdout on a full disk (/dev/full)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    cache = tmp_path / "cache"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(cache)}
    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-m", "grader", "schema"], check=False, stdout=full, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 3
    log = _one_line_exit_3("", run.stderr, cache)
    assert "No space left on device" in run.stderr and "Exception ignored" not in run.stderr
    assert "Traceback" in log.read_text()


def test_usage_errors_are_not_crashes(tmp_path: Path) -> None:
    """click's own ways out keep their codes: a usage error is 2, not an 'unexpected error'."""
    result = CliRunner().invoke(main, ["grade"], env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.exit_code == 2 and "unexpected error" not in result.output
    assert not list(tmp_path.rglob("*.log"))
