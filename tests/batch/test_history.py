"""The batch history: runs are never overwritten, a result is stored once and whole, a run has one grader."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys

import pytest

from graders.engine.batch_task import outcome
from graders.engine.history import History, HistoryError, Planned

GRADER = {"version": "0.1.0", "hash": "ab" * 32}
PLAN = [
    Planned("s1", ({"name": "Ada", "sid": "1", "email": "ada@example.edu"},), {"created_at": "x"}, "h1"),
    Planned("s2", (), {}, "h2"),
]


def graded(key: str, score: float) -> dict:
    results = {
        "score": score,
        "output": "Graded file: a.py",
        "tests": [{"name": "t1", "score": score, "max_score": 2.0, "status": "passed", "output": ""}],
        "extra_data": {"resources": {"wall_seconds": 0.5}},
    }
    return outcome(key, "graded", results=results, duration=0.5)


def test_a_result_is_stored_once_and_read_back_whole(tmp_path):
    with History(tmp_path / "h.sqlite") as history:
        run = history.create_run("r1", "computation_graph", GRADER, {"timeout": 10.0}, PLAN)
        history.record(run, graded("s1", 2.0))
        with pytest.raises(sqlite3.IntegrityError):
            history.record(run, graded("s1", 0.0))  # a second result for s1 never replaces the first
        with pytest.raises(HistoryError, match="not part of run"):
            history.record(run, graded("s9", 1.0))
        with pytest.raises(HistoryError, match="still has 1 submissions without a result"):
            history.finish(run)
        (result,) = history.results(run)
        assert history.done(run) == {"s1"}
    assert (result.key, result.status, result.score, result.max_score) == ("s1", "graded", 2.0, 2.0)
    assert result.submitters == PLAN[0].submitters and result.metadata == {"created_at": "x"}
    assert result.tests[0]["name"] == "t1" and result.extra == {"resources": {"wall_seconds": 0.5}}
    with contextlib.closing(sqlite3.connect(tmp_path / "h.sqlite")) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1


def test_runs_are_never_overwritten_and_are_listed_with_their_counts(tmp_path):
    with History(tmp_path / "h.sqlite") as history:
        run = history.create_run("r1", "computation_graph", GRADER, {}, PLAN)
        with pytest.raises(HistoryError, match="exists already"):
            history.create_run("r1", "computation_graph", GRADER, {}, PLAN[:1])
        history.record(run, graded("s1", 2.0))
        history.record(run, outcome("s2", "timeout", message="too slow"))
        history.finish(run)
        ((listed, planned, statuses, mean),) = history.runs()
    assert (listed.name, planned, statuses, mean) == ("r1", 2, {"graded": 1, "timeout": 1}, 2.0)
    assert listed.finished_at is not None
    with History(tmp_path / "h.sqlite") as history, pytest.raises(HistoryError, match="'r2'.*latest: r1"):
        history.run("r2")


def test_reading_commands_do_not_create_a_history(tmp_path):
    with pytest.raises(HistoryError, match="no batch history"):
        History(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


HOLD = """
import sys, time
from graders.engine.history import History
with History(sys.argv[1]) as history, history.lock(history.run(sys.argv[2])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_run_being_graded_elsewhere_cannot_be_taken(tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as history:
        busy = history.create_run("busy", "computation_graph", GRADER, {}, PLAN)
        free = history.create_run("free", "computation_graph", GRADER, {}, PLAN)
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "busy"], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "held\n"
        with History(db) as history:
            with pytest.raises(HistoryError, match="being graded by another"), history.lock(busy):
                pass
            with history.lock(free):
                pass
    finally:
        other.kill()
        other.wait()
        other.stdout.close()
    with History(db) as history, history.lock(busy):  # the kernel released it with the process
        pass
