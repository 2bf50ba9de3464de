#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (with network). Written by
# `cnngrade gradescope build` (cnngrade @VERSION@); everything grading needs is installed here, so grading a
# submission needs no network: Python >= 3.11, bubblewrap, cnngrade @VERSION@ from the wheel in this zip (with
# TensorFlow@EXTRAS_NOTE@), and the exercise's dataset, verified by its hashes.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX=@PREFIX@

export DEBIAN_FRONTEND=noninteractive
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  PY=python3
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv python3-pip
else  # Ubuntu 22.04, Gradescope's default base, ships Python 3.10
  PY=python3.11
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv
fi
"$PY" -m venv "$PREFIX/venv"
PYTHON="$PREFIX/venv/bin/python" bash "$SOURCE/@INSTALL@" "$SOURCE/@WHEEL@@EXTRAS@"

# The dataset (an arrays exercise: SciPy's ascent image): the copy shipped in this zip is verified, or it is
# downloaded now into the image (Keras' cache, cnngrade's cache) and verified; run_autograder points at both.
KERAS_HOME="$PREFIX/keras" XDG_CACHE_HOME="$PREFIX/cache" \
  "$PREFIX/venv/bin/python" -m grader.platforms.gradescope_run prepare "$SOURCE"
