"""The computation_graph grader end to end, through `nngrade grade`'s code path.

Oracles: a correct solution written independently of the reference (closures, an explicit stack)
gets full marks, the handout notebook as given gets nothing on any test, and each mutant (one known
mistake) loses points on exactly the tests that mistake must fail, named below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions" / "computation_graph"
HANDOUT = (
    Path(__file__).resolve().parents[2] / "assignments" / "computation_graph" / "computation_graph.ipynb"
)

SHARED = {
    "A node used twice gets the sum of both gradients [x*x + x]",
    "A node used twice gets the sum of both gradients [diamond]",
}
RANDOM = {f"A random expression of about 40 operations [{seed}]" for seed in (1, 2, 3)}
# mutant file: the names of the tests it must fail (and it must pass every other one)
MUTANTS = {
    "recursive_backward.py": {"backward() on a chain of 5,000 nodes"},
    "no_accumulate.py": SHARED
    | RANDOM
    | {
        "hw2 Q1's f = sigmoid(w1 x1 + w2 x2) + (w1² + w2²)/2, which uses w1 and w2 twice",
        "The binary cross-entropy of one logistic unit, which uses yhat twice",
    },
    "max_wrong_tie.py": {"maximum(a, b) on a tie sends the whole gradient to a"},
}


@pytest.fixture(scope="module")
def graded(graded_as):
    return lambda path: graded_as("computation_graph", path)


def test_solution_gets_full_marks(graded):
    from graders.computation_graph import ASSIGNMENT

    results = graded(SUBMISSIONS / "solution.py")
    assert [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"] == []
    assert results["score"] == ASSIGNMENT.total_points == 50
    assert sum(t["max_score"] for t in results["tests"]) == 50
    assert "not executed by the grader" in results["output"]  # the top-level demo was skipped


def test_the_stubs_as_handed_out_score_zero_on_every_test(graded):
    stubs = SUBMISSIONS / "stubs.ipynb"
    assert stubs.read_bytes() == HANDOUT.read_bytes()
    results = graded(stubs)
    assert results["score"] == 0
    assert all(t["score"] == 0 for t in results["tests"])
    assert all("NotImplementedError" in t["output"] for t in results["tests"])


def test_every_test_is_tagged_value_and_maximum_only_where_it_is_used(graded):
    results = graded(SUBMISSIONS / "solution.py")
    for test in results["tests"]:
        assert "Value" in test["tags"], test["name"]
        assert set(test["tags"]) <= {"Value", "maximum"}, test["name"]
    with_max = {t["name"] for t in results["tests"] if "maximum" in t["tags"]}
    assert "The tutorial's graph f = 2(xy + max(z, w)) at (3, -4, 2, -1)" in with_max
    assert "One operation: forward value and local gradient [maximum]" in with_max
    assert RANDOM <= with_max


def test_the_other_seed_graphs_and_the_random_graphs_wait_for_the_due_date(graded):
    results = graded(SUBMISSIONS / "solution.py")
    hidden = {t["name"] for t in results["tests"] if t["visibility"] != "visible"}
    assert hidden == RANDOM | {
        "The tanh neuron z = tanh(x + y)",
        "hw2 Q1's f = sigmoid(w1 x1 + w2 x2) + (w1² + w2²)/2, which uses w1 and w2 twice",
        "The binary cross-entropy of one logistic unit, which uses yhat twice",
    }


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_only_on_the_tests_its_mistake_affects(graded, name):
    results = graded(SUBMISSIONS / name)
    names = {t["name"] for t in results["tests"]}
    assert MUTANTS[name] <= names, MUTANTS[name] - names
    lost = {t["name"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert lost == MUTANTS[name]


def test_a_recursive_backward_is_told_to_sort_iteratively(graded):
    results = graded(SUBMISSIONS / "recursive_backward.py")
    (chain,) = [t for t in results["tests"] if t["name"] == "backward() on a chain of 5,000 nodes"]
    assert "RecursionError" in chain["output"]
    assert "iteratively" in chain["output"]


def test_accumulation_and_tie_failures_say_what_to_fix(graded):
    shared = [t for t in graded(SUBMISSIONS / "no_accumulate.py")["tests"] if t["name"] in SHARED]
    assert all("+=" in t["output"] for t in shared)
    tie = [t for t in graded(SUBMISSIONS / "max_wrong_tie.py")["tests"] if t["score"] < t["max_score"]]
    assert "FIRST argument" in tie[0]["output"]
