"""The arrays mode of the sandboxed child: serve the image, run the code, save the named results as .npy.

No TensorFlow here. The image the grader chose (ascent, or a hidden one) is served to every way the lesson's
copies ask for it (``scipy.misc.ascent()``, ``from scipy import misc``, ``scipy.datasets.ascent()``), and ``import
cv2`` works without OpenCV. What is saved is only evidence: the grading process recomputes everything from the
image it chose and the saved filter and weight.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from grader.harness.state import RunState
from grader.protocol import ArraysJob, ArraysRecord, SavedArray

RESULTS = "results"


def _serve(image: np.ndarray, requests: list[str]) -> None:
    """Install the image as ascent() wherever the student may look, all offline."""
    def misc_ascent() -> np.ndarray:  # old scipy.misc: np.array of a pickled list -> the platform int
        requests.append("scipy.misc.ascent()")
        return image.astype(np.int_)

    def datasets_ascent() -> np.ndarray:
        requests.append("scipy.datasets.ascent()")
        return image.copy()

    import scipy

    try:
        import scipy.misc as misc  # deprecated in SciPy 1.10, without ascent since 1.12
    except ImportError:
        misc = types.ModuleType("scipy.misc")
        sys.modules["scipy.misc"] = misc
    misc.ascent = misc_ascent
    scipy.misc = misc
    try:
        import scipy.datasets as datasets
    except ImportError:
        datasets = types.ModuleType("scipy.datasets")
        sys.modules["scipy.datasets"] = datasets
    datasets.ascent = datasets_ascent  # never pooch: no download in a run
    scipy.datasets = datasets


def _stand_in_cv2() -> None:
    """``import cv2`` (in most copies, unused by the lesson) must not fail the run when OpenCV is absent."""
    if "cv2" in sys.modules or importlib.util.find_spec("cv2") is not None:
        return
    module = types.ModuleType("cv2")

    def missing(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"cv2.{name}: OpenCV is not installed where cnngrade runs your code; the lesson does "
                          f"not need it (use numpy for the convolution)")

    module.__getattr__ = missing  # type: ignore[method-assign]
    sys.modules["cv2"] = module


def _own_functions(namespace: dict[str, Any], filename: Callable[[str], bool]) -> list[types.FunctionType]:
    """Functions the submission itself defined that can be called with no argument."""
    found = []
    for value in list(namespace.values()):
        if not isinstance(value, types.FunctionType) or not filename(value.__code__.co_filename):
            continue
        try:
            params = inspect.signature(value).parameters.values()
        except (TypeError, ValueError):
            continue
        if all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            found.append(value)
    return found


def _call_for_locals(state: RunState, function: types.FunctionType) -> dict[str, Any]:
    """Call ``function`` and keep its local variables as they were when it returned (or raised)."""
    from grader.harness import runner

    captured: dict[str, Any] = {}
    code = function.__code__

    def profile(frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is code:
            captured.clear()
            captured.update(frame.f_locals)

    state.event("entry_point", name=function.__name__)
    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        function()
    except BaseException as exc:
        runner.record_error(exc, state, state.cells, state.job.submission_name)
    finally:
        sys.setprofile(previous)
    return captured


def _to_array(value: Any, limit: int) -> tuple[np.ndarray | None, str | None]:
    try:
        array = np.asarray(value)
    except Exception as exc:
        return None, f"it cannot be read as an array ({type(exc).__name__})"
    if array.dtype.kind not in "biuf":
        return None, f"it is not numeric (numpy dtype {array.dtype})"
    if array.nbytes > limit:
        return None, f"it is {array.nbytes} bytes, above the {limit}-byte cap"
    return array, None


def save_results(namespace: dict[str, Any], job: ArraysJob, folder: Path) -> list[SavedArray]:
    folder.mkdir(exist_ok=True)
    saved = []
    for name in job.names:
        if name not in namespace:
            saved.append(SavedArray(name=name, saved=False, problem="not defined"))
            continue
        array, problem = _to_array(namespace[name], job.max_array_bytes)
        if array is not None:
            np.save(folder / f"{name}.npy", array, allow_pickle=False)
        saved.append(SavedArray(name=name, saved=array is not None, problem=problem))
    return saved


def _write(state: RunState, record: ArraysRecord) -> None:
    path = state.scratch / "record.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(record.model_dump_json(), encoding="utf-8")
    os.replace(tmp, path)


def run(state: RunState) -> None:
    """Serve, run, find the results (top level, else the one zero-argument function) and save them."""
    from grader.harness import runner

    job = state.job.arrays
    assert job is not None  # the harness chose this mode because the job has one
    requests: list[str] = []
    with open(job.image_file, "rb") as handle:
        image = np.load(handle, allow_pickle=False)
    _serve(image, requests)
    _stand_in_cv2()
    is_notebook = state.job.kind == "notebook"
    namespace = runner.run_notebook(state) if is_notebook else runner.run_module(state)
    found_in: str | None = "top level"
    if job.names[0] not in namespace:
        name = state.job.submission_name
        mine = _own_functions(namespace, (lambda f: f.startswith("<ipython-input-")) if is_notebook else
                              (lambda f: f == name))
        found_in = None
        if len(mine) == 1:
            namespace = _call_for_locals(state, mine[0])
            found_in = f"function {mine[0].__name__}()"
    saved = save_results(namespace, job, state.scratch / RESULTS) if found_in else []
    _write(state, ArraysRecord(errors=state.errors, skipped=state.skipped, found_in=found_in, saved=saved,
                               image_requests=requests[:100], finished=True))
