"""`nngrade list / grade / check / validate`, called in-process as main(argv)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine.cli import main

HW2 = Path(__file__).resolve().parents[1] / "submissions" / "hw2"
EXAMPLES = Path(__file__).resolve().parents[2] / "assignments" / "hw2" / "examples"


def test_list_counts_what_a_grade_reports(capsys, tmp_path):
    """`nngrade list` counts by collecting; a real grade's results.json is the independent count."""
    assert main(["list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.strip("│ ").startswith("hw2 "))
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    out = tmp_path / "results.json"
    assert main(["grade", "hw2", str(HW2 / "stubs.ipynb"), "--results", str(out)]) == 0
    tests = [t for t in json.loads(out.read_text())["tests"] if "max_score" in t]
    visible = [t for t in tests if t.get("visibility", "visible") == "visible"]
    assert cells[1:] == [
        f"{sum(t['max_score'] for t in tests):g}",
        f"{sum(t['max_score'] for t in visible):g}",
        str(len({t["number"] for t in tests if "number" in t})),
        f"{len(tests)} ({len(tests) - len(visible)} hidden)",
    ]


def test_grade_writes_valid_results_and_shows_every_test(capsys, tmp_path):
    out = tmp_path / "results.json"
    assert main(["grade", "hw2", str(HW2 / "two_no_skip_grad.py"), "--results", str(out)]) == 0
    shown = capsys.readouterr().out
    results = json.loads(out.read_text())
    assert 0 < results["score"] < 110
    assert "skip connection" in shown  # the diagnosis reaches the terminal
    assert "after_due_date" in shown  # staff see hidden tests too
    assert main(["validate", str(out)]) == 0


def test_check_runs_only_visible_tests_and_infers_the_assignment(capsys):
    assert main(["check", str(EXAMPLES / "buggy_relu_mask.py")]) == 0
    shown = capsys.readouterr().out
    assert "Visible checks for hw2" in shown
    assert "after_due_date" not in shown
    assert "ReLU" in shown
    assert "Hidden tests are not run here" in shown


def test_check_on_a_file_defining_nothing_says_what_to_do(capsys, tmp_path):
    path = tmp_path / "notes.py"
    path.write_text("x = 1\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "defines none of the graded functions" in err
    assert "--assignment" in err


def test_grade_unknown_assignment_and_missing_file(capsys, tmp_path):
    assert main(["grade", "hw9", str(HW2 / "q1_sign.py")]) == 2
    assert re.search(r"available: .*\bhw2\b", capsys.readouterr().err)
    assert main(["grade", "hw2", str(tmp_path / "absent.ipynb")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"{not json", "corrupted"), (b"\x00\x01\x02binary", "binary")],
)
def test_unreadable_submission_still_gets_results(capsys, tmp_path, content, message):
    path = tmp_path / "hw2.ipynb"
    path.write_bytes(content)
    out = tmp_path / "results.json"
    assert main(["grade", "hw2", str(path), "--results", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["score"] == 0
    assert message in results["output"].lower()
    assert all(t["score"] == 0 for t in results["tests"])


def test_validate_reports_where_a_results_file_is_wrong(capsys, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"tests": [{"name": "x", "status": "ok"}]}))
    assert main(["validate", str(bad)]) == 1
    assert "tests[0].status" in capsys.readouterr().out


def test_the_console_command_exits_at_once_with_its_output_and_results_complete(tmp_path):
    """entry_point skips interpreter shutdown for grade: nothing printed or written may be lost."""
    out = tmp_path / "results.json"
    submission = HW2 / "q1_sign.py"
    command = [sys.executable, "-m", "graders", "grade", "hw2", str(submission), "--results", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "".join(done.stdout.split()).endswith(f"Resultswrittento{out}")  # the last line, unwrapped
    assert "Score: " in done.stdout
    assert json.loads(out.read_text())["score"] == float(done.stdout.split("Score: ")[1].split(" /")[0])
    missing = subprocess.run([*command[:5], str(tmp_path / "absent.py")], capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
