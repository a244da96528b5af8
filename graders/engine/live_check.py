"""`check("hw2")` from inside a notebook: the visible tests, run on the code of the live session.

Where the code comes from. In Jupyter, Colab or IPython there may be no notebook file on disk
(Colab keeps it in Drive; an unsaved Jupyter notebook lags behind its kernel), so the source is
taken from the kernel's input history: every cell the session ran, as typed, in the order it
ran them. The history is written out as an .ipynb with one code cell per execution count, so the
loader's notes read "cell 7, line 2" for the cell shown as [7]. A cell re-run after an edit
appears twice, and the later run wins, exactly as in the kernel. The loader keeps only
definitions, so the cell that calls check(), training loops and downloads are read but never run.
Outside IPython, the script that was started (`python my_hw2.py`) is graded instead.

Why another process. The file is graded by `python -m graders.engine.live_check`, the same
loader, sandboxed worker and pytest plugin as `nngrade check`, never by pytest inside the kernel:
pytest's output capture swaps file descriptors 1 and 2 under the kernel's own output
forwarding (harmless with ipykernel 7, as measured, but other kernels forward differently); a
second check in the same kernel would meet pytest's and the grader's modules
already imported; and the trusted grader must not share numpy with a session the student may
have changed (np.seterr, a patched function). Measured on hw2 (a 2-core machine): 0.75 s per
check in a subprocess, against 0.73 s for a first in-kernel grade and 0.40 s for later ones.
Nothing heavy is imported into the kernel: no pytest, no numpy.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import site
import subprocess
import sys
import tempfile
from pathlib import Path

import graders
from graders.engine.notebook_table import HIDDEN_NOTE, html_report, totals, visible_tests

SESSION_FILE = "this_notebook.ipynb"
EXIT_OK, EXIT_USAGE = 0, 2
STOP_GRACE_SECONDS = 5  # after an interrupt, time the grader gets to stop its sandbox before a kill
# nngrade's own import, on a line of its own at top level. The sandbox refuses to import graders,
# so left in, it would only add an "import not available" line to every check's notes.
_OWN_IMPORT = re.compile(
    r"^(?:from[ \t]+graders(?:\.[\w.]+)?[ \t]+import[ \t]+[\w, \t]+"
    r"|import[ \t]+graders(?:\.[\w.]+)?(?:[ \t]+as[ \t]+\w+)?)[ \t]*(?:#.*)?$",
    re.MULTILINE,
)


class LiveCheckError(Exception):
    """check() cannot grade from here; the message says what to do instead."""


class CheckResults(dict):
    """The results dict of a check (visible tests only), shown by IPython as a one-line summary."""

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        earned, possible, passed = totals(visible_tests(self))
        printer.text(
            f"<nngrade check: {earned:g} / {possible:g} points, {passed} of {len(self.get('tests', []))} "
            "visible tests passed; the details are in ['tests']>"
        )


def check(assignment: str, *, data: str | os.PathLike | None = None) -> CheckResults:
    """Run the visible tests of `assignment` on this notebook's (or script's) code; show and return them."""
    if not isinstance(assignment, str) or not assignment:
        raise TypeError(f'check() needs the assignment\'s name, e.g. check("hw2"), not {assignment!r}')
    if data is not None and not Path(data).exists():
        raise LiveCheckError(f"data={os.fspath(data)!r}: no such file or folder")
    shell = ipython_shell()
    with tempfile.TemporaryDirectory(prefix="nngrade-live-") as tmp:
        if shell is not None:
            cells = session_cells(shell)
            path = Path(tmp, SESSION_FILE)
            path.write_text(json.dumps(session_notebook(cells)), encoding="utf-8")
            title = f"Visible checks for {assignment}: the cells this session ran ([1] to [{len(cells)}])"
        else:
            script = main_script()
            path = Path(tmp, script.name)
            copy_without_own_imports(script, path)
            title = f"Visible checks for {assignment}: {script.name}"
        results = run_grader(assignment, path, data)
    shown = CheckResults(results, tests=visible_tests(results))
    _show(shown, shell, title)
    return shown


def ipython_shell():
    """The running IPython shell, or None.

    IPython is looked up, not imported: inside Jupyter, Colab or IPython it is already loaded,
    and outside them (a plain script with IPython merely installed) there is no shell to ask.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if callable(get_ipython) else None


def session_cells(shell) -> list[str]:
    """The source of every cell the session ran, as typed; entry k-1 is the cell shown as [k].

    The raw history keeps magics as typed (`%%time` above a def), which the loader knows how to
    read; IPython's `In` holds the translated text, where a `%%time` cell's defs are hidden inside
    a string, so it is only the fallback for a shell without a history manager.
    """
    manager = getattr(shell, "history_manager", None)
    history = getattr(manager, "input_hist_raw", None)
    if not history:
        history = getattr(shell, "user_ns", {}).get("In")
    if not history:
        raise LiveCheckError(
            "This IPython session keeps no history of its cells, so check() cannot see your code. "
            "Save the notebook and run `nngrade check YOUR_NOTEBOOK.ipynb` in a terminal instead."
        )
    return [str(source) for source in list(history)[1:]]  # entry 0 is IPython's empty placeholder


def session_notebook(cells: list[str]) -> dict:
    """An nbformat-4 notebook with one code cell per history entry, in history order.

    An entry that is blank still gets a cell (a comment), because the loader numbers non-empty
    code cells from 1 and its "cell k" must stay the execution count [k] the student sees.
    """
    code_cells = []
    for count, source in enumerate(cells, 1):
        text = without_own_imports(source) if source.strip() else f"# [{count}] ran no code"
        code_cells.append(
            {
                "cell_type": "code",
                "id": f"run-{count}",
                "metadata": {},
                "execution_count": count,
                "outputs": [],
                "source": text,
            }
        )
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": code_cells,
    }


def without_own_imports(source: str) -> str:
    """The source with top-level `from graders import ...` lines commented out (line numbers kept)."""
    return _OWN_IMPORT.sub(lambda match: "# " + match.group(0), source)


def main_script() -> Path:
    """The .py file this Python was started with, or LiveCheckError saying what to do instead."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path or Path(path).suffix.lower() != ".py" or not Path(path).is_file():
        raise LiveCheckError(
            "check() grades the notebook it runs in, or the .py script it is called from, and here "
            "there is neither (an interactive Python prompt, or `python -c`). Run it in a notebook "
            "cell, or save your work and run `nngrade check YOUR_FILE.py --assignment NAME` in a terminal."
        )
    return Path(path).resolve()


def copy_without_own_imports(script: Path, target: Path) -> None:
    """Copy a script for grading; text that is not UTF-8 is copied as is, for the loader to judge."""
    data = script.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        target.write_bytes(data)
        return
    target.write_text(without_own_imports(text), encoding="utf-8", newline="")


def run_grader(assignment: str, submission: Path, data: str | os.PathLike | None = None) -> dict:
    """Grade `submission`'s visible tests in a fresh Python process; its results dict."""
    out = submission.with_name("results.json")
    command = [sys.executable, "-m", "graders.engine.live_check", assignment, str(submission)]
    command += ["--results", str(out)] + (["--data", str(Path(data).resolve())] if data else [])
    # No timeout here: the sandbox limits each call and the whole submission, so the grader ends
    # on its own; a student who interrupts the cell stops it (see _stop).
    process = subprocess.Popen(
        command,
        cwd=submission.parent,  # never the student's folder: nothing there (a conftest.py) may apply
        env=_child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    try:
        _, errors = process.communicate()
    except BaseException:  # KeyboardInterrupt from the notebook's stop button, above all
        _stop(process)
        raise
    if process.returncode == EXIT_USAGE:
        raise LiveCheckError(errors.strip().splitlines()[-1] if errors.strip() else "the checker refused")
    if not out.is_file():
        raise LiveCheckError(
            f"The checker stopped without results (exit code {process.returncode}). Save the notebook "
            "and run `nngrade check YOUR_NOTEBOOK.ipynb` in a terminal; if that fails too, send this "
            f"message to the course staff. The checker's last output:\n{errors[-3000:]}"
        )
    return json.loads(out.read_text(encoding="utf-8"))


def _child_env() -> dict[str, str]:
    """This environment, with the folder this `graders` came from on the child's path.

    The kernel may have found nngrade in its working folder or through a sys.path entry added at
    run time (a clone in Colab), neither of which the child, started elsewhere, would see. A
    site-packages folder is on the child's path already, and is not put ahead of the standard
    library by adding it here.
    """
    env = dict(os.environ)
    root = str(Path(graders.__file__).resolve().parent.parent)
    site_folders = {str(Path(p).resolve()) for p in (*site.getsitepackages(), site.getusersitepackages())}
    if root not in site_folders:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _stop(process: subprocess.Popen) -> None:
    """SIGINT first, so pytest finishes and the sandbox kills its worker; SIGKILL if that hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _show(results: CheckResults, shell, title: str) -> None:
    """An HTML table in a notebook (text where HTML cannot show); a terminal table otherwise."""
    if shell is None:
        from rich.console import Console

        from graders.engine.report import show

        show(results, Console(), include_hidden=False, title=title)
        print(HIDDEN_NOTE)
        return
    footnote = "Cell numbers are the execution counts [n] shown beside your cells."
    bundle = {"text/plain": _text_report(results, title), "text/html": html_report(results, title, footnote)}
    # What IPython.display.display does with a ready-made bundle, without importing IPython here.
    shell.display_pub.publish(data=bundle, metadata={})


def _text_report(results: dict, title: str) -> str:
    from rich.console import Console

    from graders.engine.report import show

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, force_terminal=False, force_jupyter=False)
    show(results, console, include_hidden=False, title=title)
    return buffer.getvalue() + HIDDEN_NOTE + "\n"


def main(argv: list[str] | None = None) -> int:
    """The grading side, in its own process: visible tests of one file into a results.json."""
    parser = argparse.ArgumentParser(prog="python -m graders.engine.live_check")
    parser.add_argument("assignment")
    parser.add_argument("submission")
    parser.add_argument("--results", required=True)
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    # Imported here: pytest and the grader load in this process only, never in the kernel.
    from graders.engine.errors import UnknownAssignment
    from graders.engine.grading import grade

    try:
        grade(args.assignment, args.submission, args.results, data=args.data, visible_only=True)
    except UnknownAssignment as exc:
        print(f"check(): {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
