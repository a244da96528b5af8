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

HW2 = Path(__file__).resolve().parents[1] / "submissions" / "hw2"
EXAMPLES = Path(__file__).resolve().parents[2] / "assignments" / "hw2" / "examples"
SOLUTION = EXAMPLES / "solution_colab_export.py"
MUTANTS = sorted(
    p
    for p in [*HW2.glob("*.py"), *EXAMPLES.glob("*.py")]
    if p.read_text(encoding="utf-8").startswith("# mutant:")
)


def mutant_function(path: Path) -> str:
    """The function named on a mutant's first line: `# mutant: <function> — <mistake>`."""
    match = re.match(r"# mutant: (\w+)", path.read_text(encoding="utf-8"))
    return match.group(1)


@pytest.fixture(scope="module")
def graded(graded_as):
    return lambda name, data=None: graded_as("hw2", name if isinstance(name, Path) else HW2 / name, data)


def test_colab_export_gets_full_marks_on_real_mnist(graded, mnist_dir):
    results = graded(SOLUTION, str(mnist_dir))
    failed = [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"]
    assert failed == []
    assert results["score"] == 110
    # The top-level work was seen and skipped, never run: no download, no training, no plots.
    for expected in ("torchvision.datasets.MNIST", "not executed by the grader", "!pip"):
        assert expected in results["output"]
    accuracy = [t for t in results["tests"] if "dev accuracy" in t["name"]]
    assert len(accuracy) == 3
    assert all("MNIST" in t["output"] for t in accuracy)


def test_points_add_up_to_the_declared_total(graded):
    from graders.hw2 import ASSIGNMENT

    results = graded("stubs.ipynb")
    assert sum(t["max_score"] for t in results["tests"]) == ASSIGNMENT.total_points == 110


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
    # Tracebacks quote the notebook's code by cell, not lines of the .ipynb file's JSON.
    assert any(".ipynb, cell " in t["output"] and "raise NotImplementedError" in t["output"] for t in visible)


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
    results = graded(path)
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert lost, f"{path.name}: the mistake in {function} cost nothing"
    for test in lost:
        assert function in test["tags"], f"{path.name} lost points on {test['name']} ({test['tags']})"
    assert results["score"] < 110


def broken_variant(tmp_path: Path, function: str, how: str) -> Path:
    """The correct Colab export with `function` removed, made to hang, or made to kill its process."""
    source = SOLUTION.read_text(encoding="utf-8")
    if how == "missing":
        source = source.replace(f"def {function}(", f"def {function}_renamed(")
    else:
        start = source.index(f"def {function}(")
        body = source.index(":\n", start) + 2  # after the signature's closing colon
        stmt = {"hangs": "while True:\n        pass", "crashes": "import os\n    os._exit(3)"}[how]
        source = source[:body] + f"    {stmt}\n" + source[body:]
    path = tmp_path / f"{how}.py"
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("function", "how", "message"),
    [
        (
            "mlp_two_hidden_forward_and_backward",
            "missing",
            "does not define `mlp_two_hidden_forward_and_backward`",
        ),
        ("linear_classifier_forward_and_backward", "hangs", "did not finish in time"),
        ("mlp_single_hidden_forward_and_backward", "crashes", "exit code 3"),
        ("g_x1", "hangs", "did not finish in time"),
    ],
)
def test_a_broken_function_fails_only_its_own_tests(tmp_path, function, how, message):
    results = grade("hw2", broken_variant(tmp_path, function, how), tmp_path / "results.json")
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert lost
    assert all(function in t["tags"] for t in lost), [
        (t["name"], t["output"]) for t in lost if function not in t["tags"]
    ]
    assert any(message in t["output"] for t in lost)
    kept = [t for t in results["tests"] if function not in t["tags"]]
    assert all(t["score"] == t["max_score"] for t in kept)


def test_pytest_files_in_the_submission_folder_are_never_loaded(tmp_path):
    """A conftest.py, pytest.ini or plugin beside the submission must not reach the grader."""
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "hw2.py").write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    marker = tmp_path / "conftest_ran"
    (folder / "conftest.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    (folder / "pytest.ini").write_text("[pytest]\naddopts = --collect-only -p no:nngrade\n")
    results = grade("hw2", folder, tmp_path / "results.json")
    assert results["score"] == 110
    assert not marker.exists()
