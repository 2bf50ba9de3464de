#!/usr/bin/env bash
# Gradescope runs this for every submission (written by `cnngrade gradescope build`, cnngrade @VERSION@).
# It grades the notebook or module in $ROOT/submission and ALWAYS leaves a valid $ROOT/results/results.json:
# when grading itself cannot start, the fallback below says so, marked "not_graded" in extra_data.status.
# $@ROOT_VARIABLE@ is the root (default /autograder): `cnngrade gradescope run` points it at a scratch folder.
ROOT="${@ROOT_VARIABLE@:-/autograder}"
PYTHON="${@PYTHON_VARIABLE@:-@PREFIX@/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
if [[ -d "@PREFIX@/keras" && -z "${CNNGRADE_DATA:-}" ]]; then
  export KERAS_HOME="@PREFIX@/keras"  # the dataset setup.sh fetched and verified
fi
if [[ -d "@PREFIX@/cache" && -z "${XDG_CACHE_HOME:-}" ]]; then
  export XDG_CACHE_HOME="@PREFIX@/cache"  # cnngrade's cache: the ascent image or a converted dataset setup.sh kept
fi
cd "$ROOT" 2>/dev/null || true
"$PYTHON" -m grader.platforms.gradescope_run grade "$ROOT"
if [[ ! -s "$RESULTS" ]]; then
  cat > "$RESULTS" <<'JSON'
{"score": 0.0, "execution_time": 0.0, "stdout_visibility": "hidden", "tests": [],
 "output": "Not graded: the autograder could not start. This is a problem on the grading side, not in your submission; your instructor can see the details. Please tell them.",
 "extra_data": {"status": "not_graded", "error": "run_autograder: the grading process left no results (see the autograder output)"}}
JSON
fi
exit 0
