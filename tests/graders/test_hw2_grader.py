"""The hw2 grader end to end, through `nngrade grade`'s code path, on the scenario submissions.

Oracles: a correct solution written independently of the reference gets full marks, the handout
stubs get nothing, and each mutant (one known mistake in one function) loses points on exactly
the tests tagged with that function (tests/submissions/hw2/README.md lists them).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graders.engine.grading import grade
from graders.engine.results import validate_results

HW2 = Path(__file__).resolve().parents[1] / "submissions" / "hw2"
MUTANTS = sorted(p for p in HW2.glob("*.py") if p.read_text(encoding="utf-8").startswith("# mutant:"))


def mutant_function(path: Path) -> str:
    """The function named on a mutant's first line: `# mutant: <function> — <mistake>`."""
    match = re.match(r"# mutant: (\w+)", path.read_text(encoding="utf-8"))
    return match.group(1)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    cache = {}

    def run(name: str, data=None) -> dict:
        if (name, data) not in cache:
            out = tmp_path_factory.mktemp("results") / "results.json"
            cache[(name, data)] = grade("hw2", HW2 / name, out, data=data)
            validate_results(cache[(name, data)])
        return cache[(name, data)]

    return run


def test_colab_export_gets_full_marks_on_real_mnist(graded, mnist_dir):
    results = graded("solution_colab_export.py", str(mnist_dir))
    failed = [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"]
    assert failed == []
    assert results["score"] == 110
    # The top-level work was seen and skipped, never run: no download, no training, no plots.
    for expected in ("torchvision.datasets.MNIST", "not executed by the grader", "!pip"):
        assert expected in results["output"]
    accuracy = [t for t in results["tests"] if "dev accuracy" in t["name"]]
    assert len(accuracy) == 3
    assert all("MNIST" in t["output"] for t in accuracy)


def test_notebook_solution_with_quirks_gets_full_marks(graded):
    results = graded("solution.ipynb")
    assert [t["name"] for t in results["tests"] if t["status"] != "passed"] == []
    assert results["score"] == 110
    assert "scikit-learn" in " ".join(t["output"] for t in results["tests"])


def test_untouched_stubs_score_zero_on_every_test(graded):
    results = graded("stubs.ipynb")
    assert results["score"] == 0
    assert all(t["score"] == 0 for t in results["tests"])
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert any("NotImplementedError" in t["output"] for t in visible)


def test_every_test_is_tagged_with_the_functions_it_exercises(graded):
    results = graded("solution.ipynb")
    graded_functions = {
        "g_w1",
        "g_w2",
        "g_x1",
        "g_x2",
        "linear_classifier_forward_and_backward",
        "mlp_single_hidden_forward_and_backward",
        "mlp_two_hidden_forward_and_backward",
    }
    for test in results["tests"]:
        assert test["tags"], test["name"]
        assert set(test["tags"]) <= graded_functions, test["name"]


@pytest.mark.parametrize("path", MUTANTS, ids=lambda p: p.stem)
def test_mutant_loses_points_only_on_its_function(graded, path):
    function = mutant_function(path)
    results = graded(path.name)
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert lost, f"{path.name}: the mistake in {function} cost nothing"
    for test in lost:
        assert function in test["tags"], f"{path.name} lost points on {test['name']} ({test['tags']})"
    assert results["score"] < 110
