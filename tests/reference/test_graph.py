"""reference.graph against torch autograd in float64: single ops, random graphs, the seed builders."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import graph
from reference.graph import Value
from tests.oracles import torch_grads

torch = pytest.importorskip("torch")

SEEDS = [0, 1, 2, 3, 4]


def _ours(fn, *xs: float) -> tuple[float, list[float]]:
    """Value and input gradients of fn built from our nodes."""
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def _torch(fn, *xs: float) -> tuple[float, list[float]]:
    value, grads = torch_grads(fn, *(np.float64(x) for x in xs))
    return float(value), [float(g) for g in grads]


def _assert_same(ours, theirs, rtol=1e-10) -> None:
    (v, g), (tv, tg) = ours, theirs
    assert v == pytest.approx(tv, rel=rtol, abs=1e-14)
    assert g == pytest.approx(tg, rel=rtol, abs=1e-14)


# Each entry works on our nodes and on torch tensors alike; `domain` draws suitable inputs.
POSITIVE = (0.2, 3.0)
ANY = (-3.0, 3.0)
UNARY = {
    "neg": (lambda a: -a, ANY),
    "exp": (lambda a: a.exp(), ANY),
    "log": (lambda a: a.log(), POSITIVE),
    "sigmoid": (lambda a: a.sigmoid(), ANY),
    "tanh": (lambda a: a.tanh(), ANY),
    "pow 2": (lambda a: a**2, ANY),
    "pow 3": (lambda a: a**3, ANY),
    "pow 0.5": (lambda a: a**0.5, POSITIVE),
    "pow -1.5": (lambda a: a**-1.5, POSITIVE),
    "pow 0": (lambda a: a**0, ANY),
    "add float": (lambda a: a + 1.5, ANY),
    "radd float": (lambda a: 1.5 + a, ANY),
    "rmul float": (lambda a: -2.5 * a, ANY),
    "rsub float": (lambda a: 1.0 - a, ANY),
    "rtruediv float": (lambda a: 2.0 / a, POSITIVE),
    "truediv float": (lambda a: a / 4.0, ANY),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b,
    "max": lambda a, b: a.max(b),
    "max reversed": lambda a, b: b.max(a),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("op", UNARY, ids=UNARY.keys())
def test_unary_op_matches_torch(op: str, seed: int) -> None:
    fn, (lo, hi) = UNARY[op]
    x = float(np.random.default_rng(seed).uniform(lo, hi))
    _assert_same(_ours(fn, x), _torch(fn, x))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("op", BINARY, ids=BINARY.keys())
def test_binary_op_matches_torch(op: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-3, 3), rng.uniform(0.2, 3) * rng.choice([-1, 1])  # b != 0 and a != b almost surely
    _assert_same(_ours(BINARY[op], a, b), _torch(BINARY[op], a, b))


def test_max_tie_sends_the_gradient_to_the_first_argument() -> None:
    a, b = Value(2.0), Value(2.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)


def test_sigmoid_saturates_without_overflow() -> None:
    for u, expected in ((1000.0, 1.0), (-1000.0, 0.0)):
        s = Value(u).sigmoid()
        assert s.data == expected
        assert s.local_grads == (0.0,)


def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="positive"):
        Value(0.0, name="q").log()
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match="not a real number"):
        Value(1.0) / Value(0.0)
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(TypeError):
        Value(1.0) + "1"
    with pytest.raises(ValueError, match="same length"):
        graph.logistic_regression_graph([1.0, 2.0], [1.0], 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Random expression graphs: one program, run once on our nodes and once on torch tensors.
# ---------------------------------------------------------------------------------------------

# Every step maps any real inputs to a real output of moderate size, so programs never fail.
STEPS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1.0),
    lambda a, b: a.max(b),
    lambda a, b: (a * 0.5).tanh(),
    lambda a, b: a.sigmoid() * b,
    lambda a, b: a.tanh().exp(),
    lambda a, b: (1.0 + a.sigmoid()).log(),
    lambda a, b: (a * a + 1.0) ** 0.5,
    lambda a, b: -a * 0.7 + 0.1,
    lambda a, b: a**2 * 0.25,
]


def _random_program(rng: np.random.Generator, n_leaves: int, n_steps: int) -> list[tuple[int, int, int]]:
    # Operands are drawn from every earlier node, so nodes get reused: shared sub-expressions are common.
    return [
        (int(rng.integers(len(STEPS))), int(rng.integers(n_leaves + k)), int(rng.integers(n_leaves + k)))
        for k in range(n_steps)
    ]


def _run_program(program, leaves, values_of):
    nodes = list(leaves)
    for step, i, j in program:
        a, b = nodes[i], nodes[j]
        if STEPS[step] is STEPS[4] and i != j and abs(values_of(a) - values_of(b)) < 1e-9:
            step = 0  # a tie in max between different nodes: the two engines pick different sides
        nodes.append(STEPS[step](a, b))
    # Every leaf feeds the output, so torch gives each a gradient (not None).
    out = nodes[-1]
    for node in nodes[:-1]:
        out = out + 0.1 * node
    return out


@pytest.mark.parametrize("seed", range(12))
def test_random_expression_graphs_match_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_leaves = int(rng.integers(1, 5))
    program = _random_program(rng, n_leaves, n_steps=int(rng.integers(5, 25)))
    xs = rng.uniform(-2, 2, size=n_leaves)

    ours = _ours(lambda *v: _run_program(program, v, lambda n: n.data), *xs)
    theirs = _torch(lambda *t: _run_program(program, t, lambda n: n.item()), *xs)
    _assert_same(ours, theirs, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Engine behaviour
# ---------------------------------------------------------------------------------------------


def test_chain_of_50000_nodes_needs_no_recursion() -> None:
    x = Value(0.5)
    out = x
    for _ in range(50_000):
        out = out * 1.00001  # 50,000 products deep (plus one constant node beside each)
    out.backward()
    assert len(out.topological_order()) == 100_001
    assert out.data == pytest.approx(0.5 * 1.00001**50_000, rel=1e-9)
    assert x.grad == pytest.approx(1.00001**50_000, rel=1e-9)
    assert len(out.trace()) == 100_001


def test_shared_subexpression_gets_the_sum_of_both_paths() -> None:
    # f = a*a + a with a = x*y: df/dx = (2a + 1) y, df/dy = (2a + 1) x
    x, y = Value(1.5), Value(-2.0)
    a = x * y
    f = a * a + a
    f.backward()
    assert a.grad == 2 * a.data + 1
    assert (x.grad, y.grad) == (pytest.approx((2 * -3.0 + 1) * -2.0), pytest.approx((2 * -3.0 + 1) * 1.5))
    theirs = _torch(lambda x, y: (x * y) * (x * y) + x * y, 1.5, -2.0)
    assert [x.grad, y.grad] == pytest.approx(theirs[1], rel=1e-12)


def test_node_used_twice_in_one_op() -> None:
    x = Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0
    (x * x).backward()
    assert x.grad == 6.0


def test_backward_resets_gradients_first() -> None:
    x, y = Value(2.0), Value(5.0)
    f = x * y
    f.backward()
    f.backward()
    assert (x.grad, y.grad) == (5.0, 2.0)
    g = x + 1.0  # shares the leaf x with f
    g.backward()
    assert x.grad == 1.0


def test_trace_lists_every_node_after_its_parents() -> None:
    f, nodes = graph.tutorial_graph(3.0, -4.0, 2.0, -1.0)
    f.backward()
    rows = f.trace()
    assert len(rows) == len(f.topological_order())
    assert all(p < row.index for row in rows for p in row.parents)
    by_name = {row.name: row for row in rows if row.name}
    assert set(by_name) == set(nodes)
    for name, node in nodes.items():
        assert (by_name[name].value, by_name[name].grad) == (node.data, node.grad)
    assert (by_name["m"].op, by_name["f"].op, by_name["x"].op) == ("max", "mul", "leaf")
    assert by_name["m"].local_grads == (1.0, 0.0)


# ---------------------------------------------------------------------------------------------
# The builders, every named node against torch (values and gradients, intermediates included)
# ---------------------------------------------------------------------------------------------


def _torch_tutorial(x, y, z, w):
    a = x * y
    m = torch.maximum(z, w)
    b = a + m
    return {"a": a, "m": m, "b": b, "f": 2 * b}


def _torch_tanh_neuron(x, y):
    s = x + y
    return {"s": s, "z": torch.tanh(s)}


def _torch_hw2(x1, x2, w1, w2):
    t = {"w1x1": w1 * x1, "w2x2": w2 * x2}
    t["u"] = t["w1x1"] + t["w2x2"]
    t["sig"] = torch.sigmoid(t["u"])
    t["w1_sq"], t["w2_sq"] = w1**2, w2**2
    t["sq_sum"] = t["w1_sq"] + t["w2_sq"]
    t["reg"] = 0.5 * t["sq_sum"]
    t["f"] = t["sig"] + t["reg"]
    return t


def _torch_logistic(*leaves):
    d = (len(leaves) - 2) // 2
    w, x, b, y = torch.stack(leaves[:d]), torch.stack(leaves[d : 2 * d]), leaves[-2], leaves[-1]
    t = {"s": (w * x).sum()}
    t["u"] = t["s"] + b
    t["yhat"] = torch.sigmoid(t["u"])
    t["log_yhat"] = torch.log(t["yhat"])
    t["one_minus_yhat"] = 1 - t["yhat"]
    t["log_one_minus_yhat"] = torch.log(t["one_minus_yhat"])
    t["L"] = -(y * t["log_yhat"] + (1 - y) * t["log_one_minus_yhat"])
    return t


def _compare_builder(out: Value, nodes: dict[str, Value], torch_fn, input_names: list[str]) -> None:
    out.backward()
    leaves = {n: torch.tensor(nodes[n].data, dtype=torch.float64, requires_grad=True) for n in input_names}
    inner = torch_fn(*leaves.values())
    for t in inner.values():
        t.retain_grad()
    list(inner.values())[-1].backward()
    for name, t in {**leaves, **inner}.items():
        assert nodes[name].data == pytest.approx(t.item(), rel=1e-12, abs=1e-15), name
        assert nodes[name].grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-14), name


@pytest.mark.parametrize("seed", SEEDS)
def test_tutorial_graph_matches_torch(seed: int) -> None:
    x, y, z, w = np.random.default_rng(seed).uniform(-3, 3, size=4)  # z == w has probability 0
    f, nodes = graph.tutorial_graph(x, y, z, w)
    _compare_builder(f, nodes, _torch_tutorial, ["x", "y", "z", "w"])


@pytest.mark.parametrize("seed", SEEDS)
def test_tanh_neuron_matches_torch(seed: int) -> None:
    x, y = np.random.default_rng(seed).uniform(-2, 2, size=2)
    z, nodes = graph.tanh_neuron(x, y)
    _compare_builder(z, nodes, _torch_tanh_neuron, ["x", "y"])


@pytest.mark.parametrize("seed", SEEDS)
def test_hw2_graph_matches_torch(seed: int) -> None:
    x1, x2, w1, w2 = np.random.default_rng(seed).uniform(-2, 2, size=4)
    f, nodes = graph.hw2_graph(x1, x2, w1, w2)
    _compare_builder(f, nodes, _torch_hw2, ["x1", "x2", "w1", "w2"])


@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_regression_graph_matches_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 6))
    w, x = rng.normal(size=d), rng.normal(size=d)
    b = rng.normal()
    y = [0.0, 1.0, 0.3][seed % 3]  # both hard labels and a soft target
    loss, nodes = graph.logistic_regression_graph(list(w), list(x), b, y)
    names = [f"w{i}" for i in range(d)] + [f"x{i}" for i in range(d)] + ["b", "y"]
    _compare_builder(loss, nodes, _torch_logistic, names)


def test_logistic_regression_gradient_is_the_textbook_one() -> None:
    # dL/du = yhat - y, so dL/dw = (yhat - y) x and dL/db = yhat - y (seed 004, question 8 (d)).
    loss, nodes = graph.logistic_regression_graph([0.5, -1.0], [2.0, 1.0], 0.25, 1.0)
    loss.backward()
    residual = 1 / (1 + math.exp(-0.25)) - 1.0
    assert nodes["b"].grad == pytest.approx(residual, rel=1e-12)
    assert [nodes["w0"].grad, nodes["w1"].grad] == pytest.approx([2.0 * residual, residual], rel=1e-12)
