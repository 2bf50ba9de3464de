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
