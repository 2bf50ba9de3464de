"""Finding each student's file in the export layouts (no training): fast unit tests on folders built here."""
from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from grader.batch.archives import ArchiveError, extract
from grader.batch.discover import discover
from grader.batch.gradebook import grades_csv, summary
from grader.batch.store import ResultStore, ReuseKey, file_stem
from grader.api import problem_report
from grader.errors import UsageError
from grader.exercises import find_exercise

SOLUTION = "def train_mnist_conv():\n    model.fit(x, y)\n"
SCRIBBLE = "print('just trying things')\n"


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _by_student(root: Path, tmp: Path, **kwargs: object) -> dict[str, object]:
    found = discover(root, staging=tmp / "staging", entry_point="train_mnist_conv", **kwargs)  # type: ignore[arg-type]
    return {e.student: e for e in found.entries}


def test_canvas_resubmission_latest_solution_wins(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"smithjane_1234_5678_hw.ipynb": SOLUTION,
                                    "smithjane_1234_5679_hw-2.py": SOLUTION,
                                    "smithjane_late_1234_5680_scratch-3.py": SCRIBBLE,
                                    "doejohn_99_100_hw.py": SOLUTION, "README.md": "class notes"})
    found = discover(root, staging=tmp_path / "s", entry_point="train_mnist_conv")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"smithjane", "doejohn"} and found.ignored == ["README.md"]
    jane = entries["smithjane"]
    assert jane.layout == "canvas" and jane.chosen is not None
    # The scratch file is the latest upload, but it does not train a model: the latest solution is graded.
    assert jane.chosen.shown == "smithjane_1234_5679_hw-2.py"
    assert "3 files were submitted" in jane.note and "trains a model" in jane.note
    assert entries["doejohn"].note is None


def test_canvas_namesakes_are_told_apart_by_user_id(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"leeamy_111_1_hw.py": SOLUTION, "leeamy_222_2_hw.py": SOLUTION})
    assert set(_by_student(root, tmp_path)) == {"leeamy_111", "leeamy_222"}


def test_gradescope_export_names_students_from_metadata(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {
        "submission_metadata.yml": ("submission_111:\n  :submitters:\n  - :name: Ada Lovelace\n"
                                    "    :email: ada@uni.edu\n    :sid: '1'\n"),
        "submission_111/hw.ipynb": SOLUTION,
        "submission_222/hw.py": SOLUTION,
        "submission_222/submission_metadata.json": json.dumps({"users": [{"email": "alan@uni.edu", "name": "A"}]}),
        "submission_333/hw.py": SOLUTION})
    entries = _by_student(root, tmp_path)
    assert set(entries) == {"ada@uni.edu", "alan@uni.edu", "submission_333"}
    assert {e.layout for e in entries.values()} == {"gradescope"}


def test_nbgrader_submitted_tree(tmp_path: Path) -> None:
    root = _write(tmp_path / "course", {"submitted/alice/ps1/ps1.ipynb": SOLUTION,
                                        "submitted/bob/ps1/ps1.ipynb": SOLUTION,
                                        "submitted/bob/ps1/extra/helper.py": SCRIBBLE})
    entries = _by_student(root, tmp_path)
    assert set(entries) == {"alice", "bob"} and entries["bob"].layout == "nbgrader"
    assert entries["bob"].chosen.shown == "submitted/bob/ps1/ps1.ipynb"


def test_pattern_for_other_layouts(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"week3/alice-final.py": SOLUTION, "week3/bob-final.py": SOLUTION,
                                    "week3/notes.py": SCRIBBLE})
    entries = _by_student(root, tmp_path, pattern=r"(?P<student>[a-z]+)-final\.py$")
    assert set(entries) == {"alice", "bob"}
    with pytest.raises(UsageError, match="student"):
        discover(root, staging=tmp_path / "s2", pattern=r"(\w+)\.py")
    with pytest.raises(UsageError, match="not a valid regular expression"):
        discover(root, staging=tmp_path / "s3", pattern=r"(?P<student>")


def test_zip_export_and_student_archives(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("hw/hw.ipynb", SOLUTION)
    export = tmp_path / "class.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("class/alice/hw.py", SOLUTION)
        zf.writestr("class/bob.zip", inner.getvalue())
        zf.writestr("class/carol/essay.docx", b"PK\x03\x04 not python")
        zf.writestr("class/__MACOSX/alice/._hw.py", b"\x00\x01")
    entries = _by_student(export, tmp_path)
    assert set(entries) == {"alice", "bob", "carol"}
    assert entries["bob"].chosen.shown == "class.zip!bob.zip!hw/hw.ipynb"
    assert entries["carol"].chosen is None and "essay.docx" in entries["carol"].problem


def test_hostile_archives_are_refused_with_a_reason(tmp_path: Path) -> None:
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../escaped.py", SOLUTION)
        zf.writestr("ok.py", SOLUTION)
    assert [p.name for p in extract(slip, tmp_path / "out")] == ["ok.py"]
    assert not (tmp_path / "escaped.py").exists()
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.py", b"0" * (3 << 20))
    with pytest.raises(ArchiveError, match="zip bomb"):
        extract(bomb, tmp_path / "out2", max_bytes=1 << 20)
    root = _write(tmp_path / "in", {"dave.zip": b"this is not a zip"})
    assert "not a readable zip archive" in _by_student(root, tmp_path)["dave"].problem


def test_results_folder_inside_submissions_is_not_a_student(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"alice/hw.py": SOLUTION, "results/students/alice.json": "{}"})
    found = discover(root, staging=tmp_path / "s", exclude=(root / "results",))
    assert [e.student for e in found.entries] == ["alice"]


def test_links_are_not_followed(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"erin/hw.py": SOLUTION})
    os.symlink("/etc/passwd", root / "erin" / "passwd.py")
    erin = _by_student(root, tmp_path)["erin"]
    assert [c.shown for c in erin.files] == ["erin/hw.py"]


def test_result_names_are_safe_and_distinct(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    assert file_stem("../../etc/passwd").startswith("etc_passwd-") and file_stem("...").startswith("student-")
    assert file_stem("alice") == "alice" and file_stem("张伟") == "张伟"  # safe names, any script, stay as they are
    assert file_stem("a b") != file_stem("a/b") and file_stem("a b") == file_stem("a b")  # stable, never shared
    assert store.path("a b") != store.path("a/b")
    (tmp_path / "students" / ".alice.json.123.tmp").write_text("{")
    ResultStore(tmp_path)
    assert not list((tmp_path / "students").glob("*.tmp"))  # a write cut off by kill -9 is dropped


def test_reuse_key_and_gradebook_from_reports(tmp_path: Path) -> None:
    spec, _ = find_exercise(None)
    report = problem_report(spec=spec, shown="x.py", sha256="ab", problem="=HYPERLINK(\"evil\")")
    named = report.model_copy(update={"extra_data": report.extra_data.model_copy(update={"student": "mallory"})})
    assert ReuseKey.of(sha256="ab", spec=spec, seed=named.extra_data.seed).matches(named)
    assert not ReuseKey.of(sha256="cd", spec=spec, seed=named.extra_data.seed).matches(named)
    assert not ReuseKey.of(sha256="ab", spec=spec, seed=1).matches(named)
    rows = list(csv.DictReader(io.StringIO(grades_csv([named]))))
    assert rows[0]["student"] == "mallory" and rows[0]["status"] == "error" and rows[0]["points_ran"] == "0"
    assert rows[0]["error"].startswith("'=HYPERLINK")  # student text never becomes a spreadsheet formula
    stats = summary([named], ignored=[], duplicates=[], wall_s=1.0)
    assert stats["status"] == {"error": 1} and stats["checks_failed"]["ran"] == 1


# Nobody goes missing: a student whose files hold no .ipynb/.py still gets an entry (so a result and a gradebook
# row saying what was found); only files that clearly belong to nobody are ignored. One test per layout.

NOTHING = "no .ipynb notebook or .py module was found"


def _missing(entry: object) -> str:
    assert entry.chosen is None  # type: ignore[attr-defined]
    return entry.problem  # type: ignore[attr-defined,no-any-return]


def test_file_per_student_non_notebook_is_a_student_not_ignored(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {
        "alice.ipynb": SOLUTION, "erin.txt": "my answers", "mia.pdf": b"%PDF-1.4",
        "zoe.json": json.dumps({"cells": [], "nbformat": 4}),  # a notebook saved under the wrong suffix
        # the class's, not a student's: README/instructions, an earlier run's gradebook, a roster, OS debris
        "README.md": "notes", "Instructions.pdf": b"%PDF", "grades.csv": "student,score\n",
        "summary.json": "{}", "roster.xlsx": b"PK", "2024-01-05T1010_Grades-CS101.csv": "x",
        "Thumbs.db": b"\x00", "desktop.ini": "[x]", "~$mia.docx": b"\x00", "alice.ipynb~": SOLUTION,
        ".DS_Store": b"\x00"})
    found = discover(root, staging=tmp_path / "s", entry_point="train_mnist_conv")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"alice", "erin", "mia", "zoe"}
    assert _missing(entries["erin"]) == f"{NOTHING} (found: erin.txt)"
    assert _missing(entries["mia"]) == f"{NOTHING} (found: mia.pdf)"
    assert "zoe.json" in _missing(entries["zoe"]) and entries["erin"].layout == "file per student"
    assert sorted(found.ignored) == ["2024-01-05T1010_Grades-CS101.csv", "Instructions.pdf", "README.md",
                                     "grades.csv", "roster.xlsx", "summary.json"]  # debris is skipped silently
    assert found.gradable == 1


def test_folder_per_student_without_a_notebook_keeps_every_student(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"alice/hw.py": SOLUTION, "ben/report.pdf": b"%PDF", "ben/README.md": "mine",
                                    "dan/.DS_Store": b"\x00", "dan/.ipynb_checkpoints/hw-checkpoint.ipynb": SOLUTION})
    (root / "cleo").mkdir()  # an empty folder: a student who handed in nothing
    found = discover(root, staging=tmp_path / "s")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"alice", "ben", "cleo", "dan"} and found.ignored == []
    assert _missing(entries["ben"]) == f"{NOTHING} (found: README.md, report.pdf)"  # a README in a folder is theirs
    assert _missing(entries["cleo"]) == f"{NOTHING} (found: nothing)"
    assert _missing(entries["dan"]) == f"{NOTHING} (found: nothing)"
    assert {entries[s].layout for s in ("cleo", "dan")} == {"folder per student"}


def test_canvas_non_notebook_is_always_the_students(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("hw/hw.py", SOLUTION)
    root = _write(tmp_path / "in", {
        "smithjane_1234_5678_hw.pdf": b"%PDF", "readmejoe_5_6_readme.md": "a student called Readmejoe",
        "doejohn_99_100_grades.csv": "a csv handed in",  # Canvas names are always a student's
        "leeamy_111_1_hw.pdf": b"%PDF", "leeamy_222_2_hw.zip": inner.getvalue(),  # namesakes, told apart
        "README.md": "class notes"})
    found = discover(root, staging=tmp_path / "s")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"smithjane", "readmejoe", "doejohn", "leeamy_111", "leeamy_222"}
    assert found.ignored == ["README.md"] and {e.layout for e in entries.values()} == {"canvas"}
    assert _missing(entries["smithjane"]) == f"{NOTHING} (found: smithjane_1234_5678_hw.pdf)"
    assert "leeamy_111_1_hw.pdf" in _missing(entries["leeamy_111"])
    assert entries["leeamy_222"].chosen.shown == "leeamy_222_2_hw.zip!hw/hw.py"


def test_gradescope_submission_without_a_notebook_is_kept(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {
        "submission_metadata.yml": ("submission_111:\n  :submitters:\n  - :name: Ada Lovelace\n"
                                    "    :email: ada@uni.edu\n"),
        "submission_111/essay.pdf": b"%PDF",
        "submission_222/submission_metadata.json": json.dumps({"users": [{"email": "alan@uni.edu"}]}),
        "submission_333/hw.py": SOLUTION})
    found = discover(root, staging=tmp_path / "s")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"ada@uni.edu", "alan@uni.edu", "submission_333"}
    assert _missing(entries["ada@uni.edu"]) == f"{NOTHING} (found: essay.pdf)"
    assert _missing(entries["alan@uni.edu"]) == f"{NOTHING} (found: nothing)"  # only the export's metadata
    assert entries["alan@uni.edu"].layout == "gradescope"
    assert sorted(found.ignored) == ["submission_222/submission_metadata.json", "submission_metadata.yml"]


def test_nbgrader_student_without_a_notebook_and_course_files(tmp_path: Path) -> None:
    root = _write(tmp_path / "course", {
        "submitted/alice/ps1/ps1.ipynb": SOLUTION, "submitted/alice/ps1/timestamp.txt": "2024-01-05",
        "submitted/bob/ps1/ps1.pdf": b"%PDF", "submitted/carl/timestamp.txt": "2024-01-05",
        "submitted/notes.txt": "nobody's",
        # the course's own: never students, whatever they hold
        "source/ps1/ps1.ipynb": SOLUTION, "release/ps1/ps1.ipynb": SOLUTION,
        "autograded/alice/ps1/ps1.ipynb": SOLUTION, "feedback/alice/ps1/ps1.html": "<html>",
        "nbgrader_config.py": "c = get_config()\n", "gradebook.db": b"SQLite format 3\x00"})
    (root / "submitted" / "dana" / "ps1").mkdir(parents=True)  # submitted an empty folder
    found = discover(root, staging=tmp_path / "s")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"alice", "bob", "carl", "dana"}
    assert {e.layout for e in entries.values()} == {"nbgrader"}
    assert entries["alice"].chosen.shown == "submitted/alice/ps1/ps1.ipynb"
    assert _missing(entries["bob"]) == f"{NOTHING} (found: ps1.pdf)"
    assert _missing(entries["carl"]) == f"{NOTHING} (found: timestamp.txt)"
    assert _missing(entries["dana"]) == f"{NOTHING} (found: nothing)"
    assert sorted(found.ignored) == ["autograded/", "feedback/", "gradebook.db", "nbgrader_config.py", "release/",
                                     "source/", "submitted/notes.txt"]


def test_pattern_attributes_the_right_name_in_the_wrong_format(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"week3/alice-final.py": SOLUTION, "week3/bob-final.pdf": b"%PDF",
                                    "week3/carol-final": "no suffix at all", "week3/notes.py": SCRIBBLE,
                                    "week3/grades-final.csv": "a gradebook", "week3/README.md": "notes"})
    found = discover(root, staging=tmp_path / "s", pattern=r"(?P<student>[a-z]+)-final\.py$")
    entries = {e.student: e for e in found.entries}
    assert set(entries) == {"alice", "bob", "carol"} and entries["bob"].layout == "pattern"
    assert _missing(entries["bob"]) == f"{NOTHING} (found: bob-final.pdf)"
    assert sorted(found.ignored) == ["week3/README.md", "week3/grades-final.csv", "week3/notes.py"]


def test_an_earlier_results_folder_belongs_to_nobody(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"alice.py": SOLUTION, "erin.txt": "answers",
                                    "old/batch-log.jsonl": "{}\n", "old/students/alice.json": "{}",
                                    "old/grades.csv": "student\n"})
    found = discover(root, staging=tmp_path / "s")
    assert [e.student for e in found.entries] == ["alice", "erin"] and found.ignored == ["old/"]
    # Results written into the submissions folder itself (cnngrade grade . -o .)
    _write(root, {"batch-log.jsonl": "{}\n", "students/alice.json": "{}", "summary.json": "{}"})
    found = discover(root, staging=tmp_path / "s2", exclude=(root,))
    assert [e.student for e in found.entries] == ["alice", "erin"]
    assert sorted(found.ignored) == ["batch-log.jsonl", "old/", "students/", "summary.json"]


def test_a_folder_of_only_pdfs_has_students_but_nothing_gradable(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"erin.pdf": b"%PDF", "mia/essay.pdf": b"%PDF"})
    found = discover(root, staging=tmp_path / "s")
    assert [e.student for e in found.entries] == ["erin", "mia"] and found.gradable == 0


def test_non_notebook_students_get_a_result_and_a_gradebook_row(tmp_path: Path) -> None:
    """The whole batch on real files; nothing here trains (no file runs), so it takes seconds."""
    import subprocess
    import sys

    from conftest import SMALL_SPEC, _data_path

    data = _data_path()
    if data is None:
        pytest.skip("MNIST is not on this machine (CNNGRADE_DATA)")
    root = _write(tmp_path / "in", {"erin.txt": "my answers", "mia.pdf": b"%PDF-1.4", "bob.ipynb": "{",
                                    "README.md": "class notes", "submission_5/submission_metadata.json": "{}"})
    results = tmp_path / "results"
    run = subprocess.run([sys.executable, "-m", "grader", "grade", str(root), "-o", str(results), "-e",
                          str(SMALL_SPEC), "--no-progress"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "CNNGRADE_DATA": str(data)})
    assert run.returncode == 0, run.stderr
    rows = {r["student"]: r for r in csv.DictReader((results / "grades.csv").open())}
    assert set(rows) == {"bob", "erin", "mia", "submission_5"}
    assert rows["erin"]["status"] == "error" and rows["erin"]["error"] == f"{NOTHING} (found: erin.txt)"
    assert rows["mia"]["error"] == f"{NOTHING} (found: mia.pdf)"
    assert {p.stem for p in (results / "students").glob("*.json")} == set(rows)
    stats = json.loads((results / "summary.json").read_text())
    assert stats["students"] == 4 and stats["checks_failed"] == {"ran": 4}
    assert sorted(stats["ignored_files"]) == ["README.md", "submission_5/submission_metadata.json"]


def test_a_linked_student_folder_gets_a_row_with_the_reason(tmp_path: Path) -> None:
    root = _write(tmp_path / "in", {"bob/hw.py": SOLUTION})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "hw.py").write_text(SOLUTION)
    os.symlink(tmp_path / "elsewhere", root / "alice")
    entries = _by_student(root, tmp_path)
    assert set(entries) == {"alice", "bob"}
    assert entries["alice"].chosen is None and "alice is a link to a folder" in (entries["alice"].problem or "")
