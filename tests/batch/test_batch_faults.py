"""Fault isolation and refusals of `nngrade batch`, on small plain-folder batches.

A grader copy (the --grader option) carries hooks that make grading itself fail for chosen
submissions: the grading process killed by a signal, and a bug in the grader. Each must be recorded
with its status while the other submissions are graded as usual.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

import pytest

from graders.engine import exports
from graders.engine.batch import BatchOptions, run_batch
from graders.engine.cli import main
from graders.engine.grading import find, grade
from graders.engine.history import History, Run
from tests.batch.processes import alive, descendants, grading_process
from tests.batch.scenarios import GRAPH, HANG, LOADER

HOOKS = '''

import os as _os
import signal as _signal
from pathlib import Path as _Path


def pytest_collection_modifyitems(config, items):
    name = _Path(config.getoption("--submission")).name
    if name.startswith("dies"):
        _os.kill(_os.getpid(), _signal.SIGKILL)  # as the kernel's OOM killer would
    if name.startswith("breaks"):
        raise RuntimeError("a bug in the grader")
'''


@pytest.fixture
def fragile_grader(tmp_path) -> Path:
    copy = tmp_path / "grader" / "computation_graph"
    shutil.copytree(find("computation_graph").folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "conftest.py", "a", encoding="utf-8") as conftest:
        conftest.write(HOOKS)
    return copy


def test_each_failure_is_recorded_with_its_status_and_the_others_are_graded(tmp_path, fragile_grader, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    solution = (GRAPH / "solution.py").read_text(encoding="utf-8")
    for name in ("ok.py", "dies.py", "breaks.py"):
        (folder / name).write_text(solution, encoding="utf-8")
    (folder / "hangs.py").write_text(HANG, encoding="utf-8")
    db, report, table = tmp_path / "h.sqlite", tmp_path / "report.html", tmp_path / "grades.csv"
    args = ["batch", "computation_graph", str(folder), "--db", str(db), "--run", "faults", "--workers", "2"]
    args += ["--timeout", "4", "--grader", str(fragile_grader), "--csv", str(table), "--report", str(report)]
    assert main(args) == 1  # something crashed: scripts should notice
    shown = capsys.readouterr().out
    with History(db, create=False) as history:
        results = {r.key: r for r in history.results(history.run("faults"))}
    assert {k: r.status for k, r in results.items()} == {
        "ok.py": "graded",
        "dies.py": "crashed",
        "breaks.py": "crashed",
        "hangs.py": "timeout",
    }
    assert results["ok.py"].score == 50
    assert "exited with -9" in results["dies.py"].message
    # results.json's autograder-error fallback: its staff-only detail becomes the message.
    assert results["breaks.py"].extra == {"autograder_error": True} and results["breaks.py"].message
    assert "longer than 4 s" in results["hangs.py"].message
    assert "1 graded, 1 timeout, 2 crashed, 0 invalid" in shown
    with open(table, newline="", encoding="utf-8") as fh:
        assert {row["submission"]: row["status"] for row in csv.DictReader(fh)} == {
            k: r.status for k, r in results.items()
        }
    page = report.read_text(encoding="utf-8")
    crashed = sorted(k for k, r in results.items() if r.status == "crashed")
    assert len(crashed) == 2 and page.count("<tr class='crashed'>") == 2
    assert all(f"<tr class='crashed'><td>{key}</td>" in page for key in crashed)
    # The report of a finished run can be written again at any time.
    again = tmp_path / "again.csv"
    assert main(["report", "faults", "--db", str(db), "--csv", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == table.read_text(encoding="utf-8")


def test_a_submission_too_large_to_ship_is_invalid_without_being_graded(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "MAX_SUBMISSION_BYTES", 1000)
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(GRAPH / "solution.py", folder / "big.py")  # a few kB
    shutil.copy(LOADER / "blank.py", folder / "blank.py")
    done = run_batch(BatchOptions("computation_graph", folder, db=tmp_path / "h.sqlite", workers=1))
    results = {r.key: r for r in done.results}
    assert (results["big.py"].status, results["big.py"].tests) == ("invalid", [])
    assert "at most 1,000 are graded" in results["big.py"].message
    assert results["blank.py"].status == "invalid" and len(results["blank.py"].tests) == 25
    assert done.run.name.startswith("computation_graph-") and done.graded_now == 2


def test_requests_that_cannot_work_are_refused_before_grading(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(LOADER / "blank.py", folder / "blank.py")
    db = str(tmp_path / "h.sqlite")
    base = ["batch", "computation_graph", str(folder), "--db", db, "--quiet"]
    for extra, message in (
        (["--workers", "0"], "--workers must be at least 1"),
        (["--grader", str(tmp_path)], "expected a copy of graders/computation_graph/"),
    ):
        assert main(base + extra) == 2
        assert message in capsys.readouterr().err
    assert main(["batch", "hw9", str(folder), "--db", db]) == 2
    assert "no grader for assignment 'hw9'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--cluster", "local", "--scheduler", "tcp://127.0.0.1:8786"])
    assert "not allowed with argument" in capsys.readouterr().err
    # A run is resumed only with the input it was planned with.
    assert main([*base, "--run", "r"]) == 0
    (folder / "late.py").write_text("x = 1\n", encoding="utf-8")
    assert main([*base, "--run", "r"]) == 2
    assert "the input differs from the one run 'r' was planned with (1 submissions, e.g. late.py)" in (
        capsys.readouterr().err
    )
    assert main(["diff", "r", "nope", "--db", db]) == 2
    assert "no run named 'nope'" in capsys.readouterr().err


def test_a_dask_scheduler_address_grades_like_nngrade_grade(tmp_path):
    from distributed import LocalCluster

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("solution.py", "max_wrong_tie.py"):
        shutil.copy(GRAPH / name, folder / name)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster:
        address = cluster.scheduler_address
        options = BatchOptions("computation_graph", folder, db=tmp_path / "h.sqlite", scheduler=address)
        done = run_batch(options)
    assert done.executor == f"Dask scheduler {address}"
    for result in done.results:
        direct = grade("computation_graph", GRAPH / result.key)
        assert (result.status, result.score) == ("graded", direct["score"])
        assert [t["score"] for t in result.tests] == [t["score"] for t in direct["tests"]]


def test_a_result_graded_by_another_grader_is_not_taken_as_a_grade():
    from graders.engine.batch import _checked
    from graders.engine.batch_task import outcome

    run = Run(1, "r", "computation_graph", "0.1.0", "a" * 64, {}, "", None)
    mine = outcome("s1", "graded", results={"score": 5.0, "tests": []}) | {"grader": {"hash": "a" * 64}}
    assert _checked(mine, run) is mine
    other = mine | {"grader": {"version": "0.0.9", "hash": "b" * 64}}
    result = _checked(other, run)
    assert (result["status"], result["score"]) == ("crashed", 0.0)
    assert "graded by grader bbbbbbbbbbbb instead of the run's aaaaaaaaaaaa" in result["message"]
    assert _checked(mine | {"grader": None}, run)["status"] == "crashed"


def test_an_abandoned_local_batch_stops_its_grading_processes_at_once():
    from graders.engine.batch_task import make_task
    from graders.engine.executors import LocalExecutor

    solution = (GRAPH / "solution.py").read_bytes()
    tasks = [
        make_task(name, {name: text}, is_folder=False, assignment="computation_graph", timeout=120)
        for name, text in (("ok.py", solution), ("hangs.py", HANG.encode()))
    ]
    run = LocalExecutor(2).run(tasks)
    first = next(run)
    assert (first["key"], first["status"]) == ("ok.py", "graded")
    started = [pid for pid in descendants(os.getpid()) if grading_process(pid)]
    assert started, "the hanging submission's grading process should still be running"
    begin = time.monotonic()
    run.close()  # what a Ctrl-C in the batch's loop does to the executor
    assert time.monotonic() - begin < 15, "stopping waited for the submission's own time limit"
    assert alive(started) == []
