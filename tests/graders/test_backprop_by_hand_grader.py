"""The backprop_by_hand grader end to end, through `nngrade grade`'s code path, on scenario submissions.

Oracles: correct answers written without the reference (dicts, variables, rounded or cut off) get full
marks, the handout as given gets nothing, and each mutant (one mistake, named on its first line) loses
its own point and exactly half of the point of each answer computed from it, which the lists below
spell out by hand from the networks' equations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.backprop_by_hand import ASSIGNMENT
from graders.engine.grading import grade
from tests.graders.scenarios import mutant_name

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions" / "backprop_by_hand"
HANDOUT = Path(__file__).resolve().parents[2] / "assignments" / "backprop_by_hand" / "backprop_by_hand.ipynb"
MUTANTS = sorted(p for p in SUBMISSIONS.glob("*.py") if p.read_text(encoding="utf-8").startswith("# mutant:"))
SCENARIOS = sorted(set(SUBMISSIONS.glob("*.py")) - set(MUTANTS))
TOTAL = 98


@pytest.fixture(scope="module")
def graded(graded_as):
    return lambda path: graded_as("backprop_by_hand", path)


def by_variable(results: dict) -> dict[str, dict]:
    """Each test keyed by the answer variable it grades (its second tag)."""
    return {t["tags"][1]: t for t in results["tests"]}


def lost(results: dict) -> dict[str, float]:
    return {t["tags"][1]: t["score"] for t in results["tests"] if t["score"] < t["max_score"]}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_right_answers_get_full_marks_however_they_are_written(graded, path):
    """solution (dicts, rounded), truncated (cut off), variables (variables, text, whole numbers)."""
    results = graded(path)
    assert [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"] == []
    assert results["score"] == TOTAL
    assert "not executed by the grader" in results["output"]  # the scratch work with math.exp


def test_the_scenarios_are_the_three_expected():
    assert {p.stem for p in SCENARIOS} == {"solution", "truncated", "variables"}


def test_points_add_up_to_the_declared_total(graded):
    results = graded(SUBMISSIONS / "stubs.ipynb")
    assert sum(t["max_score"] for t in results["tests"]) == ASSIGNMENT.total_points == TOTAL


def test_the_stubs_are_the_handout_as_given():
    assert (SUBMISSIONS / "stubs.ipynb").read_bytes() == HANDOUT.read_bytes()


def test_the_stubs_score_zero_and_say_what_to_fill_in(graded):
    results = graded(SUBMISSIONS / "stubs.ipynb")
    assert results["score"] == 0
    assert all(t["score"] == 0 and t["output"].endswith("is still None: replace the None with your answer.")
               for t in results["tests"])  # fmt: skip
    assert by_variable(results)["NET2_OUT_H1"]["output"].startswith('`NET2["out_h1"]` is still None')


def test_every_test_is_tagged_with_its_answer_set_and_variable(graded):
    results = graded(SUBMISSIONS / "solution.py")
    for test in results["tests"]:
        answer_set, variable = test["tags"]
        assert answer_set in ASSIGNMENT.required and variable.startswith(f"{answer_set}_"), test["name"]
    assert len(by_variable(results)) == TOTAL
    # One question per part of each network, as seed 000 letters them: forward, loss, derivatives, updates.
    numbers = {v: t["number"] for v, t in by_variable(results).items()}
    assert len(set(numbers.values())) == 12
    some = {"NET1_U1": "1a", "NET1_E": "1b", "NET1_DW22": "1c", "NET1_C2_NEW": "1d", "NET2_OUT_O2": "2a"}
    some.update(NET2_E_TOTAL="2b", NET3_DH1="3c", NET3_MSE="3b", NET3_W21_NEW="3d")
    assert {v: numbers[v] for v in some} == some


@pytest.mark.parametrize("path", MUTANTS, ids=lambda p: p.stem)
def test_a_mutant_loses_its_own_point_and_half_of_those_computed_from_it(graded, path):
    name = mutant_name(path)
    results = graded(path)
    points = lost(results)
    assert points.pop(name) == 0.0
    assert set(points.values()) <= {0.5}
    for variable in points:
        assert "(error carried forward)" in by_variable(results)[variable]["output"], variable


def test_the_mutants_are_the_three_expected():
    assert {p.stem: mutant_name(p) for p in MUTANTS} == {
        "carried_forward": "NET1_U2",
        "wrong_sign": "NET2_DW5",
        "slides_numbers": "NET2_DNET_O1",
    }


# Network 1 with u2 = 0.11: what depends on u2, by the tutorial's equations. y1 = 0 (u1 < 0) keeps
# dv11, dv12 at 0, and du1 = H(u1) dy1 at 0, so they and the u1 side's updates stay right.
CARRIED_FROM_U2 = {
    "y2", "z1", "z2", "e", "dz1", "dz2", "dc1", "dc2", "dv21", "dv22", "dy1", "dy2",
    "du2", "db2", "dw12", "dw22", "w12_new", "w22_new", "b2_new", "v21_new", "v22_new", "c1_new", "c2_new",
}  # fmt: skip


def test_a_wrong_forward_value_carried_forward_costs_half_of_each_dependant(graded):
    results = graded(SUBMISSIONS / "carried_forward.py")
    assert lost(results) == {"NET1_U2": 0.0, **{f"NET1_{n.upper()}": 0.5 for n in CARRIED_FROM_U2}}
    assert results["score"] == TOTAL - 1 - 0.5 * len(CARRIED_FROM_U2) == 85.5
    tests = by_variable(results)
    assert tests["NET1_U2"]["output"].startswith('`NET1["u2"]` = 0.11 is not right')
    assert tests["NET1_Y2"]["output"] == (
        '`NET1["y2"]` = 0.11 is not the value the given numbers lead to, but it follows correctly from '
        'your `NET1["u2"]` = 0.11: half credit (error carried forward).'
    )


def test_a_sign_error_costs_one_point_and_is_named(graded):
    results = graded(SUBMISSIONS / "wrong_sign.py")
    assert lost(results) == {"NET2_DW5": 0.0}
    assert by_variable(results)["NET2_DW5"]["output"].endswith("Its size is right, but its sign is not.")


def test_the_slides_numbers_lose_only_their_digit_slip(graded):
    """The slides cut values off and compute from cut-off values: all accepted, except delta_o1 = 0.1389."""
    results = graded(SUBMISSIONS / "slides_numbers.py")
    assert results["score"] == TOTAL - 1
    tests = by_variable(results)
    for variable in ("NET2_NET_O1", "NET2_NET_O2", "NET2_E_O1"):
        assert tests[variable]["score"] == 1 and "it follows from your own" in tests[variable]["output"]


def test_answers_the_grader_cannot_read_fail_with_a_message_naming_them(tmp_path):
    source = (SUBMISSIONS / "solution.py").read_text(encoding="utf-8")
    # Arithmetic on numbers is run; a call is not, so the whole NET3 dict is left out.
    source = source.replace('"u1": -0.8100', '"u1": -0.9 + 0.5 * 0.5 + (-0.4) * 0.4')
    source = source.replace('"h1": 2.00', '"h1": round(math.exp(0.0) + 1.0, 2)')
    source += 'NET2_OUT_H1 = "0,5933"\nNET2_OUT_H2 = [0.5969]\n'
    path = tmp_path / "unreadable.py"
    path.write_text(source, encoding="utf-8")
    results = grade("backprop_by_hand", path, tmp_path / "results.json")
    points = lost(results)
    assert set(points) == {"NET2_OUT_H1", "NET2_OUT_H2"} | {v for v in points if v.startswith("NET3_")}
    assert len(points) == 2 + 26 and results["score"] == TOTAL - 28
    tests = by_variable(results)
    assert tests["NET3_H1"]["output"].startswith("`NET3` is not defined. The grader did not run line ")
    assert "calls such as math.exp(...) are not." in tests["NET3_H1"]["output"]
    assert "(use a decimal point, not a comma)" in tests["NET2_OUT_H1"]["output"]
    assert tests["NET2_OUT_H2"]["output"] == (
        "`NET2_OUT_H2` is a list, but should be a plain number such as 0.5933."
    )
    assert tests["NET1_U1"]["score"] == 1


def test_a_dict_that_does_not_parse_is_named(tmp_path):
    source = (SUBMISSIONS / "solution.py").read_text(encoding="utf-8")
    source = source.replace('"u1": -0.8100,', '"u1": -0.8100')  # a missing comma
    path = tmp_path / "no_comma.py"
    path.write_text(source, encoding="utf-8")
    results = grade("backprop_by_hand", path, tmp_path / "results.json")
    assert set(lost(results)) == {v for v in by_variable(results) if v.startswith("NET1_")}
    message = by_variable(results)["NET1_U1"]["output"]
    assert message.startswith("`NET1` is not defined. The grader did not run line ")
    assert "does not parse" in message and "math.exp" not in message
