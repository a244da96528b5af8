"""The three hand-worked 2-2-2 networks as ordered lists of answers, each computable from earlier answers.

A student working a network by hand writes down one number after another, each computed from
numbers written before it. Here every answer is an ``Item``: its name, the number of decimals asked,
a description for the student, the names of the earlier items it is computed from (``inputs``), and
``formula``, which computes it from exactly those values (in that order) and the numbers the
question gives. The grader feeds a formula the student's own earlier answers to tell an error
carried forward from a new one, so a formula must use its inputs, never recompute them.

Names follow the seeds: ``dX`` is the derivative of the loss with respect to X, ``X_new`` is a
parameter after one gradient-descent step. The values agree with reference.worked_examples, which
does the same computation with matrices (tests/reference/test_backprop_by_hand.py checks both, and
checks every formula at inconsistent inputs against torch autograd).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One answer: computed by ``formula(*values of inputs)``, asked to ``decimals`` decimals."""

    name: str
    decimals: int
    description: str
    inputs: tuple[str, ...]
    formula: Callable[..., float]


@dataclass(frozen=True)
class Network:
    """A worked example: the seed it comes from and its items in the order a student computes them."""

    name: str
    title: str
    decimals: int
    items: tuple[Item, ...]

    def item(self, name: str) -> Item:
        """The item called ``name``."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(f"{self.name} has no item {name!r}")


def _sigmoid(x: float) -> float:
    # Written so that a student's wild value (net = -1000) cannot overflow math.exp.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _step(x: float) -> float:
    """The ReLU's slope: 1 where the input is positive, else 0 (the seeds' H(u))."""
    return 1.0 if x > 0 else 0.0


class _Items:
    """Collects items of one precision, checking that each input names an earlier item."""

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals
        self.items: list[Item] = []

    def add(self, name: str, description: str, inputs: tuple[str, ...], formula: Callable[..., float]):
        known = {item.name for item in self.items}
        if name in known or not set(inputs) <= known:
            raise ValueError(f"item {name!r}: duplicate name, or inputs {inputs} not all computed earlier")
        self.items.append(Item(name, self.decimals, description, inputs, formula))


# --------------------------------------------------------------------------------------------------
# Seed 000, COMP9444 week 2 Q3. ReLU hidden units, no output activation, E = 1/2 sum (z - t)^2, eta 0.5,
# every weight and bias updated. w_ij joins input x_i to hidden u_j; v_jk joins y_j to output z_k.


def _comp9444() -> Network:
    x1, x2, t1, t2, eta = 0.5, -0.4, 1.0, 0.0, 0.5
    w11, w12, w21, w22, b1, b2 = 0.5, -0.7, 0.4, -0.6, -0.9, 0.7
    v11, v12, v21, v22, c1, c2 = 0.3, -0.6, -0.4, -0.8, -0.3, 0.2
    s = _Items(decimals=4)
    s.add("u1", "the input of hidden unit 1, u1", (), lambda: b1 + x1 * w11 + x2 * w21)
    s.add("u2", "the input of hidden unit 2, u2", (), lambda: b2 + x1 * w12 + x2 * w22)
    s.add("y1", "the output of hidden unit 1, y1 = ReLU(u1)", ("u1",), _relu)
    s.add("y2", "the output of hidden unit 2, y2 = ReLU(u2)", ("u2",), _relu)
    s.add("z1", "the network's first output, z1", ("y1", "y2"), lambda y1, y2: c1 + y1 * v11 + y2 * v21)
    s.add("z2", "the network's second output, z2", ("y1", "y2"), lambda y1, y2: c2 + y1 * v12 + y2 * v22)
    s.add("e", "the loss E", ("z1", "z2"), lambda z1, z2: 0.5 * ((z1 - t1) ** 2 + (z2 - t2) ** 2))
    s.add("dz1", "dE/dz1", ("z1",), lambda z1: z1 - t1)
    s.add("dz2", "dE/dz2", ("z2",), lambda z2: z2 - t2)
    s.add("dc1", "dE/dc1", ("dz1",), lambda dz1: dz1)
    s.add("dc2", "dE/dc2", ("dz2",), lambda dz2: dz2)
    s.add("dv11", "dE/dv11", ("y1", "dz1"), lambda y1, dz1: y1 * dz1)
    s.add("dv12", "dE/dv12", ("y1", "dz2"), lambda y1, dz2: y1 * dz2)
    s.add("dv21", "dE/dv21", ("y2", "dz1"), lambda y2, dz1: y2 * dz1)
    s.add("dv22", "dE/dv22", ("y2", "dz2"), lambda y2, dz2: y2 * dz2)
    # Each hidden output feeds both outputs, so its derivative gathers both.
    s.add("dy1", "dE/dy1", ("dz1", "dz2"), lambda dz1, dz2: v11 * dz1 + v12 * dz2)
    s.add("dy2", "dE/dy2", ("dz1", "dz2"), lambda dz1, dz2: v21 * dz1 + v22 * dz2)
    s.add("du1", "dE/du1", ("u1", "dy1"), lambda u1, dy1: _step(u1) * dy1)
    s.add("du2", "dE/du2", ("u2", "dy2"), lambda u2, dy2: _step(u2) * dy2)
    s.add("db1", "dE/db1", ("du1",), lambda du1: du1)
    s.add("db2", "dE/db2", ("du2",), lambda du2: du2)
    s.add("dw11", "dE/dw11", ("du1",), lambda du1: x1 * du1)
    s.add("dw12", "dE/dw12", ("du2",), lambda du2: x1 * du2)
    s.add("dw21", "dE/dw21", ("du1",), lambda du1: x2 * du1)
    s.add("dw22", "dE/dw22", ("du2",), lambda du2: x2 * du2)
    for name, value in (
        ("w11", w11), ("w12", w12), ("w21", w21), ("w22", w22), ("b1", b1), ("b2", b2),
        ("v11", v11), ("v12", v12), ("v21", v21), ("v22", v22), ("c1", c1), ("c2", c2),
    ):  # fmt: skip
        s.add(
            f"{name}_new",
            f"{name} after one step of gradient descent with learning rate 0.5",
            (f"d{name}",),
            lambda grad, value=value: value - eta * grad,
        )
    return Network("comp9444_week2_q3", "COMP9444 week 2, Q3: a 2-2-2 ReLU network", 4, tuple(s.items))


# --------------------------------------------------------------------------------------------------
# Seed 001, the slides' (Mazur's) example. Sigmoid on both layers, one bias per layer shared by its
# units and never updated, E_total = sum 1/2 (target - out)^2, eta 0.5. Hidden unit h1 gets w1 (from
# i1) and w2 (from i2), h2 gets w3 and w4; output o1 gets w5 (from h1) and w6 (from h2), o2 w7 and w8.


def _mazur() -> Network:
    i1, i2, t1, t2, eta = 0.05, 0.10, 0.01, 0.99, 0.5
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55
    b1, b2 = 0.35, 0.60
    s = _Items(decimals=4)
    s.add("net_h1", "the net input of hidden unit h1", (), lambda: w1 * i1 + w2 * i2 + b1)
    s.add("out_h1", "the output of hidden unit h1", ("net_h1",), _sigmoid)
    s.add("net_h2", "the net input of hidden unit h2", (), lambda: w3 * i1 + w4 * i2 + b1)
    s.add("out_h2", "the output of hidden unit h2", ("net_h2",), _sigmoid)
    s.add("net_o1", "the net input of output o1", ("out_h1", "out_h2"), lambda h1, h2: w5 * h1 + w6 * h2 + b2)
    s.add("out_o1", "the output o1", ("net_o1",), _sigmoid)
    s.add("net_o2", "the net input of output o2", ("out_h1", "out_h2"), lambda h1, h2: w7 * h1 + w8 * h2 + b2)
    s.add("out_o2", "the output o2", ("net_o2",), _sigmoid)
    s.add("e_o1", "the error of output o1, E_o1", ("out_o1",), lambda o1: 0.5 * (t1 - o1) ** 2)
    s.add("e_o2", "the error of output o2, E_o2", ("out_o2",), lambda o2: 0.5 * (t2 - o2) ** 2)
    s.add("e_total", "the total error E_total", ("e_o1", "e_o2"), lambda e1, e2: e1 + e2)
    s.add("dout_o1", "dE_total/dout_o1", ("out_o1",), lambda o1: o1 - t1)
    s.add("dout_o2", "dE_total/dout_o2", ("out_o2",), lambda o2: o2 - t2)
    # The sigmoid's slope at the net input, written with the output: out (1 - out).
    s.add("dnet_o1", "dE_total/dnet_o1 (delta of o1)", ("dout_o1", "out_o1"), lambda d, o: d * o * (1 - o))
    s.add("dnet_o2", "dE_total/dnet_o2 (delta of o2)", ("dout_o2", "out_o2"), lambda d, o: d * o * (1 - o))
    s.add("dw5", "dE_total/dw5", ("dnet_o1", "out_h1"), lambda d, h: d * h)
    s.add("dw6", "dE_total/dw6", ("dnet_o1", "out_h2"), lambda d, h: d * h)
    s.add("dw7", "dE_total/dw7", ("dnet_o2", "out_h1"), lambda d, h: d * h)
    s.add("dw8", "dE_total/dw8", ("dnet_o2", "out_h2"), lambda d, h: d * h)
    s.add("dout_h1", "dE_total/dout_h1", ("dnet_o1", "dnet_o2"), lambda d1, d2: d1 * w5 + d2 * w7)
    s.add("dout_h2", "dE_total/dout_h2", ("dnet_o1", "dnet_o2"), lambda d1, d2: d1 * w6 + d2 * w8)
    s.add("dnet_h1", "dE_total/dnet_h1 (delta of h1)", ("dout_h1", "out_h1"), lambda d, h: d * h * (1 - h))
    s.add("dnet_h2", "dE_total/dnet_h2 (delta of h2)", ("dout_h2", "out_h2"), lambda d, h: d * h * (1 - h))
    s.add("dw1", "dE_total/dw1", ("dnet_h1",), lambda d: d * i1)
    s.add("dw2", "dE_total/dw2", ("dnet_h1",), lambda d: d * i2)
    s.add("dw3", "dE_total/dw3", ("dnet_h2",), lambda d: d * i1)
    s.add("dw4", "dE_total/dw4", ("dnet_h2",), lambda d: d * i2)
    for k, value in enumerate((w1, w2, w3, w4, w5, w6, w7, w8), start=1):
        s.add(
            f"w{k}_new",
            f"w{k} after one step of gradient descent with learning rate 0.5",
            (f"dw{k}",),
            lambda grad, value=value: value - eta * grad,
        )
    return Network("mazur_slides", "The slides' example: a 2-2-2 sigmoid network", 4, tuple(s.items))


# --------------------------------------------------------------------------------------------------
# Seed 003, exam section 3. h1, h2 are the hidden inputs and h3, h4 their ReLUs; no output activation;
# MSE = 1/2 (t1 - o1)^2 + 1/2 (t2 - o2)^2; learning rate 0.1. w_ij joins i_i to h_j, w_3k and w_4k
# join h3 and h4 to o_k; b1, b2 are the hidden biases, b3, b4 the output biases.


def _exam() -> Network:
    i1, i2, t1, t2, lr = 2.0, -1.0, 1.0, 0.5, 0.1
    w11, w12, w21, w22 = 1.0, -0.5, 0.5, -1.0
    w31, w32, w41, w42 = 0.5, -1.0, -0.5, 1.0
    b1, b2, b3, b4 = 0.5, -0.5, -1.0, 0.5
    s = _Items(decimals=2)
    s.add("h1", "the input of the first hidden unit, h1", (), lambda: i1 * w11 + i2 * w21 + b1)
    s.add("h2", "the input of the second hidden unit, h2", (), lambda: i1 * w12 + i2 * w22 + b2)
    s.add("h3", "h3 = ReLU(h1)", ("h1",), _relu)
    s.add("h4", "h4 = ReLU(h2)", ("h2",), _relu)
    s.add("o1", "the output o1", ("h3", "h4"), lambda h3, h4: h3 * w31 + h4 * w41 + b3)
    s.add("o2", "the output o2", ("h3", "h4"), lambda h3, h4: h3 * w32 + h4 * w42 + b4)
    s.add("mse", "the loss MSE", ("o1", "o2"), lambda o1, o2: 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2)
    s.add("do1", "dMSE/do1", ("o1",), lambda o1: o1 - t1)
    s.add("do2", "dMSE/do2", ("o2",), lambda o2: o2 - t2)
    s.add("dw31", "dMSE/dw31", ("do1", "h3"), lambda d, h: d * h)
    s.add("dw32", "dMSE/dw32", ("do2", "h3"), lambda d, h: d * h)
    s.add("dw41", "dMSE/dw41", ("do1", "h4"), lambda d, h: d * h)
    s.add("dw42", "dMSE/dw42", ("do2", "h4"), lambda d, h: d * h)
    s.add("db3", "dMSE/db3", ("do1",), lambda d: d)
    s.add("db4", "dMSE/db4", ("do2",), lambda d: d)
    s.add("dh3", "dMSE/dh3", ("do1", "do2"), lambda d1, d2: d1 * w31 + d2 * w32)
    s.add("dh4", "dMSE/dh4", ("do1", "do2"), lambda d1, d2: d1 * w41 + d2 * w42)
    s.add("dh1", "dMSE/dh1", ("h1", "dh3"), lambda h, d: _step(h) * d)
    s.add("dh2", "dMSE/dh2", ("h2", "dh4"), lambda h, d: _step(h) * d)
    s.add("dw11", "dMSE/dw11", ("dh1",), lambda d: d * i1)
    s.add("dw21", "dMSE/dw21", ("dh1",), lambda d: d * i2)
    s.add("dw12", "dMSE/dw12", ("dh2",), lambda d: d * i1)
    s.add("dw22", "dMSE/dw22", ("dh2",), lambda d: d * i2)
    s.add("db1", "dMSE/db1", ("dh1",), lambda d: d)
    s.add("db2", "dMSE/db2", ("dh2",), lambda d: d)
    s.add("w21_new", "w21 after one step of gradient descent with learning rate 0.1", ("dw21",),
          lambda d: w21 - lr * d)  # fmt: skip
    return Network("exam_two_layer", "The exam's 2-2-2 ReLU network with MSE", 2, tuple(s.items))


# --------------------------------------------------------------------------------------------------

_BUILDERS = {"comp9444_week2_q3": _comp9444, "mazur_slides": _mazur, "exam_two_layer": _exam}
NETWORKS = tuple(_BUILDERS)
_BUILT: dict[str, Network] = {}


def network(name: str) -> Network:
    """The network called ``name`` (one of NETWORKS), built once."""
    if name not in _BUILDERS:
        raise KeyError(f"no network {name!r}; there are {', '.join(NETWORKS)}")
    if name not in _BUILT:
        _BUILT[name] = _BUILDERS[name]()
    return _BUILT[name]


def evaluate(name: str, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every item of the network in order; an item in ``overrides`` takes that value instead of its formula.

    Without overrides these are the true answers. With them, each later item is what a student who
    wrote those values, and did everything else right, would compute from them.
    """
    overrides = dict(overrides or {})
    unknown = set(overrides) - {item.name for item in network(name).items}
    if unknown:
        raise KeyError(f"{name} has no items {sorted(unknown)}")
    values: dict[str, float] = {}
    for item in network(name).items:
        if item.name in overrides:
            values[item.name] = float(overrides[item.name])
        else:
            values[item.name] = float(item.formula(*(values[n] for n in item.inputs)))
    return values


def questions(name: str) -> list[dict]:
    """Each item as plain data, in order: {"name", "decimals", "description", "inputs"}."""
    return [
        {"name": i.name, "decimals": i.decimals, "description": i.description, "inputs": list(i.inputs)}
        for i in network(name).items
    ]


def true_values(name: str) -> dict[str, float]:
    """Every item's value computed from the numbers the question gives."""
    return evaluate(name)


def recompute(name: str, item: str, values: Mapping[str, float]) -> float:
    """Item ``item`` computed from ``values`` of its inputs (the student's own earlier answers)."""
    spec = network(name).item(item)
    return float(spec.formula(*(float(values[n]) for n in spec.inputs)))
