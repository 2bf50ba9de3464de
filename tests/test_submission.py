from pathlib import Path

import nbformat
import pytest

from conftest import FIXTURES
from grader.errors import SubmissionNotFoundError
from grader.submission import load_submission


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SubmissionNotFoundError, match="no such file"):
        load_submission(tmp_path / "nope.ipynb")


def test_unsupported_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(SubmissionNotFoundError, match=".txt"):
        load_submission(tmp_path / "a.txt")


@pytest.mark.parametrize("name, message", [
    ("malformed.ipynb", "JSON is malformed"),
    ("binary_renamed.ipynb", "binary file"),
    ("empty.py", "is empty"),
])
def test_unreadable_submissions_become_problems(name: str, message: str) -> None:
    sub = load_submission(FIXTURES / name)
    assert sub.problem is not None and message in sub.problem
    assert sub.units == ()


def test_non_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "latin1.py"
    path.write_bytes("print('café')".encode("latin-1"))
    assert "not valid UTF-8" in (load_submission(path).problem or "")


def test_saved_outputs_are_ignored_and_cells_numbered() -> None:
    sub = load_submission(FIXTURES / "stale_outputs.ipynb")
    assert [u.cell for u in sub.units] == [2, 3, 4]  # cell 1 is markdown
    assert all("0.9991" not in u.source for u in sub.units)


def test_other_language_kernel_is_noted() -> None:
    sub = load_submission(FIXTURES / "other_language_kernel.ipynb")
    assert sub.problem is None and any("'R'" in n for n in sub.notes)


def test_too_many_cells(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1") for _ in range(10_000)])
    path = tmp_path / "huge.ipynb"
    nbformat.write(nb, path)
    assert "10000 cells" in (load_submission(path).problem or "")


# --- issue 10: library messages translated into ones a student can act on -----------------------------------------

def test_empty_json_object_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text("{}")
    problem = load_submission(path).problem or ""
    assert "hw.ipynb is not a Jupyter notebook" in problem and "no cells and no nbformat version" in problem
    assert "version 1 to version 2" not in problem and "converted" not in problem


@pytest.mark.parametrize("text, kind", [("[]", "a list"), ('"hello"', "a string"), ("3", "a number"),
                                        ("null", "null")])
def test_json_that_is_not_an_object_is_not_a_notebook(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text(text)
    assert f"is not a Jupyter notebook: its JSON is {kind}" in (load_submission(path).problem or "")


def test_notebook_without_cells_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    assert "has an nbformat version (4) but no list of cells" in (load_submission(path).problem or "")


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text('{\n "cells": [\n  {"cell_type": "code", "source": "x = 1",}\n ]\n}\n')
    problem = load_submission(path).problem or ""
    assert "JSON is malformed at line 3, column 43" in problem and "Expecting property name" in problem
    shipped = load_submission(FIXTURES / "malformed.ipynb").problem or ""
    assert "JSON is malformed at line " in shipped and ", column " in shipped


def test_folder_as_submission_suggests_grade(tmp_path: Path) -> None:
    with pytest.raises(SubmissionNotFoundError) as err:
        load_submission(tmp_path)
    assert f"{tmp_path} is a folder" in str(err.value) and f"cnngrade grade {tmp_path} -o RESULTS" in str(err.value)


def test_valid_notebook_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    sub = load_submission(path)
    assert sub.problem is None and [u.source for u in sub.units] == ["x = 1"]
