"""`nngrade batch` end to end on a Gradescope-style export of 41 computation_graph submissions.

Oracles: every scenario graded on its own by grading.grade() (the path `nngrade grade` takes), the
status each scenario must get by construction (tests/batch/scenarios.py), and the submitters the
export's metadata was written with. The batch is killed with SIGKILL mid-run and resumed, run
again on a Dask LocalCluster, and run with a copy of the grader in which one test is worth more.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest

from graders.engine.cli import main
from graders.engine.diffing import TestChange, diff_runs
from graders.engine.grading import find, grade
from graders.engine.history import History
from tests.batch.processes import alive, descendants
from tests.batch.scenarios import build_export

ASSIGNMENT = "computation_graph"
TIMEOUT = "10"  # seconds per submission: a correct one takes about 1 s on two busy cores
TIE = "maximum(a, b) on a tie sends the whole gradient to a"
KILL_AFTER = 10  # results in the history when the first batch is killed


def batch_args(archive: Path, db: Path, run: str, *extra: str) -> list[str]:
    """Two local workers unless `extra` says otherwise; --quiet, as a script would run it."""
    return [
        "batch", ASSIGNMENT, str(archive), "--db", str(db), "--run", run, "--timeout", TIMEOUT,
        "--workers", "2", "--quiet", *extra,
    ]  # fmt: skip


def committed(db: Path, run: str) -> dict[str, tuple]:
    """key -> (status, score, tests, graded_at) of a run's results, as another reader sees them."""
    if not db.exists():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as con:
        try:
            rows = con.execute(
                "SELECT r.key, r.status, r.score, r.tests, r.graded_at FROM results r "
                "JOIN runs ON runs.id = r.run_id WHERE runs.name = ?",
                (run,),
            ).fetchall()
        except sqlite3.OperationalError:  # the tables are not created yet
            return {}
    return {key: rest for key, *rest in rows}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    archive, scenarios = build_export(root)
    return root, archive, {s.key: s for s in scenarios}


@pytest.fixture(scope="module")
def oracle(export) -> dict[Path, dict]:
    """Each distinct scenario file graded directly, once."""
    _, _, scenarios = export
    found = {}
    for scenario in scenarios.values():
        if scenario.source is not None and scenario.source not in found:
            found[scenario.source] = grade(ASSIGNMENT, scenario.source)
    return found


@pytest.fixture(scope="module")
def local_run(export):
    """Start the batch with 2 local workers in a subprocess, SIGKILL it mid-run, then resume it."""
    root, archive, _ = export
    db = root / "history.sqlite"
    with open(root / "killed.log", "wb") as log:
        driver = subprocess.Popen(
            [sys.executable, "-m", "graders", *batch_args(archive, db, "local")],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while len(committed(db, "local")) < KILL_AFTER:
        assert driver.poll() is None, (root / "killed.log").read_text()
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.05)
    started = descendants(driver.pid)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    at_kill = committed(db, "local")
    end = time.monotonic() + 40
    while alive(started) and time.monotonic() < end:
        time.sleep(0.1)
    leftover = alive(started)
    code = main(batch_args(archive, db, "local", "--csv", str(root / "local.csv")))
    return {"db": db, "at_kill": at_kill, "started": started, "leftover": leftover, "code": code}


@pytest.fixture(scope="module")
def dask_run(export, local_run):
    root, archive, _ = export
    return main(batch_args(archive, local_run["db"], "dask", "--cluster", "local"))


@pytest.fixture(scope="module")
def changed_run(export, local_run):
    """The same batch graded by a copy of the grader in which the tie test is worth 2 points, not 1."""
    root, archive, _ = export
    copy = root / "grader" / ASSIGNMENT
    shutil.copytree(find(ASSIGNMENT).folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "test_ops.py"
    before = '@pytest.mark.points(1)\n@pytest.mark.number("1.2")'
    assert module.read_text(encoding="utf-8").count(before) == 1
    module.write_text(module.read_text(encoding="utf-8").replace(before, before.replace("(1)", "(2)")))
    return main(batch_args(archive, local_run["db"], "changed", "--grader", str(copy)))


def results_of(db: Path, run: str) -> dict:
    with History(db, create=False) as history:
        return {r.key: r for r in history.results(history.run(run))}


def test_a_killed_batch_resumes_with_exactly_one_result_per_submission(export, local_run):
    _, _, scenarios = export
    db = local_run["db"]
    assert local_run["code"] == 0  # nothing crashed
    assert KILL_AFTER <= len(local_run["at_kill"]) < len(scenarios), "the kill did not land mid-run"
    assert local_run["started"], "no grading process was running when the batch was killed"
    assert local_run["leftover"] == [], "grading processes outlived the killed batch"
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        counts = dict(
            con.execute(
                "SELECT key, COUNT(*) FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'local') "
                "GROUP BY key"
            )
        )
        finished = con.execute("SELECT finished_at FROM runs WHERE name = 'local'").fetchone()[0]
    assert counts == dict.fromkeys(scenarios, 1)
    assert finished is not None
    after = committed(db, "local")
    # Results committed before the kill were kept as they were, not graded again.
    assert {k: after[k] for k in local_run["at_kill"]} == local_run["at_kill"]
    for key, (status, score, tests, _) in after.items():
        if status in ("graded", "invalid"):  # a whole row: its tests add up to its score
            assert sum(t["score"] for t in json.loads(tests)) == pytest.approx(score), key


def test_each_submission_gets_its_status_and_the_score_grade_gives_it(export, local_run, oracle):
    _, _, scenarios = export
    results = results_of(local_run["db"], "local")
    for key, scenario in scenarios.items():
        result = results[key]
        assert result.status == scenario.status, (key, scenario.kind, result.message)
        if scenario.source is not None:
            direct = oracle[scenario.source]
            assert result.score == direct["score"], (key, scenario.source.name)
            assert [(t["name"], t["score"]) for t in result.tests] == [
                (t["name"], t["score"]) for t in direct["tests"]
            ]
    by_name = {s.source.stem: results[k] for k, s in scenarios.items() if s.kind == "hostile"}
    for attack in ("writes_results", "fake_score", "fork_bomb", "memory_bomb"):
        assert by_name[attack].score == 50, attack  # the solution under the attack, graded as usual
    for crash in ("exits", "segfaults"):
        lost = [t for t in by_name[crash].tests if t["score"] < t["max_score"]]
        assert lost and all("maximum" in t["tags"] for t in lost), crash
    hang = next(results[k] for k, s in scenarios.items() if s.kind == "hang")
    assert hang.tests == [] and f"longer than {TIMEOUT} s" in hang.message


def test_the_csv_has_one_row_per_submission_matching_the_history(export, local_run):
    root, _, scenarios = export
    results = results_of(local_run["db"], "local")
    with open(root / "local.csv", newline="", encoding="utf-8") as fh:
        rows = {row["submission"]: row for row in csv.DictReader(fh)}
    assert rows.keys() == scenarios.keys()
    for key, row in rows.items():
        result, scenario = results[key], scenarios[key]
        assert (row["name"], row["email"]) == (scenario.name, scenario.email)
        assert row["status"] == result.status
        assert float(row["score"]) == result.score
        assert {t["name"]: float(row[t["name"]]) for t in result.tests} == {
            t["name"]: t["score"] for t in result.tests
        }
        if not result.tests:  # every test's column after the fixed ones is left empty
            fixed = ("submission", "name", "sid", "email", "submitted_at", "status", "score", "max_score")
            assert list(row)[: len(fixed)] == list(fixed)
            assert len(row) > len(fixed) and all(row[t] == "" for t in list(row)[len(fixed) :])


def test_a_dask_local_cluster_gives_identical_results(local_run, dask_run):
    assert dask_run == 0
    local, dask = results_of(local_run["db"], "local"), results_of(local_run["db"], "dask")
    assert local.keys() == dask.keys()
    for key in local:
        a, b = local[key], dask[key]
        assert (a.status, a.score, a.max_score, a.tests, a.output, a.message) == (
            b.status,
            b.score,
            b.max_score,
            b.tests,
            b.output,
            b.message,
        ), key


def test_diff_names_exactly_the_submissions_a_changed_test_affects(
    export, local_run, changed_run, oracle, capsys
):
    _, _, scenarios = export
    assert changed_run == 0
    passes_tie = {
        key
        for key, s in scenarios.items()
        if s.source is not None
        and any(t["name"] == TIE and t["status"] == "passed" for t in oracle[s.source]["tests"])
    }
    assert 0 < len(passes_tie) < len(scenarios)
    with History(local_run["db"], create=False) as history:
        diff = diff_runs(history, "local", "changed")
    assert {c.key for c in diff.changed} == passes_tie
    assert all(c.delta == 1 and c.tests == (TestChange(TIE, 1.0, 2.0),) for c in diff.changed)
    assert diff.points == [(TIE, 1.0, 2.0)]
    assert main(["diff", "local", "changed", "--db", str(local_run["db"])]) == 0
    shown = capsys.readouterr().out
    assert f"{len(passes_tie)} of {len(scenarios)} submissions changed" in shown
    assert all(any(fnmatch(line, f"*{key}*+1*") for line in shown.splitlines()) for key in passes_tie)


def test_runs_lists_the_runs_and_a_changed_grader_cannot_resume_one(export, local_run, changed_run, capsys):
    root, archive, _ = export
    assert main(["runs", "--db", str(local_run["db"])]) == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in ("local", "changed", "complete"))
    copy = root / "grader" / ASSIGNMENT
    args = batch_args(archive, local_run["db"], "local", "--grader", str(copy))
    assert main(args) == 2
    assert "needs a new run" in capsys.readouterr().err


def coloured_pixels(screenshot: Path, colour: str) -> int:
    """How many pixels of the screenshot have exactly this colour (give or take rounding)."""
    from matplotlib.image import imread

    pixels = imread(screenshot)[..., :3] * 255
    target = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return int((abs(pixels - target) <= 2).all(axis=-1).sum())


def screenshot(chromium: str, page: Path, out: Path) -> Path:
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # as root, Chromium refuses to start with its own sandbox
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={out.parent / 'chromium-profile'}",
            "--window-size=1400,1200",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_the_html_report_shows_both_charts_in_chromium(export, local_run, chromium, tmp_path):
    from graders.engine.batch_report import HISTOGRAM_COLOR, PASS_RATE_COLOR

    report = local_run["db"].parent / "local.html"  # the batch's default: RUN.html beside --db
    page = report.read_text(encoding="utf-8")
    assert 'id="histogram"' in page and 'id="pass-rates"' in page
    shot = screenshot(chromium, report, tmp_path / "report.png")
    # Each chart is drawn in a colour of its own that nothing else on the page uses.
    assert coloured_pixels(shot, HISTOGRAM_COLOR) > 500
    assert coloured_pixels(shot, PASS_RATE_COLOR) > 5000
    # The same page with the histogram's image data damaged: its bars are gone, the other chart stays.
    start = page.index('id="histogram"')
    broken = tmp_path / "broken.html"
    damaged = page[:start] + re.sub(r"base64,[\w+/]{12}", "base64,AAAAAAAAAAAA", page[start:], count=1)
    broken.write_text(damaged, encoding="utf-8")
    shot = screenshot(chromium, broken, tmp_path / "broken.png")
    assert coloured_pixels(shot, HISTOGRAM_COLOR) == 0
    assert coloured_pixels(shot, PASS_RATE_COLOR) > 5000
