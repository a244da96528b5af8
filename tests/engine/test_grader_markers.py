"""Markers a grader may not use are refused with a message that tells the author what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

from graders.engine.discovery import find
from graders.engine.grading import grade

REPO = Path(__file__).resolve().parents[2]
EXTRA = """import pytest


@pytest.mark.points(1)
@pytest.mark.xfail
def test_expected_to_fail(submission):
    assert False
"""


def test_an_xfail_test_in_a_grader_stops_grading_with_the_authors_fix(tmp_path):
    copy = tmp_path / "grader"
    shutil.copytree(find("computation_graph").folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "test_extra.py").write_text(EXTRA, encoding="utf-8")
    solution = REPO / "tests" / "submissions" / "computation_graph" / "solution.py"
    results = grade("computation_graph", solution, grader_folder=copy)
    assert results["extra_data"]["autograder_error"] is True and results["score"] == 0
    detail = "\n".join(t["output"] for t in results["tests"] if t["visibility"] == "hidden")
    assert "test_extra.py::test_expected_to_fail: @pytest.mark.xfail has no meaning in a grader" in detail
    assert "raise PartialCredit" in detail
