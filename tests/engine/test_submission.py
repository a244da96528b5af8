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
    path.write_text("import os\ndef f():\n    return os.getpid()\n", encoding="utf-8")
    sub = Submission(path, ASSIGNMENT)
    try:
        sub.prestart()
        spawned = sub._sandbox
        early_pid = spawned._proc.popen.pid  # the process started before any call
        assert sub.call("f") == early_pid  # ran in it: not stopped and started again on load
        assert sub._sandbox is spawned and spawned.restarts == 0
    finally:
        sub.close()


def test_data_the_worker_could_not_take_is_explained_to_the_student_once(tmp_path, monkeypatch):
    from graders.engine.errors import SubmissionError
    from graders.engine.sandbox import Sandbox

    path = tmp_path / "toy.py"
    path.write_text("def f():\n    return 1\n", encoding="utf-8")
    sends = []

    def dies(self, name, value):
        sends.append(name)
        raise SubmissionError("crash", "`hw2 train_x` crashed: killed by signal 9")

    monkeypatch.setattr(Sandbox, "keep", dies)
    sub = Submission(path, ASSIGNMENT)
    try:
        for _ in range(2):
            with pytest.raises(SubmissionError) as exc:
                sub.keep("hw2 train_x", [1.0, 2.0])
            assert exc.value.kind == "crash"
            assert exc.value.message.startswith("Your code's process stopped while the grader was handing")
            assert "move any large computation into a function" in exc.value.message
    finally:
        sub.close()
    assert sends == ["hw2 train_x"]  # sent once: the second test gets the same answer
