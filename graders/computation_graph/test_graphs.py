"""Whole graphs: the seed's worked examples, a very deep chain, shared sub-expressions, random ones."""

from __future__ import annotations

import pytest

from graders.computation_graph import ASSIGNMENT, expected  # noqa: F401  (ASSIGNMENT is read by the plugin)
from graders.computation_graph.compare import check_report
from graders.engine.checks import CheckFailure
from graders.engine.errors import SubmissionError

SEED_GRAPHS = {
    # name: (formula, leaf names, argument sets)
    "tutorial": ("f = 2 (x y + maximum(z, w))", ["x", "y", "z", "w"], [(3.0, -4.0, 2.0, -1.0)]),
    "tanh_neuron": ("z = (x + y).tanh()", ["x", "y"], [(0.3, 0.5), (-1.1, 0.4)]),
    "hw2": (
        "f = (w1 x1 + w2 x2).sigmoid() + 0.5 (w1**2 + w2**2)",
        ["x1", "x2", "w1", "w2"],
        [(0.2, 0.4, 0.3, -0.5), (-1.0, 0.7, 1.5, 0.25)],
    ),
    "logistic": (
        "L = -(y log(yhat) + (1 - y) log(1 - yhat)), yhat = (w.x + b).sigmoid()",
        ["w0", "w1", "w2", "x0", "x1", "x2", "b", "y"],
        [((0.5, -1.2, 0.3), (1.0, 0.4, -2.0), 0.1, 1.0), ((-0.7, 0.2, 0.9), (0.5, -1.5, 0.8), -0.3, 0.0)],
    ),
}


def _seed_graph(graph, name: str) -> None:
    formula, leaves, arg_sets = SEED_GRAPHS[name]
    for args in arg_sets:
        got = graph("seed_graph", name, list(args), maximum=name == "tutorial")
        check_report(got, expected.seed_graph(name, args), leaves, f"{formula} at {args}")


@pytest.mark.points(5)
@pytest.mark.number("2.1")
@pytest.mark.tags("Value", "maximum")
def test_tutorial_graph(graph):
    """The tutorial's graph f = 2(xy + max(z, w)) at (3, -4, 2, -1)"""
    _seed_graph(graph, "tutorial")


@pytest.mark.points(3)
@pytest.mark.number("2.2")
@pytest.mark.visibility("after_due_date")
@pytest.mark.tags("Value")
def test_tanh_neuron(graph):
    """The tanh neuron z = tanh(x + y)"""
    _seed_graph(graph, "tanh_neuron")


@pytest.mark.points(3)
@pytest.mark.number("2.3")
@pytest.mark.visibility("after_due_date")
@pytest.mark.tags("Value")
def test_hw2_graph(graph):
    """hw2 Q1's f = sigmoid(w1 x1 + w2 x2) + (w1² + w2²)/2, which uses w1 and w2 twice"""
    _seed_graph(graph, "hw2")


@pytest.mark.points(4)
@pytest.mark.number("2.4")
@pytest.mark.visibility("after_due_date")
@pytest.mark.tags("Value")
def test_logistic_regression_loss(graph):
    """The binary cross-entropy of one logistic unit, which uses yhat twice"""
    _seed_graph(graph, "logistic")


DEPTH = 5_000


@pytest.mark.points(6)
@pytest.mark.number("3")
@pytest.mark.tags("Value")
def test_deep_chain(graph):
    """backward() on a chain of 5,000 nodes"""
    try:
        got = graph("deep_chain", 0.5, DEPTH)
    except SubmissionError as exc:
        if exc.error_type != "RecursionError":
            raise
        raise CheckFailure(
            f"backward() on a chain of {DEPTH:,} nodes raised RecursionError: a recursive walk over "
            "the graph needs one Python stack frame per node, and Python stops at about 1,000. Build "
            "the topological order iteratively instead, with a list used as an explicit stack (and a "
            "set of the nodes already visited)."
        ) from None
    check_report(got, expected.deep_chain(0.5, DEPTH), ["x"], f"a chain of {DEPTH:,} nodes from x = 0.5")


SHARED = {
    # id: (formula, leaf names, leaf values, program)
    "x*x + x": ("out = x * x + x", ["x"], [-1.5], [["mul", 0, 0, None], ["add", 1, 0, None]]),
    "diamond": (
        "a = x * y; out = a.tanh() * a.sigmoid() + a",
        ["x", "y"],
        [0.6, -1.4],
        [
            ["mul", 0, 1, None],
            ["tanh", 2, None, None],
            ["sigmoid", 2, None, None],
            ["mul", 3, 4, None],
            ["add", 5, 2, None],
        ],
    ),
}

SHARED_HINT = (
    "A node used more than once must receive the SUM of the gradients of all its uses: add to .grad "
    "(+=) in backward, never assign it (=)."
)


@pytest.mark.parametrize("case", list(SHARED))
@pytest.mark.points(4)
@pytest.mark.number("4")
@pytest.mark.tags("Value")
def test_shared_subexpression(graph, case):
    """A node used twice gets the sum of both gradients"""
    formula, leaves, values, program = SHARED[case]
    got = graph("run_program", values, program)
    where = ", ".join(f"{n}={v:g}" for n, v in zip(leaves, values, strict=True))
    check_report(got, expected.program(values, program), leaves, f"{formula} at {where}", SHARED_HINT)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.points(2)
@pytest.mark.number("5")
@pytest.mark.visibility("after_due_date")
@pytest.mark.tags("Value", "maximum")
def test_random_graph(graph, seed):
    """A random expression of about 40 operations"""
    leaves, program = expected.random_program(seed)
    got = graph("run_program", leaves, program, maximum=True)
    names = [f"x{i}" for i in range(len(leaves))]
    check_report(got, expected.program(leaves, program), names, f"random expression #{seed}")
