"""The homemade convolution (an arrays exercise): real submissions graded on SciPy's real ascent image and on a
hidden one, the grader's reference against scipy.signal, and the verification of ascent.dat."""
from __future__ import annotations

import base64
import hashlib
import json
import pickle
import zlib
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from scipy import signal

from grader.api import grade
from grader.arrays import ascent as ascent_module
from grader.arrays import reference
from grader.arrays.ascent import find_ascent, read_verified
from grader.errors import DataError, SpecError
from grader.exercises import find_exercise
from grader.render import render
from grader.report import Report
from grader.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "homemade-convolution"
EDGE = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)
SOBEL = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float)


@pytest.fixture(scope="module")
def ascent() -> np.ndarray:
    try:
        return find_ascent(download=False).pixels
    except DataError as exc:
        pytest.fail(f"SciPy's ascent.dat is needed (see README, 'The homemade convolution'): {exc}")


def _grade(path: Path) -> Report:
    spec = find_exercise("homemade-convolution")[0]
    return grade(submission=path, exercise=spec)


def _failed(report: Report) -> list[str]:
    return [t.extra_data.check for t in report.tests if t.status == "failed"]


def _hint(report: Report, check: str) -> str:
    return next(t.extra_data.hint or "" for t in report.tests if t.extra_data.check == check)


# --- the reference computation against an independent formulation ---

@pytest.mark.parametrize("kernel", [EDGE, SOBEL, SOBEL.T, np.arange(9.0).reshape(3, 3) - 4])
def test_reference_matches_scipy_signal(kernel: np.ndarray) -> None:
    image = reference.hidden_image((64, 48), seed=3).astype(float)
    assert np.allclose(reference.correlate(image, kernel, 0.5, "cross_correlation"),
                       0.5 * signal.correlate2d(image, kernel, mode="valid"))
    assert np.allclose(reference.correlate(image, kernel, 1.0, "lesson"), signal.correlate2d(image, kernel.T, mode="valid"))
    assert np.allclose(reference.correlate(image, kernel, 1.0, "convolution"), signal.convolve2d(image, kernel, mode="valid"))


def test_reference_matches_the_lessons_loop(ascent: np.ndarray) -> None:
    """The article's own loop on a corner of ascent, against the vectorised reference."""
    i = ascent[:40, :30].astype(np.int64)
    out = np.copy(i)
    f = SOBEL.tolist()
    for x in range(1, i.shape[0] - 1):
        for y in range(1, i.shape[1] - 1):
            c = sum(i[x + cc - 1, y + r - 1] * f[r][cc] for r in range(3) for cc in range(3))
            out[x, y] = min(max(c, 0), 255)
    assert np.array_equal(out, reference.transform(i, SOBEL, 1.0, "lesson", (0, 255)))
    pooled = reference.max_pool(out.astype(float), 2, 2)
    assert pooled.shape == (20, 15) and pooled[3, 4] == out[6:8, 8:10].max()


def test_hidden_image_is_secret_and_shows_every_slip() -> None:
    first, second = reference.hidden_image((512, 512)), reference.hidden_image((512, 512))
    assert first.dtype == np.uint8 and first.shape == (512, 512) and not np.array_equal(first, second)
    response = reference.correlate(first, EDGE, 1.0, "lesson")
    assert (response < 0).mean() > 0.01 and (response > 255).mean() > 0.002  # clipping matters, both ways
    assert not np.array_equal(first, first.T) and first[0].std() > 10  # transposition and margin show


# --- ascent.dat: verified before it is unpickled ---

def test_tampered_ascent_is_refused_before_unpickling(ascent: np.ndarray, tmp_path: Path) -> None:
    raw = bytearray(find_ascent(download=False).path.read_bytes())
    raw[-10] ^= 1
    with pytest.raises(DataError, match="not one of SciPy's ascent.dat"):
        read_verified(bytes(raw), "tampered")


def test_unpickler_allows_no_code_even_with_a_known_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = pickle.dumps(type("Evil", (), {"__reduce__": lambda self: (Path.touch, (marker,))})())
    monkeypatch.setitem(ascent_module.KNOWN_FILES, hashlib.sha256(evil).hexdigest(), "test")
    with pytest.raises(DataError, match="could not be read"):
        read_verified(evil, "evil")
    assert not marker.exists()


def test_data_folder_comes_first(ascent: np.ndarray, tmp_path: Path) -> None:
    (tmp_path / "ascent.dat").write_bytes(find_ascent(download=False).path.read_bytes())
    found = find_ascent(tmp_path, download=False)
    assert found.source.startswith("--data") and np.array_equal(found.pixels, ascent)


def test_arrays_spec_needs_its_table() -> None:
    with pytest.raises(SpecError, match="arrays"):
        parse_spec('id = "x"\nversion = "1"\ntitle = "t"\nkind = "arrays"\n', source="x.toml")
    text = (ROOT / "exercises" / "homemade-convolution" / "exercise.toml").read_text()
    with pytest.raises(SpecError, match="points"):
        parse_spec(text.replace("pooling_values = 2", "pooling_value = 2"), source="x.toml")


# --- real submissions, graded on the real ascent and on a hidden image ---

def test_vectorised_numpy_orientation_passes(ascent: np.ndarray) -> None:
    report = _grade(FIXTURES / "vectorized_sobel.py")
    assert report.passed, report.output
    images = report.extra_data.images
    assert [i.image for i in images] == ["ascent", "hidden image"]
    assert images[0].asked_as == ["scipy.datasets.ascent()"] and images[0].weight == 0.5
    assert "numpy's row/column orientation" in (images[0].orientation or "")
    assert "Image hidden image (generated for this grading" in render(report)
    schema = json.loads((ROOT / "tests" / "schemas" / "gradescope-results.schema.json").read_text())
    jsonschema.validate(json.loads(report.model_dump_json()), schema)  # what Gradescope reads, as for training


@pytest.mark.parametrize(("fixture", "check", "hint"), [
    ("zero_margin", "margin", "The border is 0"),
    ("no_clipping", "clipping", "Clip each result"),
    ("overlapping_pooling", "pooling_values", "the pooling windows overlap"),
    ("swapped_axes", "convolution", "rows and columns are swapped"),
    ("renamed_results", "ran", "Keep the lesson's names: i_transformed, newImage"),
    ("uses_opencv", "ran", "Fix the error in line 9"),
    # Filters and weights that show no convolution, or change with the image, passed 11/11 before review.
    ("identity_filter_copies_image", "convolution", "at least two non-zero values"),
    ("tiny_weight_blank_result", "convolution", "a weight that keeps the results visible"),
    ("filter_depends_on_image", "hidden_image", "they must not depend on the image"),
    ("weight_is_none", "convolution", "weight one number"),
    ("filter_as_text", "ran", "filter a 3x3 list of numbers"),
])
def test_mistake_fails_its_check_with_its_hint(ascent: np.ndarray, fixture: str, check: str, hint: str) -> None:
    report = _grade(FIXTURES / f"{fixture}.py")
    assert _failed(report)[0] == check, report.output
    assert hint in _hint(report, check)


def test_function_style_results_are_read_from_its_frame(ascent: np.ndarray, tmp_path: Path) -> None:
    source = (FIXTURES / "vectorized_sobel.py").read_text().split('"""', 2)[2]
    body = "\n".join("    " + line if line else line for line in source.splitlines())
    (tmp_path / "wrapped.py").write_text(f"def lesson():\n{body}\n")
    report = _grade(tmp_path / "wrapped.py")
    assert report.passed, report.output
    assert "results taken from function lesson(), called by cnngrade" in report.output


def test_hardcoded_result_fails_on_the_hidden_image(ascent: np.ndarray, tmp_path: Path) -> None:
    """The right ascent result, embedded in the submission (what copying it from a file amounts to)."""
    right = reference.transform(ascent, EDGE, 1.0, "lesson", (0, 255)).astype(np.int64)
    blob = base64.b64encode(zlib.compress(right.astype(np.uint8).tobytes())).decode()
    (tmp_path / "hardcoded_result.py").write_text(
        "import base64, zlib\nimport numpy as np\n"
        "filter = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]\nweight = 1\n"
        f"i_transformed = np.frombuffer(zlib.decompress(base64.b64decode('{blob}')), np.uint8).reshape(512, 512)\n"
        "newImage = i_transformed.reshape(256, 2, 256, 2).max(axis=(1, 3))\n")
    report = _grade(tmp_path / "hardcoded_result.py")
    assert _failed(report) == ["hidden_image"], report.output
    assert "hard-coded or loaded" in _hint(report, "hidden_image")


@pytest.mark.parametrize(("fixture", "check"), [("prints_fake_arrays", "ran"), ("patches_numpy", "convolution")])
def test_cheats_fail(ascent: np.ndarray, fixture: str, check: str) -> None:
    report = _grade(FIXTURES / f"{fixture}.py")
    assert _failed(report)[0] == check and report.score <= 3, report.output
