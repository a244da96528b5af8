"""The gradient_descent grader end to end, through `nngrade grade`'s code path, on scenario submissions.

Oracles: a correct solution written without the reference gets full marks, the handout as given gets
nothing, and each mutant (one known mistake in one name, named on its first line) loses points on
exactly the tests tagged with that name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.engine.grading import grade
from graders.gradient_descent import ASSIGNMENT, expected
from tests.graders.scenarios import mutant_name

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions" / "gradient_descent"
HANDOUT = Path(__file__).resolve().parents[2] / "assignments" / "gradient_descent" / "gradient_descent.ipynb"
MUTANTS = sorted(p for p in SUBMISSIONS.glob("*.py") if p.read_text(encoding="utf-8").startswith("# mutant:"))
TOTAL = 40


@pytest.fixture(scope="module")
def graded(graded_as):
    return lambda path: graded_as("gradient_descent", path)


def test_the_solution_gets_full_marks_without_running_top_level_code(graded):
    results = graded(SUBMISSIONS / "solution.py")
    assert [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"] == []
    assert results["score"] == TOTAL
    for skipped in ("!pip", "plt.subplots", "not executed by the grader"):
        assert skipped in results["output"]


def test_points_add_up_to_the_declared_total(graded):
    results = graded(SUBMISSIONS / "stubs.ipynb")
    assert sum(t["max_score"] for t in results["tests"]) == ASSIGNMENT.total_points == TOTAL


def test_the_stubs_are_the_handout_as_given():
    assert (SUBMISSIONS / "stubs.ipynb").read_bytes() == HANDOUT.read_bytes()


def test_the_stubs_score_zero_on_every_test(graded):
    results = graded(SUBMISSIONS / "stubs.ipynb")
    assert results["score"] == 0
    assert all(t["score"] == 0 for t in results["tests"])
    outputs = " ".join(t["output"] for t in results["tests"] if t["visibility"] == "visible")
    assert "NotImplementedError" in outputs
    assert "still None" in outputs


def test_every_test_is_tagged_with_the_names_it_exercises(graded):
    results = graded(SUBMISSIONS / "solution.py")
    for test in results["tests"]:
        assert test["tags"], test["name"]
        assert set(test["tags"]) <= set(ASSIGNMENT.required), test["name"]
    assert {tag for t in results["tests"] for tag in t["tags"]} == set(ASSIGNMENT.required)


@pytest.mark.parametrize("path", MUTANTS, ids=lambda p: p.stem)
def test_a_mutant_loses_points_only_on_its_own_tests(graded, path):
    name = mutant_name(path)
    results = graded(path)
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert lost, f"{path.name}: the mistake in {name} cost nothing"
    assert all(name in t["tags"] for t in lost), [(t["name"], t["tags"]) for t in lost]
    assert results["score"] < TOTAL


def test_the_mutants_are_the_three_expected():
    assert {p.stem: mutant_name(p) for p in MUTANTS} == {
        "slope_no_stop": "slope_run",
        "wrong_behaviour": "BEHAVIOUR_AT_2_1",
        "wrong_by_hand": "EPOCH2_E",
    }


def test_a_run_that_never_stops_keeps_half_of_each_point_it_gets_wrong(graded):
    results = graded(SUBMISSIONS / "slope_no_stop.py")
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    # Every rate stops early except lr 2.0 and momentum 1.1, which use the whole budget anyway.
    assert len(lost) == 8
    assert all(t["score"] == 1 and "epochs instead of" in t["output"] for t in lost)


def test_a_missing_constant_fails_only_its_own_test(tmp_path):
    source = (SUBMISSIONS / "solution.py").read_text(encoding="utf-8")
    path = tmp_path / "missing.py"
    path.write_text(source.replace("FASTEST_MOMENTUM_EPOCHS = 13\n", ""), encoding="utf-8")
    results = grade("gradient_descent", path, tmp_path / "results.json")
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert [t["tags"] for t in lost] == [["FASTEST_MOMENTUM_EPOCHS"]]
    assert "does not define `FASTEST_MOMENTUM_EPOCHS`" in lost[0]["output"]


def test_no_asked_setting_has_a_label_outside_the_students_choices():
    """The reference's fourth label, "stalled", must not be the answer to any question the grader asks."""
    settings = [(lr, 0.0) for lr in expected.LEARNING_RATES]
    settings += [(expected.MOMENTUM_LR, m) for m in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1)]
    labels = {setting: expected.slope(*setting)["behaviour"] for setting in settings}
    assert set(labels.values()) <= {"converged", "oscillates", "diverges"}, labels
    asked = {
        (2.0, 0.0): "oscillates",
        (2.1, 0.0): "diverges",
        (1.9, 1.0): "oscillates",
        (1.9, 1.1): "diverges",
    }
    assert {s: expected.behaviour(labels[s]) for s in asked} == asked
