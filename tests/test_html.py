"""The HTML report and the class dashboard, opened in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): a real grading of the reference notebook on a slice of MNIST, a real batch
whose only student plants script payloads in a cell's source, its printed output, an error message, the file name
and the student's own folder name, and a dashboard built from a synthetic class validated by the Report model.
Screenshots go to $CNNGRADE_ARTIFACTS (default: artifacts/ at the repository root, gitignored) for CI to keep.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, SMALL_SPEC, SOLUTIONS
from grader.batch.coordinator import grade_batch
from grader.batch.gradebook import write_gradebook
from grader.feedback import Feedback
from grader.html.report_page import render_report
from grader.report import Report

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_class import synthetic_class  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("chromedriver") is None,
                                reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
ARTIFACTS = Path(os.environ.get("CNNGRADE_ARTIFACTS") or ROOT / "artifacts")
PAYLOADS = {
    "source": "# <img src=x onerror=\"window.pwned='source'\">",
    "printed": "<script>window.pwned='printed';document.title='pwned'</script><img src=x onerror=\"window.pwned='img'\">",
    "raised": "<svg onload=\"window.pwned='raised'\"></svg>",
}
FILE_NAME = "<img src=x onerror=window.pwned=5>.ipynb"
STUDENT = "<svg onload=window.pwned=6>"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,1400",
                "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, mnist_path: Path) -> tuple[Report, Feedback, Path]:
    from grader.api import grade_with_feedback

    report, feedback = grade_with_feedback(submission=SOLUTIONS / "reference_notebook.ipynb", exercise=SMALL_SPEC,
                                           data=mnist_path)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(report, feedback), encoding="utf-8")
    return report, feedback, path


@pytest.fixture(scope="session")
def planted_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of one whose notebook plants payloads everywhere student text reaches the page."""
    folder = tmp_path_factory.mktemp("class")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("<script>window.pwned='markdown'</script>"),
                nbformat.v4.new_code_cell(f"{PAYLOADS['source']}\nprint({PAYLOADS['printed']!r})"),
                nbformat.v4.new_code_cell(f"raise ValueError({PAYLOADS['raised']!r})")]
    (folder / STUDENT).mkdir()
    nbformat.write(nb, str(folder / STUDENT / FILE_NAME))
    return folder / STUDENT / FILE_NAME


@pytest.fixture(scope="session")
def planted_batch(tmp_path_factory: pytest.TempPathFactory, planted_notebook: Path, mnist_path: Path) -> Path:
    results = tmp_path_factory.mktemp("results")
    grade_batch(submissions=planted_notebook.parent.parent, results=results, exercise=SMALL_SPEC, data=str(mnist_path))
    return results


def _open(driver: object, path: Path) -> None:
    driver.get(path.resolve().as_uri())  # type: ignore[attr-defined]


def _assert_clean_page(driver: object) -> None:
    """No console error, and every image decoded with a size."""
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert errors == []
    sizes = driver.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt]);")
    assert sizes, "the page shows no image"
    for complete, width, height, alt in sizes:
        assert complete and width > 0 and height > 0, alt
        assert alt.strip(), "an image without alt text"


def _screenshot(driver: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))  # type: ignore[attr-defined]


def _not_pwned(driver: object) -> None:
    assert driver.execute_script("return window.pwned === undefined;"), driver.execute_script(  # type: ignore[attr-defined]
        "return String(window.pwned);")
    assert driver.title != "pwned"  # type: ignore[attr-defined]


def test_student_report_in_a_browser(browser: object, reference: tuple[Report, Feedback, Path]) -> None:
    from selenium.webdriver.common.by import By

    report, feedback, path = reference
    _open(browser, path)
    _assert_clean_page(browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")  # type: ignore[attr-defined]
    assert len(rows) == len(report.tests) and report.passed
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == [t.name for t in report.tests]
    # What the training produced, beside what it logged: the re-measured accuracies, the confusion matrix that
    # sums to the test slice and agrees with the test accuracy, and one journey per traced test image.
    remeasured = browser.find_element(By.CSS_SELECTOR, "#accuracy tbody tr:nth-child(2)").text  # type: ignore[attr-defined]
    assert f"{report.extra_data.train_accuracy:.4f}" in remeasured and f"{report.extra_data.test_accuracy:.4f}" in remeasured
    m = feedback.measurement
    assert m is not None and m.confusion is not None and m.journey is not None
    assert sum(map(sum, m.confusion)) == 1000
    assert sum(m.confusion[i][i] for i in range(10)) / 1000 == pytest.approx(report.extra_data.test_accuracy)
    alts = browser.execute_script("return Array.from(document.images).map(i => i.alt);")  # type: ignore[attr-defined]
    assert sum("after the convolution" in a for a in alts) == len(m.journey.images) == 3
    assert sum(a.startswith("Test image") and ", predicted " in a for a in alts) == len(m.misclassified) > 0
    assert any(a.startswith("Training curve") for a in alts)
    _screenshot(browser, "student-report.png")


def test_report_is_byte_identical_when_rendered_again(reference: tuple[Report, Feedback, Path], tmp_path: Path) -> None:
    """In another process too (fresh matplotlib, fonts and caches): the same facts give the same bytes."""
    import subprocess

    report, feedback, path = reference
    (tmp_path / "r.json").write_text(report.model_dump_json())
    (tmp_path / "f.json").write_text(feedback.model_dump_json())
    code = ("import sys; from pathlib import Path; from grader.report import Report; from grader.feedback import Feedback; "
            "from grader.html.report_page import render_report; d = Path(sys.argv[1]); "
            "sys.stdout.buffer.write(render_report(Report.model_validate_json((d / 'r.json').read_text()), "
            "Feedback.model_validate_json((d / 'f.json').read_text())).encode())")
    again = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, check=True, timeout=120)
    assert again.stdout == path.read_bytes()


def test_planted_payloads_stay_text(browser: object, planted_batch: Path) -> None:
    from selenium.webdriver.common.by import By

    pages = sorted((planted_batch / "students").glob("*.html"))
    assert len(pages) == 1
    html = pages[0].read_text(encoding="utf-8")
    for payload in PAYLOADS.values():
        assert payload not in html  # escaped, not pasted
    # Escaping, not the page's Content-Security-Policy, is what keeps them inert: the same page without it.
    bare = pages[0].with_name("bare.html")
    bare.write_text(html.replace('http-equiv="Content-Security-Policy"', 'name="x-removed"'), encoding="utf-8")
    for page in (pages[0], bare, planted_batch / "index.html"):
        _open(browser, page)
        _not_pwned(browser)
    _open(browser, bare)
    text = browser.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert "window.pwned='printed'" in text and FILE_NAME in text and STUDENT in text  # shown, as text
    # The notebook as cnngrade ran it, rendered by nbconvert: the failed cell marked, with the recorded error.
    failed = browser.find_elements(By.CSS_SELECTOR, '.nbconvert [id^="cell-id=failed-"]')  # type: ignore[attr-defined]
    assert [f.get_attribute("id") for f in failed] == ["cell-id=failed-3"] and "ValueError" in failed[0].text
    # What each cell printed when cnngrade ran it, under the cell, as text: cell 2's print, cell 3's error.
    printed = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".nbconvert .output_stdout pre")]  # type: ignore[attr-defined]
    assert printed[0] == PAYLOADS["printed"] and printed[1].startswith("[cnngrade] error in cell 3:") and len(printed) == 2


def test_dashboard_in_a_browser(browser: object, planted_batch: Path, reference: tuple[Report, Feedback, Path],
                                tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    # The real batch's dashboard links to its student's report.
    _open(browser, planted_batch / "index.html")
    _assert_clean_page(browser)
    browser.find_element(By.CSS_SELECTOR, "#students a").click()  # type: ignore[attr-defined]
    assert browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")  # type: ignore[attr-defined]
    assert browser.current_url.endswith(".html") and "index" not in browser.current_url  # type: ignore[attr-defined]
    # A synthetic class of 60 (validated by the Report model) plus the real reference report.
    reports = [*synthetic_class(60), reference[0].model_copy(update={"extra_data": reference[0].extra_data.model_copy(
        update={"student": "reference"})})]
    (tmp_path / "students").mkdir()
    (tmp_path / "students" / "reference.html").write_text(reference[2].read_text(encoding="utf-8"), encoding="utf-8")
    write_gradebook(tmp_path, reports, ignored=["notes.txt"], duplicates=[["student0001@example.edu", "reference"]],
                    links={"reference": "students/reference.html"})
    _open(browser, tmp_path / "index.html")
    _assert_clean_page(browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "#students tbody tr")  # type: ignore[attr-defined]
    assert len(rows) == 61
    header = browser.find_elements(By.CSS_SELECTOR, "#students th")[1]  # type: ignore[attr-defined]
    header.click()
    header.click()  # descending by score
    first = browser.find_element(By.CSS_SELECTOR, "#students tbody tr td").text  # type: ignore[attr-defined]
    best = max(r.score for r in reports)
    assert next(r for r in reports if (r.extra_data.student or "") == first).score == best
    _screenshot(browser, "dashboard.png")
    browser.find_element(By.LINK_TEXT, "reference").click()  # type: ignore[attr-defined]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")) == len(reference[0].tests)  # type: ignore[attr-defined]
    _assert_clean_page(browser)


def test_gradescope_output_shows_the_curve(browser: object, reference: tuple[Report, Feedback, Path],
                                           tmp_path: Path) -> None:
    from grader.html.gradescope import for_gradescope

    report = reference[0]
    converted = Report.model_validate_json(for_gradescope(report).model_dump_json())  # still a valid report
    assert [t.score for t in converted.tests] == [t.score for t in report.tests]
    assert all(t.output_format == "html" and t.extra_data.text == o.output for t, o in zip(converted.tests, report.tests))
    with_curve = [t for t in converted.tests if "data:image/png;base64," in t.output]
    assert [t.extra_data.check for t in with_curve] == ["budget"]
    assert len(converted.model_dump_json()) < 100_000  # far below what Gradescope handles
    # Gradescope puts each output into its page: the same here, and the curve decodes.
    page = tmp_path / "gradescope.html"
    page.write_text("<!DOCTYPE html><title>t</title>" + "".join(f"<section>{t.output}</section>" for t in converted.tests))
    _open(browser, page)
    _assert_clean_page(browser)


def test_submit_writes_the_html_and_gradescope_json(planted_notebook: Path, mnist_path: Path, tmp_path: Path) -> None:
    """The CLI end to end on the planted notebook (it fails in cell 3: no training, seconds)."""
    import json
    import subprocess

    notebook = planted_notebook
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "grader", "submit", str(notebook), "-e", str(SMALL_SPEC), "-q",
                           "--html", str(out / "report.html"), "-o", str(out / "results.json"), "--gradescope-html"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "CNNGRADE_DATA": str(mnist_path)})
    assert done.returncode == 1, done.stderr
    data = json.loads((out / "results.json").read_text())
    assert {t["output_format"] for t in data["tests"]} == {"html"}
    assert all(p not in t["output"] for t in data["tests"] for p in PAYLOADS.values())
    assert "raised ValueError" in (out / "report.html").read_text(encoding="utf-8")


def test_a_rerun_restores_a_missing_report(planted_notebook: Path, planted_batch: Path, mnist_path: Path) -> None:
    """Unchanged students are reused, not regraded; one whose HTML was deleted gets it back from its JSON."""
    page = next((planted_batch / "students").glob("*.html"))
    page.unlink()
    summary = grade_batch(submissions=planted_notebook.parent.parent, results=planted_batch, exercise=SMALL_SPEC,
                          data=str(mnist_path))
    assert summary.reused == 1 and page.is_file()
    assert "raised ValueError" in page.read_text(encoding="utf-8") and (planted_batch / "index.html").is_file()


def test_homemade_convolution_report_shows_the_images(browser: object, tmp_path: Path) -> None:
    """The arrays exercise: for ascent and the hidden image, the image, the student's result, the grader's result
    and their difference, drawn by the grading process; a wrong result shows where it differs."""
    from selenium.webdriver.common.by import By

    from grader.api import grade_with_feedback

    bad = ROOT / "solutions" / "homemade-convolution" / "known-bad" / "no_clipping.py"
    report, feedback = grade_with_feedback(submission=bad, exercise="homemade-convolution")
    assert [p.title.split(":")[0] for p in feedback.panels] == ["ascent", "hidden image"]
    path = tmp_path / "homemade.html"
    path.write_text(render_report(report, feedback), encoding="utf-8")
    _open(browser, path)
    _assert_clean_page(browser)
    alts = browser.execute_script("return Array.from(document.images).map(i => i.alt);")  # type: ignore[attr-defined]
    panels = [a for a in alts if "cnngrade's result from your filter and weight" in a]
    assert len(panels) == 2 and all("interior pixels differ" in a and not a.endswith("(0 interior pixels differ by a "
                                                                                  "grey level or more)") for a in panels)
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")  # type: ignore[attr-defined]
    assert len(rows) == len(report.tests) == 7
    _screenshot(browser, "homemade-convolution-report.png")
