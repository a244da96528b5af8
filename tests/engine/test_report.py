"""The terminal view of results: one row per test that fits the terminal, and the messages below."""

from __future__ import annotations

from rich.console import Console

from graders.engine.report import show


def _results(names):
    tests = [
        {"name": n, "score": 0.0, "max_score": 1.0, "status": "failed", "number": "3.3", "output": f"fix {i}"}
        for i, n in enumerate(names)
    ]
    return {"score": 0.0, "tests": tests}


def test_long_names_keep_their_parameter_id_and_fit_the_width():
    names = [f"Q3 contract: with grad=False, return (loss, probs) without computing gradients [{m}]"
             for m in ("linear", "single_hidden", "two_hidden")]
    console = Console(width=80, record=True, color_system=None)
    show(_results(names), console, include_hidden=False, title="hw2: x.py")
    lines = console.export_text().splitlines()
    rows = [line for line in lines if line.startswith("3.3  ")]
    assert len(rows) == 3 and all(len(row) <= 80 and row.endswith("0 / 1  FAIL") for row in rows)
    for row, model in zip(rows, ("linear", "single_hidden", "two_hidden"), strict=True):
        assert f"[{model}]" in row
    assert "fix 2" in lines  # every failure's message follows the table
    assert lines[-1] == "Score: 0 / 3"
