"""cnngrade: a trustworthy autograder for the TensorFlow/Keras CNN exercises.

The package reads as the data flow of one grade:
submission (load) -> sandbox + harness (run) -> artifacts (collect) -> measure (re-measure)
-> checks (decide) -> report (write).
"""
from __future__ import annotations

__version__ = "0.1.0"
