"""The attack suite: each attack is a real submission run through the real grader.

Each must end with a clean verdict, the grader alive, nothing left running and nothing written outside the
run's scratch folder. Tests that need namespaces (network, hidden folders, read-only system) are skipped where
bubblewrap cannot build them, and say so.
"""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, SOLUTIONS, leftovers
from grader.api import grade
from grader.isolation import bwrap_works
from grader.limits import Cgroup
from grader.report import Report

ATTACKS = ROOT / "tests" / "attacks"
SPEC = ROOT / "tests" / "specs" / "attack.toml"
full_only = pytest.mark.skipif(not bwrap_works(), reason="needs bubblewrap namespaces (isolation: full)")


def _cgroups_work() -> bool:
    group = Cgroup.create(memory_bytes=1 << 30, max_pids=16)
    if group is not None:
        group.remove()
    return group is not None


# Without a PID namespace or a pids cgroup nothing caps a fork bomb run as root: never run it unconfined.
contained_only = pytest.mark.skipif(not (bwrap_works() or _cgroups_work()), reason="needs namespaces or cgroups")


def _grade(name: str, mnist_path: Path, **kwargs: object) -> Report:
    return grade(submission=ATTACKS / name, exercise=SPEC, data=mnist_path, **kwargs)  # type: ignore[arg-type]


def _ran(report: Report) -> str:
    return report.tests[0].output


def _errors(report: Report) -> str:
    return "\n".join(e.traceback for e in report.extra_data.errors)


@pytest.mark.parametrize("name, timeout", [("sleep_forever.py", 10), ("../fixtures/mnist-single-conv/infinite_loop.py", 10)])
def test_endless_runs_stop_at_the_time_limit(name: str, timeout: float, mnist_path: Path) -> None:
    """Infinite loop, `sleep` forever: killed at the wall-clock limit (`--timeout`), verdict `timeout` naming the cell."""
    started = time.monotonic()
    report = _grade(name, mnist_path, timeout_s=timeout)
    assert "timeout" in _ran(report) and f"{timeout:g} s limit" in _ran(report)
    assert time.monotonic() - started < timeout + 20


def test_input_gets_end_of_file(mnist_path: Path) -> None:
    """`input()`: stdin is empty, the call fails at once with EOFError, reported with its line."""
    report = _grade("input_prompt.py", mnist_path)
    assert "EOFError" in _errors(report)


@contained_only
def test_memory_bomb_is_out_of_memory(mnist_path: Path) -> None:
    """Memory bomb: the cgroup memory cap stops it, verdict `out of memory`."""
    report = _grade("memory_bomb.py", mnist_path)
    assert "out of memory" in _ran(report) and "2048 MB" in _ran(report)


@contained_only
def test_fork_bomb_is_contained(mnist_path: Path) -> None:
    """Fork bomb: the cgroup `pids.max` cap holds it, the time limit ends it, nothing survives."""
    report = _grade("fork_bomb.py", mnist_path, timeout_s=15)
    assert report.tests[0].status == "failed"
    assert not leftovers("fork_bomb.py")


def test_children_and_daemons_are_killed(mnist_path: Path) -> None:
    """50 leftover children and a double-forked setsid daemon: all dead when the run ends (PID namespace, cgroup kill)."""
    outside = Path("/tmp/cnngrade-daemon-was-here")
    outside.unlink(missing_ok=True)
    _grade("leftover_children.py", mnist_path)
    time.sleep(1.5)
    assert not leftovers("sleep 1000") and not leftovers("leftover_children")
    if bwrap_works():
        assert not outside.exists()  # its /tmp was the sandbox's own


@full_only  # without a PID namespace, kill(-1) as root would reach every process of the machine
def test_kill_minus_one_does_not_reach_the_grader(mnist_path: Path) -> None:
    """`os.kill(-1, 9)`: reaches only the sandbox's own processes; the grader and a bystander live."""
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        report = _grade("kill_everything.py", mnist_path)
        assert bystander.poll() is None, "a process outside the sandbox was killed"
        assert report.tests[0].status == "failed"
    finally:
        bystander.kill()


def test_output_flood_is_capped(mnist_path: Path) -> None:
    """1 GB of output: drained through capped pipes, the log and the report stay small."""
    report = _grade("output_flood.py", mnist_path, timeout_s=40)
    assert report.extra_data.status in ("passed", "failed", "error")
    assert len(report.model_dump_json()) < 2_000_000


def test_disk_fill_is_stopped(mnist_path: Path) -> None:
    """Filling the disk: `RLIMIT_FSIZE` per file and a watchdog on the scratch folder stop it."""
    report = _grade("fill_disk.py", mnist_path, timeout_s=40)
    assert "300 MB" in _ran(report) or "File too large" in _errors(report)


@full_only
def test_no_network(mnist_path: Path, tmp_path: Path) -> None:
    """Loopback listener of the host, DNS lookup, `pip install`: no network namespace route, nothing reached."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    Path("/tmp/cnngrade-test-port").write_text(str(server.getsockname()[1]))
    got: list[bytes] = []

    def accept() -> None:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                conn, _ = server.accept()
                got.append(conn.recv(100))
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    report = _grade("network.py", mnist_path)
    server.close()
    assert not got
    assert "NETWORK REACHED" not in _errors(report)
    assert report.tests[0].status == "passed", _errors(report)


@full_only
def test_solutions_and_exercises_are_hidden(mnist_path: Path) -> None:
    """Reading the reference solutions, the exercise folder, other submissions, `$HOME`: hidden, nothing read."""
    report = _grade("read_solutions.py", mnist_path)
    assert "LEAKED" not in _errors(report)
    assert report.tests[0].status == "passed", _errors(report)


@full_only
def test_planted_files_do_not_persist_and_remount_fails(mnist_path: Path) -> None:
    """Planting `keras.json`, a `.pth`, an IPython startup file, `sitecustomize.py`; `mount -o remount,rw /`: the system is read-only, `$HOME` is per run, remount fails, the next submission is unaffected."""  # noqa: E501 (one line: the attack table quotes it)
    import site

    host = [Path.home() / ".keras" / "keras.json", Path.home() / ".ipython/profile_default/startup/00-evil.py"]
    host += [Path(p) / n for p in site.getsitepackages() for n in ("cnngrade_evil.pth", "sitecustomize.py")]
    before = {p: p.exists() and p.read_bytes() for p in host}
    report = _grade("plant_files.py", mnist_path)
    assert "ESCAPED" not in _errors(report), _errors(report)
    assert {p: p.exists() and p.read_bytes() for p in host} == before
    after = grade(submission=SOLUTIONS / "reference_module.py", exercise=SPEC, data=mnist_path)
    passed = {t.extra_data.check for t in after.tests if t.status == "passed"}
    # keras.json did not flip the data format, nothing planted broke the next run
    assert {"ran", "architecture", "test_accuracy"} <= passed


def test_replacing_fit_is_detected(mnist_path: Path) -> None:
    """Monkeypatching `keras.Model.fit` back to Keras' own: detected, the run's record is not trusted, score 0."""
    report = _grade("patch_fit.py", mnist_path)
    assert "replaced cnngrade's interception" in _ran(report)
    assert report.score == 0


def test_shadowing_modules_beside_the_submission_is_harmless(mnist_path: Path, tmp_path: Path) -> None:
    """`numpy.py` and `sitecustomize.py` beside the submission: not imported (`python -I`, folder hidden)."""
    (tmp_path / "numpy.py").write_text("raise SystemExit('shadowed numpy')\n")
    (tmp_path / "sitecustomize.py").write_text("raise SystemExit('sitecustomize ran')\n")
    submission = tmp_path / "submission.py"
    submission.write_text("import numpy\nprint(numpy.__file__)\n")
    report = grade(submission=submission, exercise=SPEC, data=mnist_path)
    assert report.tests[0].status == "passed", _errors(report)


def test_grader_survives_and_leaves_no_scratch(mnist_path: Path) -> None:
    """Any attack: the grader process survives and removes its scratch folder."""
    before = set(Path("/tmp").glob("cnngrade-*"))
    _grade("input_prompt.py", mnist_path)
    assert set(Path("/tmp").glob("cnngrade-*")) - before == set()
    os.kill(os.getpid(), 0)  # still here


def test_readme_lists_every_attack() -> None:
    """README's attack table is generated from this suite: each attack test must appear in it."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- attack-table:start -->", 1)[1].split("<!-- attack-table:end -->", 1)[0]
    names = [n for n in globals() if n.startswith("test_") and n != "test_readme_lists_every_attack"]
    missing = [n for n in names if f"`{n}" not in table]
    assert not missing, f"run python benchmarks/attack_table.py to regenerate README's table: {missing}"


@full_only
def test_other_runs_scratch_is_hidden_when_the_temp_folder_is_not_tmp(mnist_path: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a classmate's running grade (`cnngrade-task-*/submission.py`) when `$TMPDIR` is not `/tmp` (HPC `/scratch`): hidden, nothing read."""  # noqa: E501 (one line: the attack table quotes it)
    import shutil
    import tempfile

    base = Path("/srv") / f"cnngrade-test-tmp-{os.getpid()}"
    try:
        base.mkdir(parents=True)
    except OSError:
        pytest.skip("needs a writable folder outside /tmp for $TMPDIR")
    try:
        classmate = base / "cnngrade-task-abc123" / "submission.py"
        classmate.parent.mkdir()
        classmate.write_text("# a classmate's solution\n")
        attack = tmp_path / "read_classmate.py"
        attack.write_text(f"from pathlib import Path\nif Path({str(classmate)!r}).exists():\n"
                          f"    raise RuntimeError('LEAKED: ' + Path({str(classmate)!r}).read_text())\n")
        monkeypatch.setattr(tempfile, "tempdir", str(base))
        report = grade(submission=attack, exercise=SPEC, data=mnist_path)
        assert "LEAKED" not in _errors(report), _errors(report)
        assert report.tests[0].status == "passed", _errors(report)
    finally:
        shutil.rmtree(base, ignore_errors=True)
