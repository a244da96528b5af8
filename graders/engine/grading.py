"""Running a grader module under pytest for one submission.

The grader runs in this (trusted) process; student code runs only in the sandbox the plugin
starts. pytest is pointed at our own ini file and the grader package's folder, never at the
submission's folder, so nothing the student hands in is ever collected or imported here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from graders.engine.discovery import GRADERS_DIR, GraderInfo, find
from graders.engine.plugin import Prestarted
from graders.engine.results import failure_results, load_results, write_results
from graders.engine.sandbox import BLAS_THREADS
from graders.engine.submission import Submission

INI = Path(__file__).resolve().with_name("pytest_grading.ini")


def pytest_args(info: GraderInfo, extra: list[str]) -> list[str]:
    args = [
        str(info.folder),
        "-c",
        str(INI),
        "--rootdir",
        str(GRADERS_DIR.parent),
        "-q",
        # Students' messages are built by the plugin; pytest's own traceback rendering re-parses
        # source for every failure and took 10 of 12 s on a notebook of stubs.
        "--tb=no",
        # Only our plugin: third-party pytest plugins installed beside us (hypothesis, ...) have
        # no business in a grading run, and cost start-up time.
        "-p",
        "graders.engine.plugin",
        *extra,
    ]
    return args


def grade(
    assignment: str,
    submission: str | os.PathLike,
    results: str | os.PathLike | None = None,
    *,
    data: str | os.PathLike | None = None,
    visible_only: bool = False,
    log: io.TextIOBase | None = None,
    grader_folder: str | os.PathLike | None = None,
) -> dict:
    """Grade one submission; results.json is always written (to `results`, or a temp file) and returned.

    grader_folder: run the tests of this copy of the assignment's grader package (e.g. a fixed test
    tried on last year's submissions before release) instead of the installed one.
    """
    with one_blas_thread():
        return _grade(assignment, submission, results, data, visible_only, log, grader_folder)


def _grade(assignment, submission, results, data, visible_only, log, grader_folder) -> dict:
    info = find(assignment)
    if grader_folder is not None:
        info = dataclasses.replace(info, folder=Path(grader_folder).resolve())
    with tempfile.TemporaryDirectory(prefix="nngrade-results-") as tmp:
        out = Path(results) if results else Path(tmp) / "results.json"
        extra = ["--submission", str(Path(submission).resolve()), "--results", str(out)]
        if data:
            extra += ["--data", str(data)]
        if visible_only:
            extra.append("--visible-only")
        sink = log if log is not None else io.StringIO()
        # The worker boots (Python, confinement) while pytest configures and collects.
        try:
            early = Submission(Path(submission).resolve(), info.assignment)
            early.prestart()  # never raises: a failure recurs in the tests, with the student's message
        except Exception:  # the plugin meets it again inside the session, where results record it
            early = None
        plugins = [Prestarted(early)] if early is not None else []
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                code = without_autoload(lambda: pytest.main(pytest_args(info, extra), plugins=plugins))
        except Exception:
            code, crash = -1, traceback.format_exc()
        else:
            crash = f"pytest exited with {code!r} without writing results\n{sink.getvalue()[-5000:]}"
        finally:
            if early is not None:
                early.close()  # already closed by the plugin, unless pytest stopped before its session
        if not out.exists():
            write_results(
                out,
                failure_results(
                    "The autograder could not grade this submission. Resubmit, or contact the course staff.",
                    crash,
                ),
            )
            return load_results(out)
        if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            # The plugin validated this dict before writing it; validating it again costs 30 ms.
            return json.loads(out.read_text(encoding="utf-8"))
        return load_results(out)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """The grader's numpy on one BLAS thread while a grade runs.

    Its matrices are small (a batch, a gradient check): a second OpenBLAS thread spun for 0.5 s of
    CPU per hw2 grade without shortening it, and with several grades at once (nngrade batch) each
    one's spinning threads took cores from the others. Student code has one thread already
    (sandbox.py). Afterwards the environment is as it was, and so is the thread count of a numpy
    loaded before the grade; a numpy first loaded during the grade keeps one thread.
    """
    saved = {name: os.environ.get(name) for name in BLAS_THREADS}
    os.environ.update(dict.fromkeys(BLAS_THREADS, "1"))  # read when numpy loads its BLAS
    limits = None
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=1, user_api="blas")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if limits is not None:
            limits.restore_original_limits()


def without_autoload(run):
    """Run with pytest's entry-point plugin loading off (restored afterwards)."""
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        return run()
    finally:
        if previous is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
