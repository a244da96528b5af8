"""What each driver's graph should give, built the same way with the reference engine.

The drivers (drivers.py) build graphs with the student's `Value`; the functions here rebuild the
same graphs with `reference.graph.Value` and report the output and the leaves' gradients in the same
shape, {"value": float, "grads": [float, ...]}. Random programs are generated here too, with the
reference values at hand, so that no instruction leaves the functions' domains or lands on a point
where the derivative is a matter of convention (a tie in max, relu at 0).
"""

from __future__ import annotations

import math

import numpy as np

from reference import graph
from reference.graph import Value

UNARY = ("neg", "exp", "tanh", "sigmoid", "log", "relu")
BINARY = ("add", "mul", "maximum")
WITH_CONSTANT = ("add_float", "radd", "mul_float", "rmul", "pow")


def _apply(code: str, nodes: list[Value], i: int, j: int | None, c: float | None) -> Value:
    a = nodes[i]
    b = nodes[j] if j is not None else None
    ops = {
        "add": lambda: a + b,
        "add_float": lambda: a + c,
        "radd": lambda: c + a,
        "mul": lambda: a * b,
        "mul_float": lambda: a * c,
        "rmul": lambda: c * a,
        "neg": lambda: -a,
        "pow": lambda: a**c,
        "exp": a.exp,
        "tanh": a.tanh,
        "sigmoid": a.sigmoid,
        "log": a.log,
        # The reference has no relu: max(a, 0) is the same function and, away from 0, the same slope.
        "relu": lambda: a.max(0.0),
        "maximum": lambda: a.max(b),
    }
    return ops[code]()


def _report(out: Value, leaves: list[Value]) -> dict:
    out.backward()
    return {"value": out.data, "grads": [leaf.grad for leaf in leaves]}


def program(leaves: list[float], instructions: list[list]) -> dict:
    """The reference's answer for drivers.run_program(leaves, instructions)."""
    inputs = [Value(x) for x in leaves]
    nodes = list(inputs)
    for code, i, j, c in instructions:
        nodes.append(_apply(code, nodes, i, j, c))
    return _report(nodes[-1], inputs)


def seed_graph(name: str, args) -> dict:
    """The reference's answer for drivers.seed_graph(name, args), from reference/graph.py's builders."""
    if name == "tutorial":
        out, nodes = graph.tutorial_graph(*args)
        leaves = "xyzw"
    elif name == "tanh_neuron":
        out, nodes = graph.tanh_neuron(*args)
        leaves = "xy"
    elif name == "hw2":
        out, nodes = graph.hw2_graph(*args)
        leaves = ("x1", "x2", "w1", "w2")
    elif name == "logistic":
        w, x, b, y = args
        out, nodes = graph.logistic_regression_graph(w, x, b, y)
        leaves = [f"w{i}" for i in range(len(w))] + [f"x{i}" for i in range(len(x))] + ["b", "y"]
    else:
        raise ValueError(f"unknown seed graph {name!r}")
    out.backward()
    return {"value": out.data, "grads": [nodes[n].grad for n in leaves]}


def deep_chain(x: float, steps: int) -> dict:
    """The reference's answer for drivers.deep_chain(x, steps)."""
    leaf = Value(x)
    v = leaf
    for k in range(steps):
        v = _chain_step(v, k)
    return _report(v, [leaf])


def _chain_step(v: Value, k: int) -> Value:
    kind = k % 3
    if kind == 0:
        return v * 1.001
    if kind == 1:
        return v + 0.001
    return -v


def _allowed(code: str, a: float, b: float | None) -> bool:
    """Whether an instruction stays in the domain, finite, moderate and away from convention points."""
    if code == "exp":
        return abs(a) < 3
    if code == "log":
        return a > 0.05
    if code == "relu":
        return abs(a) > 1e-6
    if code == "maximum":
        return abs(a - b) > 1e-6
    if code == "mul":
        return abs(a * b) < 100
    return True


def random_program(seed: int, n_leaves: int = 4, n_ops: int = 40) -> tuple[list[float], list[list]]:
    """Leaves and instructions of a random expression; every node feeds the output.

    Operands are drawn mostly from the last few nodes, so expressions are deep as well as wide, and
    nodes are reused (shared sub-expressions) by chance, as in real graphs. At the end every node
    not yet used is added into the output.
    """
    rng = np.random.default_rng(seed)
    leaves = [round(float(v), 3) for v in rng.uniform(-2, 2, n_leaves)]
    nodes = [Value(x) for x in leaves]
    instructions: list[list] = []
    used: set[int] = set()

    def pick() -> int:
        return (
            int(max(0, len(nodes) - 1 - rng.integers(0, 6)))
            if rng.random() < 0.8
            else int(rng.integers(0, len(nodes)))
        )

    while len(instructions) < n_ops:
        code = str(rng.choice(UNARY + BINARY + WITH_CONSTANT))
        i, j, c = pick(), None, None
        if code in BINARY:
            j = pick()
            if j == i:
                continue
        if code == "pow":
            c = float(rng.choice([2.0, 3.0, -1.0, 0.5]))
            a = nodes[i].data
            if (c == -1.0 and abs(a) < 0.2) or (c == 0.5 and a < 0.05) or abs(a) > 5:
                continue
        elif code in WITH_CONSTANT:
            c = round(float(rng.uniform(-2, 2)), 3)
        if not _allowed(code, nodes[i].data, nodes[j].data if j is not None else None):
            continue
        node = _apply(code, nodes, i, j, c)
        if not math.isfinite(node.data) or abs(node.data) > 1e3:
            continue
        instructions.append([code, i, j, c])
        nodes.append(node)
        used.update(k for k in (i, j) if k is not None)
    for k in [k for k in range(n_leaves, len(nodes) - 1) if k not in used]:
        instructions.append(["add", len(nodes) - 1, k, None])
        nodes.append(nodes[-1] + nodes[k])
    return leaves, instructions
