"""The two ways running a submission can fail: the student's code, or the machine."""

from __future__ import annotations

from graders.engine.output import Output

# What a SubmissionError's kind may be, and what each means.
KINDS = {
    "exception": "the student's code raised an exception",
    "timeout": "a call ran past its deadline (or the submission's total time budget)",
    "crash": "the process running the student's code died",
    "unsupported": "the student's code returned something the codec does not carry",
    "protocol": "the worker sent bytes that are not a valid reply",
    "missing": "the submission could not be read, or lacks a required name",
}


class SubmissionError(Exception):
    """What went wrong with the student's code, worded for the student; kind is a key of KINDS."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        error_type: str = "",
        traceback: str = "",
        output: Output | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown SubmissionError kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.error_type = error_type
        self.traceback = traceback
        self.output = output or Output("", "")

    def with_message(self, message: str) -> SubmissionError:
        """The same error with a reworded message."""
        self.message = message
        self.args = (message,)
        return self


class SandboxUnavailable(Exception):
    """The sandbox cannot run on this machine as configured; the message says how to fix it."""


class UnknownAssignment(Exception):
    """No grader for the named assignment, or no submission to grade; the message says what exists."""


class BuildError(Exception):
    """The autograder zip cannot be built as asked; the message says what to change."""


class DataError(Exception):
    """A data file is missing or malformed; the message says which file and what is wrong.

    Here rather than in datasets.py, so that the CLI can catch it without importing numpy.
    """
