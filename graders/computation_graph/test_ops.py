"""Each operation of `Value` on its own: its forward value and its local gradient(s)."""

from __future__ import annotations

import pytest

from graders.computation_graph import ASSIGNMENT, expected  # noqa: F401  (ASSIGNMENT is read by the plugin)
from graders.computation_graph.compare import check_report

# id: (formula as students read it, inputs used, [(leaf values, constant), ...], hint on failure)
OPS = {
    "add": ("x + y", "xy", [((1.5, -2.25), None), ((-0.3, 0.7), None)], ""),
    "add_float": ("x + c", "x", [((-0.4,), 1.5), ((2.0,), -0.25)], ""),
    "radd": ("c + x", "x", [((-0.4,), -2.5), ((1.25,), 0.5)], "A float on the left needs __radd__."),
    "mul": ("x * y", "xy", [((1.5, -2.25), None), ((-0.3, 0.7), None)], ""),
    "mul_float": ("x * c", "x", [((-0.4,), -2.0), ((1.75,), 0.5)], ""),
    "rmul": ("c * x", "x", [((-0.4,), 3.0), ((1.75,), -0.5)], "A float on the left needs __rmul__."),
    "neg": ("-x", "x", [((0.8,), None), ((-1.3,), None)], ""),
    "pow": ("x ** c", "x", [((-1.5,), 3.0), ((2.0,), 0.5), ((0.5,), -1.0), ((1.2,), 2.0)], ""),
    "exp": ("x.exp()", "x", [((-1.2,), None), ((0.7,), None)], ""),
    "tanh": ("x.tanh()", "x", [((-0.6,), None), ((1.3,), None)], ""),
    "sigmoid": ("x.sigmoid()", "x", [((-2.0,), None), ((0.4,), None)], ""),
    "log": ("x.log()", "x", [((0.25,), None), ((3.0,), None)], ""),
    "relu": ("x.relu()", "x", [((-0.7,), None), ((1.1,), None)], ""),
    "maximum": ("maximum(x, y)", "xy", [((2.0, -1.0), None), ((-0.5, 0.3), None)], ""),
}


def _case(op: str) -> pytest.param:
    tags = ("Value", "maximum") if op == "maximum" else ("Value",)
    return pytest.param(op, marks=pytest.mark.tags(*tags), id=op)


def _run(graph, code: str, formula: str, leaves: str, points, hint: str) -> None:
    for values, c in points:
        instruction = [code, 0, 1 if len(leaves) == 2 else None, c]
        where = ", ".join(f"{n}={v:g}" for n, v in zip(leaves, values, strict=True))
        where += f", c={c:g}" if c is not None else ""
        got = graph("run_program", list(values), [instruction], maximum=code == "maximum")
        want = expected.program(list(values), [instruction])
        check_report(got, want, list(leaves), f"out = {formula} at {where}", hint)


@pytest.mark.parametrize("op", [_case(op) for op in OPS])
@pytest.mark.points(1)
@pytest.mark.number("1.1")
def test_operation(graph, op):
    """One operation: forward value and local gradient"""
    formula, leaves, points, hint = OPS[op]
    _run(graph, op, formula, leaves, points, hint)


@pytest.mark.points(1)
@pytest.mark.number("1.2")
@pytest.mark.tags("Value", "maximum")
def test_maximum_tie(graph):
    """maximum(a, b) on a tie sends the whole gradient to a"""
    _run(
        graph,
        "maximum",
        "maximum(x, y)",
        "xy",
        [((0.75, 0.75), None), ((-2.0, -2.0), None)],
        "On a tie (a.data == b.data) the handout sends the whole gradient to the FIRST argument.",
    )
