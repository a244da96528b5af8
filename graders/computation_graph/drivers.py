"""Trusted routines the computation_graph grader runs INSIDE the sandboxed worker.

This file is sent to the worker as source and executed there: standard library only. Every driver
takes the submission's namespace (a dict) first, builds a graph with the student's own `Value`
class and `maximum` function, calls the student's `backward()` on the output, and returns plain
numbers only: {"value": output's data, "grads": [each leaf's grad, in the order given]}. Student
objects never leave the worker; what comes back is untrusted data that the grader checks.
"""


def _number(x, what):
    try:
        return float(x)
    except Exception as exc:  # a Value, None, a string...
        raise TypeError(f"{what} should be a number, but it is a {type(x).__name__} ({exc})") from None


def _report(out, leaves):
    """Run the student's backward on `out`; the output's value and every leaf's gradient as floats."""
    if not hasattr(out, "data") or not hasattr(out, "backward"):
        raise TypeError(
            f"the operation returned a {type(out).__name__}, not a Value: every operation must "
            "return a new Value"
        )
    out.backward()
    return {
        "value": _number(out.data, "the output's .data"),
        "grads": [_number(leaf.grad, f"the .grad of input {i}") for i, leaf in enumerate(leaves)],
    }


def apply_op(ns, code, nodes, i, j, c):
    """One instruction of a graph program: a new node made from nodes[i], nodes[j] and constant c."""
    maximum = ns["maximum"]
    a = nodes[i]
    b = nodes[j] if j is not None else None
    if code == "add":
        return a + b
    if code == "add_float":
        return a + c
    if code == "radd":
        return c + a
    if code == "mul":
        return a * b
    if code == "mul_float":
        return a * c
    if code == "rmul":
        return c * a
    if code == "neg":
        return -a
    if code == "pow":
        return a**c
    if code in ("exp", "tanh", "sigmoid", "log", "relu"):
        return getattr(a, code)()
    if code == "maximum":
        return maximum(a, b)
    raise ValueError(f"unknown op code {code!r}")  # a grader bug, not the student's


def run_program(ns, leaves, program):
    """Leaves as Values, then each instruction [code, i, j, c] appends a node; backward on the last.

    Indices refer to the list of nodes built so far (the leaves first), so a program can use a node
    any number of times: this is how shared sub-expressions are written.
    """
    Value = ns["Value"]
    inputs = [Value(float(x)) for x in leaves]
    nodes = list(inputs)
    for code, i, j, c in program:
        nodes.append(apply_op(ns, code, nodes, i, j, c))
    return _report(nodes[-1], inputs)


def seed_graph(ns, name, args):
    """The seed exercises' graphs, written the way a student would, with the student's Value."""
    Value, maximum = ns["Value"], ns["maximum"]
    if name == "tutorial":  # f = 2 (x y + max(z, w))
        x, y, z, w = (Value(float(v)) for v in args)
        return _report(2 * (x * y + maximum(z, w)), [x, y, z, w])
    if name == "tanh_neuron":  # z = tanh(x + y)
        x, y = (Value(float(v)) for v in args)
        return _report((x + y).tanh(), [x, y])
    if name == "hw2":  # f = sigmoid(w1 x1 + w2 x2) + (w1² + w2²) / 2
        x1, x2, w1, w2 = (Value(float(v)) for v in args)
        return _report((w1 * x1 + w2 * x2).sigmoid() + 0.5 * (w1**2 + w2**2), [x1, x2, w1, w2])
    if name == "logistic":  # L = -(y log(yhat) + (1 - y) log(1 - yhat)), yhat = sigmoid(w.x + b)
        w, x, b, y = args
        ws = [Value(float(v)) for v in w]
        xs = [Value(float(v)) for v in x]
        bv, yv = Value(float(b)), Value(float(y))
        s = ws[0] * xs[0]
        for wi, xi in zip(ws[1:], xs[1:], strict=True):
            s = s + wi * xi
        yhat = (s + bv).sigmoid()
        # 1 - t is written 1 + (-t): the handout asks for +, * and unary minus, not subtraction.
        loss = -(yv * yhat.log() + (1 + (-yv)) * (1 + (-yhat)).log())
        return _report(loss, [*ws, *xs, bv, yv])
    raise ValueError(f"unknown seed graph {name!r}")  # a grader bug


def deep_chain(ns, x, steps):
    """A chain of `steps` nodes, each made from the one before: v*1.001, v+0.001, -v, repeated."""
    Value = ns["Value"]
    leaf = Value(float(x))
    v = leaf
    for k in range(steps):
        kind = k % 3
        if kind == 0:
            v = v * 1.001
        elif kind == 1:
            v = v + 0.001
        else:
            v = -v
    return _report(v, [leaf])
