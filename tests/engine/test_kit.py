"""`nngrade kit`: a student kit holds no reference code and no hidden test, and grades as the repository does.

The slow tests build real kits, unpack them, and run their `check` in an interpreter that cannot
import this repository (`python -I -S` with only the kit and site-packages on its path), then
compare every visible test's score, status and message with the repository's own grading of the
same file. The searches for reference code and hidden tests derive what to look for themselves:
the bodies of every function in reference/, and the hidden cases pytest collects from the grader.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from graders.engine.datasets import Split
from graders.engine.grading import find, grade, pytest_args, without_autoload
from graders.engine.kit import build_kit, run_kit_check
from graders.engine.kit_files import graded_imports, requirements
from graders.engine.kit_replay import (
    NOT_IN_KIT,
    UNSET,
    Unkeyable,
    Unstorable,
    call_key,
    decode_recordings,
    encode_recordings,
    from_tree,
    lookup,
    to_tree,
)
from graders.engine.kit_syntax import reference_uses, source
from graders.engine.kit_transform import Case, Plan, candidates, parse_package, transform
from graders.engine.scoring import item_info

REPO = Path(__file__).resolve().parents[2]
HW2_SOLUTION = REPO / "assignments" / "hw2" / "examples" / "solution_colab_export.py"
HW2_BUGGY = REPO / "assignments" / "hw2" / "examples" / "buggy_relu_mask.py"


# --- keys and stored values ---------------------------------------------------------------------------


def test_equal_data_gives_equal_keys():
    one = {"x": np.arange(3.0), "lr": 0.1, "shape": (7, 12), "name": "w1", "nan": math.nan}
    other = {"nan": math.nan, "name": "w1", "shape": (7, 12), "lr": 0.1, "x": np.array([0.0, 1.0, 2.0])}
    assert call_key(one) == call_key(other)
    assert call_key({"x": np.arange(6.0)[::2]}) == call_key({"x": np.array([0.0, 2.0, 4.0])})


@pytest.mark.parametrize("other", [1.0, True, np.int64(1), "1", [1], (1,), None])
def test_keys_tell_types_apart(other):
    assert call_key({"v": 1}) != call_key({"v": other})


def test_keys_tell_arrays_and_signed_zeros_apart():
    x = np.arange(6.0)
    keys = {call_key({"x": v}) for v in (x, x.astype(np.float32), x.reshape(2, 3), x + 1e-12)}
    assert len(keys) == 4
    assert call_key({"v": 0.0}) != call_key({"v": -0.0})
    assert call_key({"a": 1, "b": 2}) != call_key({"a": 2, "b": 1})


@pytest.mark.parametrize("value", [lambda x: x, object(), np.array(["a"])], ids=["function", "object", "str"])
def test_what_has_no_reproducible_key(value):
    with pytest.raises(Unkeyable):
        call_key({"v": value})


def test_stored_values_come_back_equal_and_fresh():
    x = np.ones((2, 3), np.float32)
    split = Split(x, np.arange(2), x[:1] * 0, np.arange(1), "digits")
    value = {
        "split": split,
        "by_rate": {0.5: [1.0, math.inf]},
        "seen": frozenset({1, 2}),
        "pair": (np.int64(3), None),
        "nan": math.nan,
    }
    tree = to_tree(value)
    back = from_tree(decode_recordings(encode_recordings({"f": {"k": tree}}))["f"]["k"])
    assert call_key({"v": back}) == call_key({"v": value})
    assert type(back["split"]) is Split and back["by_rate"][0.5] == [1.0, math.inf]
    back["split"].train_x[0, 0] = 5.0  # a grader may change what it is given ...
    assert from_tree(tree)["split"].train_x[0, 0] == 1.0  # ... without changing the next replay


def test_a_replay_finds_arguments_computed_a_bit_apart():
    x = np.linspace(-1, 1, 7)
    recorded = {"x": x, "lr": 0.1, "model": "linear"}
    calls = {call_key(recorded): {"value": "answer", "args": to_tree(recorded)}}
    assert lookup(calls, dict(recorded)) == "answer"
    nearby = {"x": x * (1 + 1e-13), "lr": 0.1 * (1 + 1e-13), "model": "linear"}
    assert call_key(nearby) != call_key(recorded) and lookup(calls, nearby) == "answer"
    for other in (
        {**recorded, "x": x + 1e-6},
        {**recorded, "x": x.astype(np.float32)},
        {**recorded, "model": "two_hidden"},
        {"x": x, "lr": 0.1},
    ):
        assert lookup(calls, other) is UNSET
    assert lookup({call_key(recorded): {"value": 1, "args": None}}, nearby) is UNSET


def test_only_the_graders_own_dataclasses_are_stored():
    @dataclass
    class Elsewhere:
        x: int

    with pytest.raises(Unstorable):
        to_tree(Elsewhere(1))
    with pytest.raises(Unstorable):
        to_tree({"v": object()})


# --- the rewrite, on a made-up grader -------------------------------------------------------------------

TOY = '''
"""A made-up grader."""
from __future__ import annotations

import pytest

from graders.engine.checks import assert_close
from reference import hw2

CASES = [("a", "visible"), ("b", "after_due_date")]
HIDDEN_POINTS = [(1.5, 2.5)]


def _helper(x):
    return hw2.g_w1(x, 0.0, 0.0, 0.0)


def expected(x: hw2.Parameters, scale=2.0) -> float:
    return _helper(x) * scale


def unrelated():
    return 3


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.visibility(v), id=n) for n, v in CASES])
def test_mixed(name):
    assert_close(expected(1.0), 0.0, name=name)


@pytest.mark.visibility("after_due_date")
def test_hidden():
    for point in HIDDEN_POINTS:
        expected(point[0])


def test_direct():
    assert hw2.g_x1(1.0, 2.0, 3.0, 4.0)
'''


def toy_cases() -> list[Case]:
    module = "graders.toy.test_toy"
    marks = {v: (("visibility", (v,), ()),) for v in ("visible", "after_due_date")}
    return [
        Case(module, "test_mixed", True, "mixed [a]", "a", (("name", "a"),), marks["visible"]),
        Case(module, "test_mixed", False, "mixed [b]", "b", (("name", "b"),), marks["after_due_date"]),
        Case(module, "test_hidden", False, "hidden"),
        Case(module, "test_direct", True, "direct"),
    ]


def test_the_rewrite_keeps_visible_tests_and_replays_the_reference(tmp_path):
    (tmp_path / "test_toy.py").write_text(TOY, encoding="utf-8")
    trees = parse_package(tmp_path, "graders.toy")
    assert candidates(trees) == {"graders.toy.test_toy": {"_helper", "expected"}}
    kit = transform(trees, Plan(toy_cases(), stubs={("graders.toy.test_toy", "expected")}))
    text = source(kit["graders.toy.test_toy"])
    compile(text, "test_toy.py", "exec")
    gone = ("test_hidden", "HIDDEN_POINTS", "after_due_date", "CASES", "_helper", "Parameters", "id='b'")
    for name in gone:
        assert name not in text, name
    tree = ast.parse(text)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(functions) == {"expected", "unrelated", "test_mixed", "test_direct"}
    (stub,) = functions["expected"].body
    assert isinstance(stub, ast.Return) and stub.value.func.id == "_kit_replay"
    assert ast.unparse(functions["expected"].args) == "x, scale=_KIT_UNSET"
    (parametrize,) = functions["test_mixed"].decorator_list
    assert "pytest.param('a', marks=[pytest.mark.visibility('visible')], id='a')" in ast.unparse(parametrize)
    # test_direct still asks the reference itself: the kit's reference package replays that call.
    assert reference_uses(kit) == {"reference.hw2", "reference.hw2.g_x1"}
    assert trees["graders.toy.test_toy"].body  # the repository's trees are left as they were
    assert "test_hidden" in ast.unparse(trees["graders.toy.test_toy"])


def test_torch_is_required_only_where_the_graded_functions_use_it():
    uses = graded_imports(REPO / "tests" / "submissions" / "gradient_descent" / "solution.py", ("slope_run",))
    assert "torch" in uses
    assert "torch" not in graded_imports(HW2_SOLUTION, find("hw2").required)
    assert any(r.startswith("torch") for r in requirements(REPO / "pyproject.toml", uses))
    assert requirements(REPO / "pyproject.toml", {"numpy", "pytest"}) == ["numpy>=1.24", "pytest>=7.4"]


# --- what an independent search must not find in a kit ---------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _handout_lines() -> set[str]:
    """Code the students are given in the handouts: not secret, whoever else writes it."""
    found = set()
    for notebook in REPO.glob("assignments/*/*.ipynb"):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            text = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("!", "%")))
            with contextlib.suppress(SyntaxError):
                text = ast.unparse(ast.parse(text))
            found.update(_lines(text))
    return found


def reference_code() -> tuple[dict[str, str], dict[str, str]]:
    """(whole function bodies, single lines) of reference/*.py that are neither trivial nor in a handout."""
    handout = _handout_lines()
    bodies, lines = {}, {}
    for path in sorted((REPO / "reference").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            body_lines = _lines(ast.unparse(ast.Module(body=body, type_ignores=[])))
            where = f"{path.relative_to(REPO)}:{node.name}"
            text = "\n".join(body_lines)
            if len(text) >= 30 and not set(body_lines) <= handout:
                bodies[text] = where
            for line in body_lines:
                # Block headers (`for _ in range(steps):`) and short lines say nothing about a solution.
                if len(line) >= 30 and not line.endswith(":") and line not in handout:
                    lines.setdefault(line, where)
    return bodies, lines


def hidden_names(assignment: str) -> set[str]:
    """The grader's hidden tests as pytest collects them: display names, function[case], functions."""

    found = []

    class Items:
        def pytest_collection_modifyitems(self, items):
            found.extend((i.originalname, getattr(i, "callspec", None), item_info(i)) for i in items)

    with contextlib.redirect_stdout(io.StringIO()):
        args = pytest_args(find(assignment), ["--collect-only"])
        assert without_autoload(lambda: pytest.main(args, plugins=[Items()])) == pytest.ExitCode.OK
    visible = {info.name for _, _, info in found if info.visibility == "visible"}
    visible_functions = {f for f, _, info in found if info.visibility == "visible"}
    names = set()
    for function, callspec, info in found:
        if info.visibility == "visible":
            continue
        names |= {info.name} - visible
        names |= {f"{function}[{callspec.id}]"} if callspec else set()
        names |= {function} - visible_functions
    assert names, f"{assignment} has no hidden test: the search below would prove nothing"
    return names


def assert_kit_is_clean(contents: dict[str, bytes], assignment: str) -> None:
    """No reference body or line, no hidden test's name, nothing for staff only, in any file of the zip."""
    bodies, lines = reference_code()
    hidden_tests = hidden_names(assignment)
    for name, data in contents.items():
        if name.endswith(".py"):
            text = "\n".join(_lines(ast.unparse(ast.parse(data.decode()))))
            assert not [w for body, w in bodies.items() if body in text], name
            assert not [w for line, w in lines.items() if line in text.splitlines()], name
        for hidden in hidden_tests:
            assert hidden.encode() not in data, f"{hidden!r} in {name}"
    staff = ("tests/", "docker/", "setup.sh", "run_autograder", "examples", "solution", "cache/")
    assert not [n for n in contents if n.startswith(staff) or any(s in n for s in staff)]
    for module in ("packaging", "cli", "commands", "kit", "kit_record", "kit_transform", "kit_files"):
        assert f"graders/engine/{module}.py" not in contents
    grader = [n for n in contents if n.startswith(f"graders/{assignment}/")]
    assert grader and not [n for n in grader if b"after_due_date" in contents[n]]  # no trace of hidden cases
    for name in (n for n in contents if n.startswith("reference/") and n.endswith(".py")):
        for node in ast.parse(contents[name].decode()).body:
            if isinstance(node, ast.FunctionDef):  # a stub: one statement, the replay
                assert len(node.body) == 1 and "_kit_replay" in ast.unparse(node.body[0]), name


# --- whole kits -------------------------------------------------------------------------------------


def unpacked(zip_path: Path, folder: Path) -> tuple[Path, dict[str, bytes]]:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
        return folder, {n: archive.read(n) for n in archive.namelist()}


def visible_results(results: dict) -> dict:
    return {
        t["name"]: (t["score"], t["max_score"], t["status"], t.get("output", ""))
        for t in results["tests"]
        if t.get("visibility", "visible") == "visible"
    }


def check_in_kit(kit: Path, submission: Path, tmp: Path) -> tuple[dict, dict]:
    """The kit's results for `submission` and the modules it loaded, all proven to come from the kit."""
    report = tmp / "modules.json"
    results = run_kit_check(kit, submission, tmp / "results.json", modules_report=report)
    loaded = json.loads(report.read_text(encoding="utf-8"))
    assert "graders.engine.plugin" in loaded
    outside = {n: f for n, f in loaded.items() if f and not Path(f).resolve().is_relative_to(kit.resolve())}
    assert not outside, outside
    return results, loaded


@pytest.fixture(scope="module")
def hw2_kit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hw2-kit")
    made = build_kit("hw2", folder / "kit.zip", verify=False)
    return unpacked(made.path, folder / "kit")


@pytest.mark.slow
@pytest.mark.parametrize("submission", [HW2_SOLUTION, HW2_BUGGY], ids=["solution", "buggy_relu_mask"])
def test_hw2_kit_grades_as_the_repository_does(hw2_kit, tmp_path, submission):
    kit, _ = hw2_kit
    got, loaded = check_in_kit(kit, submission, tmp_path)
    want = grade("hw2", submission, visible_only=True)
    assert visible_results(got) == visible_results(want)
    assert sum(t["score"] for t in got["tests"]) == sum(t["score"] for t in want["tests"])
    assert "reference.hw2" in loaded  # Q1's tests ask the reference: the kit's stubs answered
    outputs = "\n".join(t.get("output", "") for t in got["tests"])
    if submission == HW2_BUGGY:
        assert "the ReLU's mask is missing" in outputs
        assert sum(t["score"] for t in got["tests"]) < sum(t["max_score"] for t in got["tests"])
    else:
        assert all(t["score"] == t["max_score"] for t in got["tests"])
        assert "dev accuracy after 20 epochs on scikit-learn's 8x8 digits" in outputs


@pytest.mark.slow
def test_hw2_kit_holds_no_reference_code_and_no_hidden_test(hw2_kit):
    _, contents = hw2_kit
    assert_kit_is_clean(contents, "hw2")
    assert "hw2.ipynb" in contents and "kit-recordings.bin" in contents
    assert b"torch" not in contents["requirements.txt"]


@pytest.mark.slow
def test_hw2_kit_runs_as_a_student_runs_it(hw2_kit, tmp_path):
    kit, _ = hw2_kit
    done = subprocess.run(
        [sys.executable, "-m", "graders", "check", str(HW2_SOLUTION)],
        cwd=kit,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Score: 66 / 66" in done.stdout


@pytest.mark.slow
def test_hw2_kit_replays_recorded_answers_and_names_what_it_lacks(hw2_kit):
    kit, _ = hw2_kit
    code = f"""
import json, sys
sys.path[:0] = [{str(kit)!r}]
sys.path += {[p for p in sys.path if p.endswith("site-packages")]!r}
from graders.engine.kit_replay import NotInKit, replay
print(json.dumps(replay("reference.hw2", "g_w1", {{"x1": 0.2, "x2": 0.4, "w1": 0.3, "w2": -0.5}})))
try:
    replay("reference.hw2", "g_w1", {{"x1": 9.0, "x2": 0.4, "w1": 0.3, "w2": -0.5}})
except NotInKit as missing:
    print(str(missing))
"""
    command = [sys.executable, "-I", "-S", "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    got, missing = done.stdout.splitlines()[:2]

    def f(x1, x2, w1, w2):
        return 1 / (1 + math.exp(-(w1 * x1 + w2 * x2))) + (w1**2 + w2**2) / 2

    h = 1e-6
    slope = (f(0.2, 0.4, 0.3 + h, -0.5) - f(0.2, 0.4, 0.3 - h, -0.5)) / (2 * h)
    assert json.loads(got) == pytest.approx(slope, rel=1e-7)
    assert NOT_IN_KIT in missing and "reference.hw2.g_w1" in missing


OTHERS = [
    ("computation_graph", "no_accumulate.py"),
    ("gradient_descent", "slope_no_stop.py"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "wrong"), OTHERS, ids=[a for a, _ in OTHERS])
def test_other_kits_grade_as_the_repository_does(tmp_path, assignment, wrong):
    made = build_kit(assignment, tmp_path / "kit.zip")  # verify=True: the build checked the solution itself
    assert made.verified == ("solution.py",)
    kit, contents = unpacked(made.path, tmp_path / "kit")
    assert_kit_is_clean(contents, assignment)
    submission = REPO / "tests" / "submissions" / assignment / wrong
    got, _ = check_in_kit(kit, submission, tmp_path)
    want = grade(assignment, submission, visible_only=True)
    assert visible_results(got) == visible_results(want)
    assert any(t["score"] < t["max_score"] for t in got["tests"])
    assert (b"torch" in contents["requirements.txt"]) == (assignment == "gradient_descent")


def test_the_kit_command_says_what_to_do_off_linux_or_without_its_packages(tmp_path, monkeypatch, capsys):
    from graders.engine import kit_cli

    notebook = tmp_path / "hw.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(sys, "platform", "win32")
    assert kit_cli.main(["check", str(notebook)]) == kit_cli.EXIT_USAGE
    assert "run them in WSL" in capsys.readouterr().err
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setitem(sys.modules, "rich.console", None)  # as if requirements.txt was never installed
    assert kit_cli.main(["check", str(notebook)]) == kit_cli.EXIT_USAGE
    told = capsys.readouterr().err
    assert "rich.console is not installed" in told and "pip install -r requirements.txt" in told


def test_a_kit_is_never_recorded_on_a_grading_session_that_broke(tmp_path):
    from graders.engine.kit import KitError, _require_full_marks
    from graders.engine.results import failure_results

    broken = failure_results("Grading stopped because of a problem in the autograder.", "Traceback ...")
    assert broken["tests"] and all(t["score"] == t["max_score"] for t in broken["tests"])  # looks perfect
    with pytest.raises(KitError, match="fails to be graded"):
        _require_full_marks(broken, tmp_path / "solution.py")
