"""Code that runs inside the sandboxed child, next to the student's code.

Nothing here decides a grade: it serves data offline, intercepts ``fit`` to enforce the epoch budget and
record what happened, and exports the trained model for the trusted re-measurement.
"""
