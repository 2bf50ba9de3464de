"""HTML feedback: a self-contained report per submission and a class dashboard (issue 13).

charts (PNG figures, deterministic), report_page (one student), notebook_view (the cells as the grader ran them),
dashboard (the class), gradescope (results.json's html output). Templates live in templates/, autoescaped.
"""
