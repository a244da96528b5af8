"""`nngrade assign`: a master notebook -> student notebook, grader package and reference module.

Oracles: hand-written expected cell sources for the marker replacement; the generated toy grader run
by pytest with the real plugin on the toy master (full marks) and on its student notebook (zero);
for the committed softmax_derivatives assignment, a fresh build equals the committed files, and the
master graded through `nngrade grade`'s code path gets every point while the handout gets none.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import graders
import reference
from graders.engine.authoring import AuthoringError, build, write
from graders.engine.authoring_master import read_master, solution_source, student_source
from graders.engine.cli import main
from graders.engine.grading import GraderInfo, grade, pytest_args
from graders.engine.results import load_results

REPO = Path(__file__).resolve().parents[2]
MASTER = REPO / "reference" / "masters" / "softmax_derivatives.ipynb"
TOY = "toy_authoring"

TWO_REGIONS = '''def scale(v, k):
    """k * v, and v unchanged if k is 0."""
    if k == 0:
        ### BEGIN SOLUTION
        return v
        ### END SOLUTION
    ### BEGIN SOLUTION
    return k * v
    ### END SOLUTION


def shift(v):
    """v + 1."""
    ### BEGIN SOLUTION
    return v + 1
    ### END SOLUTION'''

GRADER = f'''import pytest

from graders.{TOY} import ASSIGNMENT  # noqa: F401
from reference import {TOY} as ref'''

VISIBLE = '''@pytest.mark.points(2)
@pytest.mark.tags("scale")
def test_scale(submission):
    """scale by 3 and by 0"""
    assert submission.call("scale", 2.0, 3) == ref.scale(2.0, 3)
    assert submission.call("scale", 2.0, 0) == 2.0


@pytest.mark.points(1)
def test_shift_visible(submission):
    """shift"""
    assert submission.call("shift", 1.5) == 2.5'''

HIDDEN = '''@pytest.mark.points(1)
@pytest.mark.tags("ANSWER")
def test_secret_answer_constant(submission):
    """the answer"""
    submission.require("ANSWER")'''


def _cell(kind: str, cell_id: str, source: str, tags: tuple[str, ...] = (), **extra) -> dict:
    cell = {"cell_type": kind, "id": cell_id, "metadata": {"tags": list(tags)} if tags else {}}
    cell["source"] = source.splitlines(keepends=True)
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []}, **extra)
    return cell


def toy_notebook() -> dict:
    """A master using every feature: regions at two depths, a whole-cell region, a markdown answer,
    solution, solution-only, grader, visible and hidden test cells, outputs to clear."""
    printed = {"name": "stdout", "output_type": "stream", "text": ["4.0\n"]}
    return {
        "cells": [
            _cell("markdown", "intro", "# Toy\n\nWrite `scale` and `shift`."),
            _cell("code", "imports", "import math", ("solution",)),
            _cell("code", "functions", TWO_REGIONS),
            _cell("code", "whole", "### BEGIN SOLUTION\nANSWER = 42\n### END SOLUTION", ("keep-me",)),
            _cell("markdown", "why", "Why?\n\n### BEGIN SOLUTION\nBecause secret-reason.\n### END SOLUTION"),
            _cell("code", "scratch", "print(scale(2.0, 2))", execution_count=7, outputs=[printed]),
            _cell("markdown", "notes", "Author notes: nothing for students.", ("solution-only",)),
            _cell("code", "grader", GRADER, ("grader",)),
            _cell("code", "visible", VISIBLE, ("test",)),
            _cell("code", "hidden", HIDDEN, ("test-hidden",)),
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "nngrade": {"name": TOY, "title": "A toy assignment", "points": 4},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def save(tmp_path: Path, notebook: dict, name: str = "toy.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def cell_named(notebook: dict, cell_id: str) -> dict:
    return next(c for c in notebook["cells"] if c["id"] == cell_id)


def failure(tmp_path: Path, notebook: dict) -> str:
    with pytest.raises(AuthoringError) as excinfo:
        build(save(tmp_path, notebook))
    return str(excinfo.value)


# --- markers ---------------------------------------------------------------------------------


def test_each_region_becomes_a_stub_at_its_own_indentation(tmp_path):
    master = read_master(save(tmp_path, toy_notebook()))
    functions = master.cells[2]
    stub = 'raise NotImplementedError("write your solution here")'
    assert student_source(functions) == (
        'def scale(v, k):\n    """k * v, and v unchanged if k is 0."""\n    if k == 0:\n'
        f"        {stub}\n    {stub}\n\n\n"
        f'def shift(v):\n    """v + 1."""\n    {stub}'
    )
    assert solution_source(functions) == (
        'def scale(v, k):\n    """k * v, and v unchanged if k is 0."""\n    if k == 0:\n'
        "        return v\n    return k * v\n\n\n"
        'def shift(v):\n    """v + 1."""\n    return v + 1\n'
    )
    assert student_source(master.cells[3]) == stub  # a whole-cell solution
    assert student_source(master.cells[4]) == "Why?\n\n_Write your answer here._"
    assert master.required == ("scale", "shift")  # the functions holding regions; ANSWER is no function


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "line 2: `### BEGIN SOLUTION` has no `### END"),
        ("def f():\n    return 1\n    ### END SOLUTION\n", "line 3: `### END SOLUTION` without a `### BEGIN"),
        (
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
            "line 3: `### BEGIN SOLUTION` inside the region opened on line 2",
        ),
        ("def f():\n    return 1  ### END SOLUTION\n", "line 2: a solution marker must be alone on its line"),
    ],
    ids=["no-end", "no-begin", "nested", "not-alone"],
)
def test_unbalanced_markers_name_the_cell_and_line(tmp_path, source, expected):
    notebook = toy_notebook()
    cell_named(notebook, "functions")["source"] = source
    message = failure(tmp_path, notebook)
    assert message.startswith("cell 3 (id 'functions'), ")
    assert expected in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda nb: nb["metadata"].pop("nngrade"), 'needs an "nngrade" object'),
        (lambda nb: nb["metadata"]["nngrade"].update(name="no-dash"), "must be a Python identifier"),
        (lambda nb: nb["metadata"]["nngrade"].update(sandbox={"cpu": 3}), "sandbox.cpu is not one of"),
        (
            lambda nb: nb["metadata"]["nngrade"].update(sandbox={"call_timeout": "soon"}),
            "sandbox.call_timeout must be like its default 5.0, not 'soon'",
        ),
        (
            lambda nb: nb["metadata"]["nngrade"].update(sandbox={"memory_bytes": True}),
            "sandbox.memory_bytes must be like its default",
        ),
        (
            lambda nb: cell_named(nb, "hidden")["metadata"].update(tags=["tests-hidden"]),
            "cell 10 (id 'hidden'): unknown tag 'tests-hidden'",
        ),
        (
            lambda nb: cell_named(nb, "hidden")["source"].insert(0, '@pytest.mark.visibility("visible")\n'),
            "cell 10 (id 'hidden'): a test cell must not set pytest.mark.visibility",
        ),
        (
            lambda nb: cell_named(nb, "hidden").update(source=["HELPER = 1\n"]),
            "at least one `def test_...`",
        ),
        (
            lambda nb: cell_named(nb, "grader").update(source=[f"from reference import {TOY} as ref\n"]),
            "must contain `import pytest`",
        ),
        (
            lambda nb: cell_named(nb, "grader")["metadata"]["tags"].append("test"),
            "cell 8 (id 'grader'): tags grader, test conflict; a cell has one role",
        ),
    ],
    ids=[
        "metadata",
        "name",
        "sandbox",
        "sandbox-type",
        "sandbox-bool",
        "tag-typo",
        "own-visibility",
        "no-tests",
        "no-pytest",
        "roles",
    ],
)
def test_a_bad_master_is_refused_with_a_message_saying_what_to_change(tmp_path, change, expected):
    notebook = toy_notebook()
    change(notebook)
    assert expected in failure(tmp_path, notebook)


# --- the student notebook --------------------------------------------------------------------


def test_the_student_notebook_has_no_solution_no_hidden_test_and_no_output(tmp_path):
    files = build(save(tmp_path, toy_notebook()))
    raw = files[f"assignments/{TOY}/{TOY}.ipynb"].decode("utf-8")
    notebook = nbformat.reads(raw, as_version=4)
    nbformat.validate(notebook)
    secrets = ("return k * v", "return v + 1", "ANSWER = 42", "secret-reason", "test_secret_answer_constant")
    for secret in (*secrets, "Author notes", "from reference import", "BEGIN SOLUTION", '"nngrade"'):
        assert secret not in raw, secret
    ids = [c["id"] for c in notebook.cells]
    assert ids == ["intro", "imports", "functions", "whole", "why", "scratch", "visible"]
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert cell_named(notebook, "whole")["metadata"] == {"tags": ["keep-me"]}  # only authoring tags go
    assert cell_named(notebook, "imports")["metadata"] == {}
    visible = cell_named(notebook, "visible")
    assert visible.cell_type == "markdown" and "def test_scale(submission):" in visible.source
    assert notebook.metadata == {"kernelspec": toy_notebook()["metadata"]["kernelspec"]}


def test_the_build_is_deterministic_and_a_rewrite_changes_nothing(tmp_path):
    master = save(tmp_path, toy_notebook())
    assert build(master) == build(master)
    # Set and dict order could vary only between interpreters (hash seeds), not within one.
    script = (
        "import json, sys; from pathlib import Path; from graders.engine.authoring import build;"
        "print(json.dumps(sorted((str(k), v if isinstance(v, str) else v.decode()) "
        "for k, v in build(Path(sys.argv[1])).items())))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script, str(master)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(seen) == 1
    out = tmp_path / "out"
    first, second = write(build(master), out), write(build(master), out)
    assert [changed for _, changed in first] == [True] * 4
    assert [changed for _, changed in second] == [False] * 4
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(build(master))


def test_generated_modules_hold_the_solution_and_the_visibility_markers(tmp_path):
    files = build(save(tmp_path, toy_notebook()))
    solution = files[f"reference/{TOY}.py"].decode()
    assert "import math\n" in solution and "return k * v" in solution and "ANSWER = 42" in solution
    assert "BEGIN SOLUTION" not in solution and "print(scale" not in solution
    tests = files[f"graders/{TOY}/test_{TOY}.py"].decode()
    assert tests.count('@pytest.mark.visibility("visible")\n@pytest.mark.points') == 2
    hidden = '@pytest.mark.visibility("hidden")\n@pytest.mark.points(1)\n@pytest.mark.tags("ANSWER")'
    assert tests.count(hidden) == 1
    init = files[f"graders/{TOY}/__init__.py"].decode()
    assert 'required=("scale", "shift"),' in init and "total_points=4," in init
    assert "SandboxConfig" not in init  # no "sandbox" in the metadata: the defaults


# --- round trip through pytest and the grading plugin ----------------------------------------


@pytest.fixture
def toy_grader(tmp_path, monkeypatch):
    """The toy's generated files, importable as graders.<TOY> and reference.<TOY> for this test only."""
    master = save(tmp_path, toy_notebook())
    out = tmp_path / "out"
    write(build(master), out)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only the plugin named with -p, as in grade()
    monkeypatch.setattr(graders, "__path__", [*graders.__path__, str(out / "graders")])
    monkeypatch.setattr(reference, "__path__", [*reference.__path__, str(out / "reference")])
    yield master, out
    for name in [m for m in sys.modules if m.endswith(TOY) or f".{TOY}." in m]:
        del sys.modules[name]


def grade_toy(out: Path, submission: Path, results: Path) -> dict:
    """Grade with the toy's generated grader as `nngrade grade` would (its folder is not under graders/)."""
    info = GraderInfo(TOY, "toy", out / "graders" / TOY, ("scale", "shift"), None)
    extra = ["--submission", str(submission), "--results", str(results), "-p", "no:cacheprovider"]
    # importlib mode: the generated folder is outside the rootdir, and must not go on sys.path.
    code = pytest.main([*pytest_args(info, extra), "--import-mode=importlib"])
    assert results.is_file(), f"pytest exited {code} without results"
    return load_results(results)


def test_a_toy_master_round_trips_full_marks_for_itself_and_zero_for_its_handout(toy_grader, tmp_path):
    master, out = toy_grader
    results = grade_toy(out, master, tmp_path / "master.json")
    assert [(t["name"], t["status"]) for t in results["tests"]] == [
        ("scale by 3 and by 0", "passed"),
        ("shift", "passed"),
        ("the answer", "passed"),
    ]
    assert results["score"] == 4
    assert [t["visibility"] for t in results["tests"]] == ["visible", "visible", "hidden"]
    handout = grade_toy(out, out / "assignments" / TOY / f"{TOY}.ipynb", tmp_path / "handout.json")
    assert handout["score"] == 0 and len(handout["tests"]) == 3


# --- the committed softmax_derivatives assignment --------------------------------------------


def test_the_committed_files_are_exactly_what_the_master_generates():
    for relative, content in build(MASTER).items():
        assert (REPO / relative).read_bytes() == content, f"{relative} is not what the master generates"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    cache: dict = {}

    def run(path: Path) -> dict:
        if path not in cache:
            cache[path] = grade("softmax_derivatives", path, tmp_path_factory.mktemp("r") / "results.json")
        return cache[path]

    return run


def test_the_master_graded_as_a_submission_gets_full_marks(graded):
    results = graded(MASTER)
    assert [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"] == []
    assert results["score"] == 50 == sum(t["max_score"] for t in results["tests"])


def test_the_generated_handout_scores_zero_on_every_test(graded):
    handout = REPO / "assignments" / "softmax_derivatives" / "softmax_derivatives.ipynb"
    results = graded(handout)
    assert len(results["tests"]) == len(graded(MASTER)["tests"])
    assert [t["name"] for t in results["tests"] if t["score"] != 0] == []
    assert all("NotImplementedError" in t["output"] for t in results["tests"])
    hidden = [t["name"] for t in results["tests"] if t["visibility"] != "visible"]
    text = handout.read_text(encoding="utf-8")
    assert hidden and not any(name.split(" [")[0] in text for name in hidden)


def test_the_cli_writes_the_files_and_reports_a_bad_master(tmp_path, capsys):
    assert main(["assign", str(MASTER), "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("wrote ") == 4
    assert main(["assign", str(MASTER), "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("unchanged ") == 4
    broken = copy.deepcopy(json.loads(MASTER.read_text(encoding="utf-8")))
    cell = broken["cells"][3]
    cell["source"] = [line for line in cell["source"] if "END SOLUTION" not in line]
    assert main(["assign", str(save(tmp_path, broken, "broken.ipynb")), "-o", str(tmp_path)]) == 2
    assert "cell 4 (id 'softmax'), line 6: `### BEGIN SOLUTION` has no" in capsys.readouterr().err
