# Attack: reads the reference solutions, the exercise folder and the grader's home.
from pathlib import Path

import grader

repo = Path(grader.__file__).resolve().parent.parent
leaked = []
for target in (repo / "solutions" / "mnist-single-conv" / "reference_module.py",
               repo / "exercises" / "mnist-single-conv" / "exercise.toml",
               repo / "tests" / "fixtures" / "mnist-single-conv" / "two_convolutions.py",
               Path.home() / ".bash_history"):
    try:
        if target.read_text():
            leaked.append(str(target))
    except OSError:
        pass
if leaked:
    raise RuntimeError("LEAKED: " + ", ".join(leaked))
