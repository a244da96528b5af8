"""The `submission` a grader test receives: a proxy to the student's code running in the sandbox.

Graders never touch student objects; they call functions by name with plain data and get
plain data back. Every failure arrives as a SubmissionError whose message is for the student.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.engine.assignment import Assignment
from graders.engine.errors import SubmissionError
from graders.engine.files import submission_files
from graders.engine.loading import LoadedSubmission, LoadError, load_submission
from graders.engine.sandbox import LoadReport, Sandbox


class Submission:
    """One student's submission, loaded once and shared by every test of a grading session."""

    def __init__(self, path: str | Path, assignment: Assignment) -> None:
        self.path = Path(path)
        self.assignment = assignment
        self.loaded: LoadedSubmission | None = None
        self.report: LoadReport | None = None
        self.load_error: str | None = None
        self._sandbox: Sandbox | None = None
        self._load_failure: SubmissionError | None = None
        self.load_seconds = 0.0  # waiting for the worker's greeting and loading the definitions
        # A function that hung once is not run again: each further test would wait out its own
        # timeout, and a few of them would use up the whole submission's time budget.
        self._hung: dict[str, SubmissionError] = {}
        self._installed: set[tuple[str, str]] = set()
        self._remembered: dict = {}
        try:
            self.loaded = load_submission(
                self.path, assignment.required, assignment.mode, assignment.max_bytes
            )
        except LoadError as exc:
            self.load_error = str(exc)

    def prestart(self) -> None:
        """Start the worker process now, so that it boots while pytest collects the grader."""
        if self.load_error is None and self._sandbox is None:
            try:
                self._sandbox = self._new_sandbox()
                self._sandbox.spawn()
            except Exception:  # raised again on first use, inside a test, with the student's message
                self.close()
                self._sandbox = None

    def _new_sandbox(self) -> Sandbox:
        return Sandbox(submission_files(self.path, self.assignment.max_bytes), self.assignment.sandbox)

    def _sb(self) -> Sandbox:
        if self.load_error is not None:
            raise SubmissionError("missing", f"Your submission could not be read: {self.load_error}")
        if self._load_failure is not None:  # the same answer for every test, without retrying
            raise self._load_failure
        if self._sandbox is None:
            self._sandbox = self._new_sandbox()
        if self.report is None:
            start = time.monotonic()
            try:
                self.report = self._sandbox.load(self.loaded)
            except SubmissionError as exc:
                self._load_failure = exc
                raise
            finally:
                self.load_seconds = time.monotonic() - start
        return self._sandbox

    def close(self) -> None:
        """Stop the worker and remove its directory."""
        if self._sandbox is not None:
            self._sandbox.close()

    @property
    def usage(self):
        """The worker's resource use so far (complete after close())."""
        return self._sandbox.usage if self._sandbox is not None else None

    @property
    def probe(self) -> dict:
        """The protections active in the worker (empty until it starts)."""
        return self._sandbox.probe if self._sandbox is not None else {}

    def defines(self, name: str) -> bool:
        """Whether the submission defines `name` at module level (as the worker saw it)."""
        self._sb()
        return name in self.report.defined

    def require(self, *names: str) -> None:
        """Fail the current test with a clear message unless every name is defined."""
        missing = [n for n in names if not self.defines(n)]
        if missing:
            listed = ", ".join(f"`{n}`" for n in missing)
            raise SubmissionError(
                "missing",
                f"Your submission does not define {listed}. Keep the function names and signatures "
                "exactly as in the handout.",
            )

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """The value of name(*args, **kwargs), computed in the sandbox."""
        self.require(name)
        return self._guarded(name, lambda: self._sb().call(name, *args, timeout=timeout, **kwargs).value)

    def use_drivers(self, module: ModuleType, *names: str) -> None:
        """Install trusted driver functions from `module` (its whole source) in the worker."""
        source = inspect.getsource(module)
        for name in names:
            if (module.__name__, name) not in self._installed:  # graders may ask in every test
                self._sb().define_driver(name, source)
                self._installed.add((module.__name__, name))

    def keep(self, name: str, value: Any) -> Any:
        """Send `value` to the worker once per session; returns the driver argument that stands for it.

        For large inputs several driver calls share (a training set): drivers must not change it,
        or copy it first, since every call sees the same array.
        """

        def send() -> Any:
            try:
                return self._sb().keep(name, value)
            except SubmissionError as exc:  # its message would name our request, not your code
                raise exc.with_message(
                    f"Your code's process stopped while the grader was handing it data ({exc.message}). "
                    "This happens when the definitions the grader runs (imports, functions, constants) "
                    "use up most of the memory or leave work running in the background: move any "
                    "large computation into a function."
                ) from None

        return self.once(("keep", name), send)

    def driver(
        self, name: str, *args: Any, exercises: str, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        """Run an installed driver that exercises the student function `exercises`.

        Its value is untrusted data, like everything from the worker.
        """
        self.require(exercises)
        return self._guarded(
            exercises, lambda: self._sb().driver(name, *args, timeout=timeout, **kwargs).value
        )

    def once(self, key: Any, compute) -> Any:
        """compute()'s value, or the SubmissionError it raised, remembered under `key` for the session.

        Several tests often look at one call (a loss, then each gradient): it runs once, and a
        failure gives every one of those tests the same message.
        """
        if key not in self._remembered:
            try:
                self._remembered[key] = compute()
            except SubmissionError as exc:
                self._remembered[key] = exc
        found = self._remembered[key]
        if isinstance(found, SubmissionError):
            raise found
        return found

    def _guarded(self, function: str, run) -> Any:
        if function in self._hung:
            earlier = self._hung[function]
            raise SubmissionError("timeout", f"`{function}` was not run again: {earlier.message}")
        try:
            return run()
        except SubmissionError as exc:
            if exc.kind == "timeout":
                self._hung[function] = exc
            raise
