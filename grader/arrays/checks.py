"""The checks of an arrays exercise. Each judges what the run saved against the grader's own computation on the
image the grader served; the first check that fails carries the cause, later ones say they were not reached."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grader.arrays import judge, reference
from grader.arrays.runs import ImageRun
from grader.arrays.spec import ArraysSpec
from grader.checks import LIMIT_TEXT, Outcome
from grader.spec import ExerciseSpec
from grader.submission import Submission

SEE = "not reached: {} (see '{}')"


@dataclass
class ArraysEvidence:
    spec: ExerciseSpec
    submission: Submission
    runs: list[ImageRun] = field(default_factory=list)  # ascent first, then the hidden image
    notes: list[str] = field(default_factory=list)

    @property
    def rules(self) -> ArraysSpec:
        assert self.spec.arrays is not None
        return self.spec.arrays

    @property
    def ascent(self) -> ImageRun | None:
        return self.runs[0] if self.runs else None

    @property
    def hidden(self) -> ImageRun | None:
        return self.runs[1] if len(self.runs) > 1 else None


def run_problem(run: ImageRun | None, rules: ArraysSpec, sub: Submission) -> tuple[str, str] | None:
    """Why this run gave nothing to judge: (what happened, the fix), or None when its results are there."""
    if sub.problem:
        return sub.problem, "Hand in the notebook or module itself."
    if run is None or run.child is None:
        return "the code was not run", "Fix the problem above."
    if run.child.timed_out:
        return (f"the run reached the {run.child.limit_s:g} s time limit",
                "A loop over every pixel takes a few seconds; look for a loop that runs far more often.")
    if run.child.limit in LIMIT_TEXT:
        text, fix = LIMIT_TEXT[run.child.limit]
        return text.split(":")[0], fix
    if run.record is None:
        return run.record_problem or "the run ended without a result", "Make sure the code runs to its end."
    if run.record.errors:
        e = run.record.errors[0]
        return (f"{e.where} raised {e.type}: {e.message}\n{e.traceback}",
                f"Fix the error in {e.where}; the code must run from top to bottom.")
    missing = [n for n in (rules.transformed, rules.pooled, rules.filter) if n not in run.arrays]
    if missing:
        reasons = "; ".join(f"'{n}': {judge.why_missing(run, n)}" for n in missing)
        if run.record.found_in and all(judge.why_missing(run, n) != "not defined" for n in missing):
            where = "at top level" if run.record.found_in == "top level" else f"in {run.record.found_in}"
            return (f"the results {where} cannot be used: {reasons}",
                    f"Keep them plain numbers: {rules.transformed} and {rules.pooled} numpy arrays of numbers, "
                    f"{rules.filter} a 3x3 list of numbers, {rules.weight} one number, as in the lesson.")
        where = f"in {run.record.found_in}" if run.record.found_in else (
            "at top level nor in a single function without arguments")
        return (f"the results were not found {where}: {reasons}",
                f"Keep the lesson's names: {', '.join(rules.names)} ({rules.weight} may be left out: "
                f"{rules.default_weight}), at the top level of the notebook or inside one function without arguments.")
    return None


def check_ran(ev: ArraysEvidence) -> Outcome:
    problem = run_problem(ev.ascent, ev.rules, ev.submission)
    if problem:
        return Outcome("ran", "Code ran", False, problem[0], problem[1])
    assert ev.ascent and ev.ascent.record
    where = ev.ascent.record.found_in
    text = "the code ran and left its results" + (
        "" if where == "top level" else f" in {where}, which cnngrade called since nothing else did")
    asked = ", ".join(dict.fromkeys(ev.ascent.record.image_requests)) or "not asked for (no ascent() call)"
    return Outcome("ran", "Code ran", True, f"{text}; image: {asked}")


def _ran(ev: ArraysEvidence, name: str) -> ImageRun | Outcome:
    """The ascent run when it left its results, else the failing Outcome for check ``name``."""
    run = ev.ascent
    if run_problem(run, ev.rules, ev.submission) or run is None:
        return Outcome(name, CHECK_NAMES[name], False, SEE.format("the code did not give its results", "Code ran"))
    return run


def _wrong_shape(run: ImageRun, rules: ArraysSpec, name: str) -> Outcome | None:
    result = run.arrays[rules.transformed]
    if result.shape == run.image.shape:
        return None
    return Outcome(name, CHECK_NAMES[name], False, f"{rules.transformed} has shape {list(result.shape)}, the image "
                   f"{list(run.image.shape)}", f"Start from a copy of the image: {rules.transformed} = np.copy(i).")


def _transformed(ev: ArraysEvidence, name: str) -> tuple[np.ndarray, np.ndarray, judge.Inputs] | Outcome:
    """The ascent run's i_transformed, image and inputs, or the failing Outcome for check ``name``."""
    run, rules = _ran(ev, name), ev.rules
    if isinstance(run, Outcome):
        return run
    given, why = judge.inputs(run, rules)
    if given is None:
        return Outcome(name, CHECK_NAMES[name], False, why or "", judge.DEGENERATE_HINT if judge.NOTHING_SHOWN in (why or "")
                       else f"{rules.filter} must be a 3x3 list of numbers and {rules.weight} one number, as in "
                       "the lesson.")
    return _wrong_shape(run, rules, name) or (run.arrays[rules.transformed], run.image, given)


def check_convolution(ev: ArraysEvidence) -> Outcome:
    got = _transformed(ev, "convolution")
    if isinstance(got, Outcome):
        return got
    result, image, given = got
    fit = judge.best(result, image, given, ev.rules)
    note = f" ({given.weight_note})" if given.weight_note else ""
    if fit.unclipped_ok:
        same = all(judge.interior(result, image, given, o, ev.rules).unclipped_ok for o in ev.rules.orientations)
        how = "every accepted orientation (they agree for this filter)" if same else judge.ORIENTATION_TEXT[fit.orientation]
        return Outcome("convolution", CHECK_NAMES["convolution"], True,
                       f"the interior matches the filter applied in {how}{note}")
    slip = judge.slip(result, image, given, ev.rules)
    return Outcome("convolution", CHECK_NAMES["convolution"], False, f"on ascent, {fit.example}{note}",
                   slip or "Compute each interior pixel as the lesson does: the 9 neighbours times the filter, "
                           "summed, times weight.")


def check_margin(ev: ArraysEvidence) -> Outcome:
    # The margin does not depend on the filter: a bad filter is said once, under the convolution check.
    run = _ran(ev, "margin")
    if isinstance(run, Outcome):
        return run
    wrong = _wrong_shape(run, ev.rules, "margin")
    if wrong:
        return wrong
    result, image = run.arrays[ev.rules.transformed], run.image
    rim = np.ones(image.shape, dtype=bool)
    rim[1:-1, 1:-1] = False
    ok = judge.close(result[rim], image[rim], ev.rules.tolerance)
    if ok.all():
        return Outcome("margin", CHECK_NAMES["margin"], True, "the 1-pixel border is left as in the image")
    zero = bool(np.all(result[rim] == 0))
    return Outcome("margin", CHECK_NAMES["margin"], False,
                   f"{int((~ok).sum())} of {int(rim.sum())} border pixels differ from the image" +
                   (" (they are all 0)" if zero else ""),
                   "The border is 0: start from a copy of the image (i_transformed = np.copy(i)), not np.zeros, and "
                   "loop over range(1, size_x - 1) so the 1-pixel margin keeps the image's values." if zero else
                   "The 1-pixel margin must keep the image's values: loop over range(1, size_x - 1) and "
                   "range(1, size_y - 1), leaving the border of np.copy(i) untouched.")


def check_clipping(ev: ArraysEvidence) -> Outcome:
    got = _transformed(ev, "clipping")
    if isinstance(got, Outcome):
        return got
    result, image, given = got
    fit = judge.best(result, image, given, ev.rules)
    low, high = ev.rules.clip
    if not fit.unclipped_ok:
        return Outcome("clipping", CHECK_NAMES["clipping"], False, SEE.format("the convolution is not right",
                                                                               CHECK_NAMES["convolution"]))
    if fit.clipped_count == 0:
        return Outcome("clipping", CHECK_NAMES["clipping"], True,
                       f"no pixel's result fell outside [{low:g}, {high:g}] with this filter on ascent")
    if fit.clipped_ok:
        return Outcome("clipping", CHECK_NAMES["clipping"], True,
                       f"the {fit.clipped_count} results outside [{low:g}, {high:g}] were clipped")
    return Outcome("clipping", CHECK_NAMES["clipping"], False,
                   f"{fit.clipped_count} results fall outside [{low:g}, {high:g}] on ascent and were not set to "
                   f"{low:g} or {high:g}",
                   f"Clip each result before writing it: if convolution < {low:g}, use {low:g}; if above {high:g}, "
                   f"use {high:g}.")


def check_hidden(ev: ArraysEvidence) -> Outcome:
    name, run, rules = CHECK_NAMES["hidden_image"], ev.hidden, ev.rules
    if run_problem(ev.ascent, rules, ev.submission):
        return Outcome("hidden_image", name, False, SEE.format("the code did not give its results", "Code ran"))
    for check in (check_convolution, check_margin, check_clipping):
        first = check(ev)
        if not first.passed:
            return Outcome("hidden_image", name, False, SEE.format("the result is not right on ascent yet", first.name))
    problem = run_problem(run, rules, ev.submission)
    if problem or run is None:
        text = problem[0] if problem else "not run"
        return Outcome("hidden_image", name, False, f"on the hidden image: {text}",
                       "The code must compute its results from the image ascent() returns, whatever it is.")
    given, why = judge.inputs(run, rules)
    on_ascent, _ = judge.inputs(ev.ascent, rules) if ev.ascent else (None, None)
    if given and on_ascent and (not np.array_equal(given.kernel, on_ascent.kernel) or given.weight != on_ascent.weight):
        return Outcome("hidden_image", name, False, f"on the hidden image the code used {rules.filter} "
                       f"{given.kernel.tolist()} and {rules.weight} {given.weight:g}, on ascent "
                       f"{on_ascent.kernel.tolist()} and {on_ascent.weight:g}",
                       f"Choose {rules.filter} and {rules.weight} once: they must not depend on the image.")
    result = run.arrays[rules.transformed]
    if given and judge.whole(result, run.image, given, rules):
        return Outcome("hidden_image", name, True, "the convolution, margin and clipping are right on an image "
                       "only the grader knew")
    copied = ev.ascent is not None and rules.transformed in ev.ascent.arrays and np.array_equal(
        ev.ascent.arrays[rules.transformed], result)
    if copied:
        return Outcome("hidden_image", name, False, "on a different image the code gave the same i_transformed as on "
                       "ascent", "The result must be computed from the image: it looks hard-coded or loaded.")
    return Outcome("hidden_image", name, False, f"on an image only the grader knows, {rules.transformed} is not the "
                   f"filtered image{': ' + why if why else ''}",
                   "Compute the result from the image ascent() returns, with the loops of the lesson.")


def _pooled(ev: ArraysEvidence, run: ImageRun) -> np.ndarray | None:
    return run.arrays.get(ev.rules.pooled)


def check_pooling_shape(ev: ArraysEvidence) -> Outcome:
    name, rules = CHECK_NAMES["pooling_shape"], ev.rules
    if run_problem(ev.ascent, rules, ev.submission) or ev.ascent is None:
        return Outcome("pooling_shape", name, False, SEE.format("the code did not give its results", "Code ran"))
    pooled = _pooled(ev, ev.ascent)
    want = rules.pooled_size
    if pooled is not None and pooled.shape == want:
        return Outcome("pooling_shape", name, True, f"{rules.pooled} is {want[0]}x{want[1]}")
    shape = list(pooled.shape) if pooled is not None else None
    overlap = shape is not None and len(shape) == 2 and shape[0] > want[0]
    return Outcome("pooling_shape", name, False, f"{rules.pooled} has shape {shape}, expected {list(want)}",
                   f"The pooling windows overlap: step by {rules.pool_size} so that each {rules.pool_size}x"
                   f"{rules.pool_size} block gives one pixel." if overlap else
                   f"{rules.pooled} holds one pixel per {rules.pool_size}x{rules.pool_size} block: "
                   f"np.zeros((size_x // {rules.pool_size}, size_y // {rules.pool_size})).")


def check_pooling_values(ev: ArraysEvidence) -> Outcome:
    name, rules = CHECK_NAMES["pooling_values"], ev.rules
    if run_problem(ev.ascent, rules, ev.submission) or ev.ascent is None:
        return Outcome("pooling_values", name, False, SEE.format("the code did not give its results", "Code ran"))
    for run in ev.runs:
        pooled = _pooled(ev, run)
        if pooled is None or pooled.shape != rules.pooled_size:
            return Outcome("pooling_values", name, False, SEE.format(f"{rules.pooled} has the wrong shape",
                                                                     CHECK_NAMES["pooling_shape"]))
        base = run.arrays.get(rules.transformed)
        if base is None or base.shape != run.image.shape:
            return Outcome("pooling_values", name, False, f"{run.on}, {rules.transformed} is missing")
        want = reference.max_pool(base.astype(np.float64), rules.pool_size, rules.pool_size)
        if not judge.close(pooled, want, rules.tolerance).all():
            slip = judge.pooling_slip(pooled, base.astype(np.float64), run.image, rules)
            wrong = int((~judge.close(pooled, want, rules.tolerance)).sum())
            return Outcome("pooling_values", name, False, f"{run.on}, {wrong} of {pooled.size} pooled "
                           f"pixels are not the largest of their {rules.pool_size}x{rules.pool_size} block of "
                           f"{rules.transformed}", slip or "Each pixel of newImage is the largest of the 4 pixels "
                           "of its 2x2 block: newImage[x // 2, y // 2] = max(i_transformed[x:x+2, y:y+2]).")
    return Outcome("pooling_values", name, True, f"each pixel is the largest of its {rules.pool_size}x"
                   f"{rules.pool_size} block of {rules.transformed}, on ascent and on the hidden image")


CHECK_NAMES = {"ran": "Code ran", "convolution": "Convolution on ascent", "margin": "Margin left as in the image",
               "clipping": "Clipping to [0, 255]", "hidden_image": "Convolution on a hidden image",
               "pooling_shape": "Pooled shape", "pooling_values": "Max pooling"}
CHECKS = (check_ran, check_convolution, check_margin, check_clipping, check_hidden, check_pooling_shape,
          check_pooling_values)
