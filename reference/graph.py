"""A small scalar computation-graph engine, plus builders for the graphs in the seed exercises.

Each operation computes its value and, right beneath, its local derivatives with respect to each
input (`local_grads`, one per parent). `Value.backward` then only has to apply the chain rule:
walk the graph output-first and add `local * out.grad` into every parent. Keeping the local
derivatives on the node means a grader can show a student every factor of the chain rule, not
just the final gradients (`Value.trace`).

Everything is plain Python floats (float64).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import NamedTuple


class TraceRow(NamedTuple):
    """One node of a graph as `Value.trace` reports it."""

    index: int  # position in topological order: every parent has a smaller index
    name: str | None
    op: str  # "leaf" for inputs, "const" for numbers lifted into the graph, else the operation
    value: float
    grad: float  # d output / d this node, as left by the last backward()
    parents: tuple[int, ...]  # indices of the inputs of this node
    local_grads: tuple[float, ...]  # d this node / d each parent, in the order of `parents`


Number = int | float


class Value:
    """A scalar node: its value, its gradient, the op that made it, its parents and an optional name."""

    __slots__ = ("data", "grad", "op", "parents", "local_grads", "name")

    def __init__(
        self,
        data: Number,
        parents: tuple[Value, ...] = (),
        op: str = "leaf",
        local_grads: tuple[float, ...] = (),
        name: str | None = None,
    ) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data) needs a number; the argument is already a Value")
        if len(local_grads) != len(parents):
            raise ValueError(f"{len(parents)} parents need as many local gradients, got {len(local_grads)}")
        self.data = float(data)
        self.grad = 0.0
        self.op = op
        self.parents = parents
        self.local_grads = local_grads
        self.name = name

    def __repr__(self) -> str:
        label = f"{self.name}=" if self.name else ""
        return f"Value({label}{self.data!r}, op={self.op!r}, grad={self.grad!r})"

    def named(self, name: str) -> Value:
        """Give this node a name (shown by `trace`) and return it, so it can be used inline."""
        self.name = name
        return self

    # -----------------------------------------------------------------------------------------
    # Operations. Under each forward: the derivative of the output with respect to each parent.
    # -----------------------------------------------------------------------------------------

    def add(self, other: Value | Number) -> Value:
        """self + other."""
        other = _lift(other)
        data = self.data + other.data
        # A sum passes its upstream gradient unchanged to both terms.
        local = (1.0, 1.0)
        return Value(data, (self, other), "add", local)

    def mul(self, other: Value | Number) -> Value:
        """self * other."""
        other = _lift(other)
        data = self.data * other.data
        # Each factor's slope is the value of the other factor.
        local = (other.data, self.data)
        return Value(data, (self, other), "mul", local)

    def max(self, other: Value | Number) -> Value:
        """max(self, other); on a tie the whole gradient goes to self (the first argument).

        The maximum is not differentiable at a tie, so some convention is needed: ours routes the
        gradient to the first argument, as a "take a if a >= b" implementation would. (torch's
        `maximum` splits it in halves instead.) Off ties the gradient goes to the larger input.
        """
        other = _lift(other)
        first_wins = self.data >= other.data
        data = self.data if first_wins else other.data
        local = (1.0, 0.0) if first_wins else (0.0, 1.0)
        return Value(data, (self, other), "max", local)

    def neg(self) -> Value:
        """-self."""
        return Value(-self.data, (self,), "neg", (-1.0,))

    def exp(self) -> Value:
        """e ** self; raises OverflowError above about 709, where a float cannot hold the result."""
        data = math.exp(self.data)
        # exp is its own derivative, so the forward value is reused.
        return Value(data, (self,), "exp", (data,))

    def log(self) -> Value:
        """Natural log of self, which must be positive."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data!r}{_where(self)}")
        return Value(math.log(self.data), (self,), "log", (1.0 / self.data,))

    def pow(self, exponent: Number) -> Value:
        """self ** exponent for a constant (non-Value) exponent."""
        if isinstance(exponent, Value) or not isinstance(exponent, Real):
            raise TypeError(f"the exponent must be a plain number, got {type(exponent).__name__}")
        p = float(exponent)
        x = self.data
        try:
            # math.pow, unlike **, refuses negative bases with fractional exponents instead of
            # returning a complex number.
            data = math.pow(x, p)
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"{x!r} ** {p!r} is not a real number{_where(self)}") from exc
        return Value(data, (self,), f"pow{_format_exponent(p)}", (_pow_slope(x, p),))

    def sigmoid(self) -> Value:
        """1 / (1 + exp(-self)), computed without overflow for inputs of any size."""
        u = self.data
        # exp(-|u|) is at most 1, so neither branch can overflow; both are the same function.
        e = math.exp(-abs(u))
        data = 1.0 / (1.0 + e) if u >= 0 else e / (1.0 + e)
        return Value(data, (self,), "sigmoid", (data * (1.0 - data),))

    def tanh(self) -> Value:
        """tanh(self)."""
        data = math.tanh(self.data)
        return Value(data, (self,), "tanh", (1.0 - data * data,))

    # -----------------------------------------------------------------------------------------
    # Operator overloads: all reduce to the operations above.
    # -----------------------------------------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        return self.add(other) if _liftable(other) else NotImplemented

    def __radd__(self, other: Number) -> Value:
        return _lift(other).add(self) if _liftable(other) else NotImplemented

    def __mul__(self, other: Value | Number) -> Value:
        return self.mul(other) if _liftable(other) else NotImplemented

    def __rmul__(self, other: Number) -> Value:
        return _lift(other).mul(self) if _liftable(other) else NotImplemented

    def __neg__(self) -> Value:
        return self.neg()

    def __sub__(self, other: Value | Number) -> Value:
        return self.add(_lift(other).neg()) if _liftable(other) else NotImplemented

    def __rsub__(self, other: Number) -> Value:
        return _lift(other).add(self.neg()) if _liftable(other) else NotImplemented

    def __truediv__(self, other: Value | Number) -> Value:
        return self.mul(_lift(other).pow(-1)) if _liftable(other) else NotImplemented

    def __rtruediv__(self, other: Number) -> Value:
        return _lift(other).mul(self.pow(-1)) if _liftable(other) else NotImplemented

    def __pow__(self, exponent: Number) -> Value:
        return self.pow(exponent)

    # -----------------------------------------------------------------------------------------
    # Backpropagation and reporting
    # -----------------------------------------------------------------------------------------

    def topological_order(self) -> list[Value]:
        """Every node this one depends on (itself included), each after all of its parents."""
        return _topological_order(self)

    def backward(self) -> None:
        """Set `.grad` of every node in this graph to d self / d node.

        Gradients are reset to zero first, so calling backward twice gives the same result, and a
        leaf shared with another graph loses the gradients of an earlier backward on that graph.
        """
        order = _topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        # Output first: by the time a node is reached, every consumer has already added its
        # share, which is how a node used twice ends up with the sum of both paths.
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads, strict=True):
                parent.grad += local * node.grad

    def trace(self) -> list[TraceRow]:
        """Every node of the graph in topological order with its name, op, value and gradient.

        Gradients are whatever the last `backward()` left; call it first to see d self / d node.
        """
        order = _topological_order(self)
        index = {node: i for i, node in enumerate(order)}
        return [
            TraceRow(
                i,
                node.name,
                node.op,
                node.data,
                node.grad,
                tuple(index[p] for p in node.parents),
                node.local_grads,
            )
            for i, node in enumerate(order)
        ]


def _liftable(x: object) -> bool:
    return isinstance(x, (Value, Real))


def _lift(x: Value | Number) -> Value:
    """x itself if it is a node, else a constant leaf holding it."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return Value(x, op="const")
    raise TypeError(f"cannot combine a Value with {type(x).__name__}")


def _where(node: Value) -> str:
    return f" (at node {node.name!r})" if node.name else ""


def _format_exponent(p: float) -> str:
    return str(int(p)) if p.is_integer() else repr(p)


def _pow_slope(x: float, p: float) -> float:
    """d(x**p)/dx = p * x**(p - 1), including the limits math.pow refuses at x = 0."""
    if p == 0:
        return 0.0  # x**0 is the constant 1
    if x == 0 and p < 1:
        return math.inf  # the curve is vertical at 0 for 0 < p < 1 (p <= 0 failed in the forward)
    return p * math.pow(x, p - 1)


def _topological_order(root: Value) -> list[Value]:
    """Post-order depth-first walk from root over parents, with an explicit stack.

    A recursive walk would hit Python's recursion limit on long chains (about 1,000 deep); this
    one is bounded only by memory. Each stack entry says whether the node's parents have already
    been pushed; a node is emitted on its second visit, once all of its parents are emitted.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        # Pushed in reverse so the first parent is explored first: a stable, readable order.
        for parent in reversed(node.parents):
            if parent not in seen:
                stack.append((parent, False))
    return order


# ---------------------------------------------------------------------------------------------
# The seed exercises' graphs. Each returns (output, {name: node}) with inputs and intermediates.
# ---------------------------------------------------------------------------------------------


def tutorial_graph(x: float, y: float, z: float, w: float) -> tuple[Value, dict[str, Value]]:
    """f = 2 * (x*y + max(z, w)) with a = x*y, m = max(z, w), b = a + m (seed 004)."""
    xv, yv, zv, wv = (Value(v, name=n) for v, n in ((x, "x"), (y, "y"), (z, "z"), (w, "w")))
    a = (xv * yv).named("a")
    m = zv.max(wv).named("m")
    b = (a + m).named("b")
    f = (2 * b).named("f")
    return f, {"x": xv, "y": yv, "z": zv, "w": wv, "a": a, "m": m, "b": b, "f": f}


def tanh_neuron(x: float, y: float) -> tuple[Value, dict[str, Value]]:
    """z = tanh(s) with pre-activation s = x + y (seed 004)."""
    xv, yv = Value(x, name="x"), Value(y, name="y")
    s = (xv + yv).named("s")
    z = s.tanh().named("z")
    return z, {"x": xv, "y": yv, "s": s, "z": z}


def logistic_regression_graph(
    w: Sequence[float], x: Sequence[float], b: float, y: float
) -> tuple[Value, dict[str, Value]]:
    """Binary cross-entropy of one logistic unit (seed 004): w, x of length D; scalars b and y.

    s = w . x, u = s + b, yhat = sigmoid(u), L = -(y log(yhat) + (1 - y) log(1 - yhat)).
    Inputs are named w0.., x0.., b, y. The loss is built literally, as the seed writes it, so that
    its pieces can be shown; for |u| beyond about 36, 1 - yhat or yhat rounds to 0 in float64 and
    the log raises ValueError (a numerically stable loss would be written from u directly).
    """
    if len(w) != len(x):
        raise ValueError(f"w and x must have the same length, got {len(w)} and {len(x)}")
    if len(w) == 0:
        raise ValueError("w and x must have at least one entry")
    ws = [Value(v, name=f"w{i}") for i, v in enumerate(w)]
    xs = [Value(v, name=f"x{i}") for i, v in enumerate(x)]
    bv, yv = Value(b, name="b"), Value(y, name="y")
    nodes: dict[str, Value] = {v.name: v for v in (*ws, *xs, bv, yv)}

    s = ws[0] * xs[0]
    for wi, xi in zip(ws[1:], xs[1:], strict=True):
        s = s + wi * xi
    s.named("s")
    u = (s + bv).named("u")
    yhat = u.sigmoid().named("yhat")
    log_yhat = yhat.log().named("log_yhat")
    one_minus_yhat = (1 - yhat).named("one_minus_yhat")
    log_one_minus_yhat = one_minus_yhat.log().named("log_one_minus_yhat")
    loss = (-(yv * log_yhat + (1 - yv) * log_one_minus_yhat)).named("L")
    for node in (s, u, yhat, log_yhat, one_minus_yhat, log_one_minus_yhat, loss):
        nodes[node.name] = node
    return loss, nodes


def hw2_graph(x1: float, x2: float, w1: float, w2: float) -> tuple[Value, dict[str, Value]]:
    """f = sigmoid(w1*x1 + w2*x2) + 0.5 * (w1**2 + w2**2), one named node per step (hw2, Q1).

    Names: w1x1, w2x2, u (the pre-activation), sig, w1_sq, w2_sq, sq_sum, reg, f.
    """
    x1v, x2v, w1v, w2v = (Value(v, name=n) for v, n in ((x1, "x1"), (x2, "x2"), (w1, "w1"), (w2, "w2")))
    w1x1 = (w1v * x1v).named("w1x1")
    w2x2 = (w2v * x2v).named("w2x2")
    u = (w1x1 + w2x2).named("u")
    sig = u.sigmoid().named("sig")
    w1_sq = (w1v**2).named("w1_sq")
    w2_sq = (w2v**2).named("w2_sq")
    sq_sum = (w1_sq + w2_sq).named("sq_sum")
    reg = (0.5 * sq_sum).named("reg")
    f = (sig + reg).named("f")
    nodes = [x1v, x2v, w1v, w2v, w1x1, w2x2, u, sig, w1_sq, w2_sq, sq_sum, reg, f]
    return f, {node.name: node for node in nodes}
