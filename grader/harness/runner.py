"""Execute the student's code: notebook cells with IPython semantics, or a module as a script.

Execution goes on past a failing cell; each error is recorded with its cell (or line) and a traceback trimmed
to the student's own frames. Shell escapes and package installs are recorded as skipped, never run.
"""
from __future__ import annotations

import builtins
import re
import sys
import traceback
from typing import Any

from grader.harness.state import RunState
from grader.protocol import CellError, Skipped

SKIPPED_LINE_MAGICS = ("pip", "conda", "mamba", "micromamba", "uv", "system", "sx")
SKIPPED_CELL_MAGICS = ("bash", "sh", "script", "system", "perl", "ruby", "python", "python2", "python3", "pypy")
_INPUT_NAME = re.compile(r"<ipython-input-(\d+)-")


def _skip(state: RunState, command: str, reason: str) -> None:
    state.skipped.append(Skipped(cell=state.cell, command=command.strip()[:300], reason=reason))


def _locate(filename: str, state: RunState, cells: dict[int, int | None], module_name: str) -> tuple[str, int | None] | None:
    match = _INPUT_NAME.match(filename)
    if match:
        cell = cells.get(int(match.group(1)))
        return (f"cell {cell}" if cell else "cell ?"), cell
    if filename == module_name:
        return "module", None
    return None


def _rejected(exc: BaseException) -> bool:
    """cnngrade's fail-fast refusal (not the student's frames), told by its class without importing Keras: the
    arrays mode runs this module with no TensorFlow at all."""
    kind = type(exc)
    return kind.__name__ == "ArchitectureRejected" and kind.__module__ == "grader.harness.intercept"


def record_error(exc: BaseException, state: RunState, cells: dict[int, int | None], module_name: str) -> None:
    frames = traceback.extract_tb(exc.__traceback__)
    lines, line = [], None
    # The error belongs to the cell that was running; the traceback shows where inside the student's code.
    cell = state.cell
    message = str(exc)[:2000]
    if isinstance(exc, SyntaxError) and exc.filename:
        located = _locate(exc.filename, state, cells, module_name)
        line = exc.lineno
        lines.append(f"  {located[0] if located else 'line'}, line {exc.lineno}")
        if exc.text:
            lines.append("    " + exc.text.strip())
        message = str(exc.msg)
    if not _rejected(exc):
        for frame in frames:
            located = _locate(frame.filename, state, cells, module_name)
            if located is None:
                continue
            line = frame.lineno
            lines.append(f"  {located[0]}, line {frame.lineno}, in {frame.name}")
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        if frames and not isinstance(exc, SyntaxError) and _locate(frames[-1].filename, state, cells, module_name) is None:
            lines.append(f"  (raised inside {frames[-1].filename.rsplit('site-packages/', 1)[-1]}, line {frames[-1].lineno})")
    where = f"entry point {state.job.entry_point}()" if state.in_entry_point else (
        f"cell {cell}" if cell is not None else (f"line {line}" if line else "module"))
    text = "\n".join(lines + [f"{type(exc).__name__}: {message}"])
    state.errors.append(CellError(cell=cell, line=line, where=where, type=type(exc).__name__,
                                  message=message, traceback=text))
    print(f"\n[cnngrade] error in {where}:\n{text}", file=sys.stderr)


def _make_shell(state: RunState) -> Any:  # IPython's shell is patched in place: typed as Any on purpose
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell: Any = InteractiveShell.instance(config=config)

    def system(cmd: str, *args: Any, **kwargs: Any) -> None:
        _skip(state, "!" + cmd, "shell commands are not run by the grader")

    def getoutput(cmd: str, *args: Any, **kwargs: Any) -> list[str]:
        _skip(state, "!!" + cmd, "shell commands are not run by the grader")
        return []

    shell.system = shell.system_raw = shell.system_piped = system
    shell.getoutput = getoutput
    for name in SKIPPED_LINE_MAGICS:
        shell.register_magic_function(
            lambda line, _n=name: _skip(state, f"%{_n} {line}", "installs and shell commands are not run by the grader"),
            magic_kind="line", magic_name=name)
    # Plots render headless (MPLBACKEND=Agg); %matplotlib inline would ask a GUI loop of this plain shell.
    shell.register_magic_function(lambda line: None, magic_kind="line", magic_name="matplotlib")
    for name in SKIPPED_CELL_MAGICS:
        shell.register_magic_function(
            lambda line, cell, _n=name: _skip(state, f"%%{_n} {line}", "shell cells are not run by the grader"),
            magic_kind="cell", magic_name=name)
    # Errors are recorded (trimmed) by the harness; IPython's own coloured dump would only add noise.
    shell.showtraceback = shell.showsyntaxerror = lambda *a, **k: None
    return shell


def run_notebook(state: RunState) -> dict[str, Any]:
    shell = _make_shell(state)
    cells: dict[int, int | None] = {}
    for unit in state.job.units:
        state.cell = unit.cell
        state.event("cell", cell=unit.cell)
        cells[shell.execution_count] = unit.cell
        if unit.cell is not None:
            state.cells_out.start(unit.cell)
        result = shell.run_cell(unit.source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            record_error(error, state, cells, "")
    state.cells_out.stop()
    state.cell = None
    state.cells = cells
    return shell.user_ns


def run_module(state: RunState) -> dict[str, Any]:
    name = state.job.submission_name
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": name, "__builtins__": builtins}
    state.event("cell", cell=None)
    try:
        code = compile(state.job.units[0].source, name, "exec")
        exec(code, namespace)  # noqa: S102 - this is the sandboxed student process
    except SystemExit as exc:
        if exc.code not in (None, 0):
            record_error(exc, state, {}, name)
    except BaseException as exc:
        record_error(exc, state, {}, name)
    return namespace


def call_entry_point(state: RunState, namespace: dict[str, Any]) -> None:
    """Call the exercise's entry point when the code defined it but training did not happen yet."""
    name = state.job.entry_point
    if not name or state.fits or not callable(namespace.get(name)):
        return
    state.in_entry_point = True
    state.meta["entry_point_called"] = True
    state.event("entry_point", name=name)
    if state.job.kind == "notebook":
        state.cells_out.start(0)
    try:
        namespace[name]()
    except BaseException as exc:
        record_error(exc, state, state.cells, state.job.submission_name)
    finally:
        state.cells_out.stop()
        state.in_entry_point = False
