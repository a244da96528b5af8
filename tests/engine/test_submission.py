"""The Submission proxy's start-up: a worker spawned early must never turn into a crash of the grader."""

from __future__ import annotations

import pytest

from graders.engine.assignment import Assignment
from graders.engine.errors import SandboxUnavailable
from graders.engine.submission import Submission

ASSIGNMENT = Assignment(name="toy", title="toy", required=("f",))


def test_a_failed_early_start_is_silent_and_recurs_on_first_use(tmp_path, monkeypatch):
    path = tmp_path / "toy.py"
    path.write_text("def f():\n    return 1\n", encoding="utf-8")
    sub = Submission(path, ASSIGNMENT)

    def broken(self):
        raise SandboxUnavailable("no sandbox user could be created")

    monkeypatch.setattr(Submission, "_new_sandbox", broken)
    sub.prestart()  # must not raise: it runs before pytest, where nothing would record the error
    with pytest.raises(SandboxUnavailable, match="no sandbox user"):
        sub.call("f")


def test_an_early_started_worker_is_the_one_that_runs_the_calls(tmp_path):
    path = tmp_path / "toy.py"
    path.write_text("def f():\n    return 41 + 1\n", encoding="utf-8")
    sub = Submission(path, ASSIGNMENT)
    try:
        sub.prestart()
        spawned = sub._sandbox
        assert sub.call("f") == 42
        assert sub._sandbox is spawned and spawned.restarts == 0
    finally:
        sub.close()
