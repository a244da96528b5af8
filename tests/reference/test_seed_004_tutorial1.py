"""Every number the seed prints for its computation-graph exercise, recomputed by reference.graph.

Seed: shared/seeds/004_88db4b71e13f9a64.txt ("Back propagation on a computational graph"),
f(x, y, z, w) = 2(xy + max(z, w)) at (x, y, z, w) = (3, -4, 2, -1), then the tanh neuron.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import graph

torch = pytest.importorskip("torch")

SEED = "004_88db4b71e13f9a64.txt"
POINT = {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}


def _value(nodes, name):
    return nodes[name].data


def _grad(nodes, name):
    return nodes[name].grad


def _local(nodes, name, parent):
    """d node / d parent: the node's own local gradient, before any chain rule."""
    node = nodes[name]
    (k,) = [i for i, p in enumerate(node.parents) if p is nodes[parent]]
    return node.local_grads[k]


# (what the seed calls it, how to read it from our graph, the printed number)
SEED_TABLE = [
    ("forward (a): a = xy", lambda n: _value(n, "a"), -12.0),
    ("forward (a): m = max(z, w)", lambda n: _value(n, "m"), 2.0),
    ("forward (a): b = a + m", lambda n: _value(n, "b"), -10.0),
    ("forward (a): f = 2b", lambda n: _value(n, "f"), -20.0),
    ("backprop (b): df/db from f = 2b", lambda n: _grad(n, "b"), 2.0),
    ("backprop (b): df/da from b = a + m", lambda n: _grad(n, "a"), 2.0),
    ("backprop (b): df/dm from b = a + m", lambda n: _grad(n, "m"), 2.0),
    ("backprop (b): df/dx = 2 * y", lambda n: _grad(n, "x"), -8.0),
    ("backprop (b): df/dy = 2 * x", lambda n: _grad(n, "y"), 6.0),
    ("backprop (b): local dm/dz (z > w)", lambda n: _local(n, "m", "z"), 1.0),
    ("backprop (b): local dm/dw (z > w)", lambda n: _local(n, "m", "w"), 0.0),
    ("backprop (b): df/dz = 2 * 1", lambda n: _grad(n, "z"), 2.0),
    ("backprop (b): df/dw = 2 * 0", lambda n: _grad(n, "w"), 0.0),
    ("nabla f, 1st entry (df/dx)", lambda n: _grad(n, "x"), -8.0),
    ("nabla f, 2nd entry (df/dy)", lambda n: _grad(n, "y"), 6.0),
    ("nabla f, 3rd entry (df/dz)", lambda n: _grad(n, "z"), 2.0),
    ("nabla f, 4th entry (df/dw)", lambda n: _grad(n, "w"), 0.0),
]


@pytest.mark.parametrize(
    ("seed_calls_it", "read", "printed"),
    [pytest.param(*row, id=f"{SEED}: {row[0]}") for row in SEED_TABLE],
)
def test_seed_004_printed_values(seed_calls_it: str, read, printed: float) -> None:
    f, nodes = graph.tutorial_graph(**POINT)
    f.backward()
    assert read(nodes) == printed, f"{SEED}, {seed_calls_it}: printed {printed}, computed {read(nodes)}"


@pytest.mark.parametrize("seed", range(5))
def test_tanh_neuron_local_gradient_is_one_minus_z_squared(seed: int) -> None:
    # Seed 004, tanh neuron: dz/ds = 1 - z^2 and dL/dx = dL/dy = g (1 - z^2) for an upstream g.
    rng = np.random.default_rng(seed)
    x, y, g = rng.uniform(-2, 2, size=3)
    z, nodes = graph.tanh_neuron(x, y)
    loss = g * z
    loss.backward()

    # The local derivative from a graph of its own: torch.autograd.grad on the main graph would
    # also add into the .grad that retain_grad keeps for s.
    s_alone = torch.tensor(x + y, dtype=torch.float64, requires_grad=True)
    (dz_ds,) = torch.autograd.grad(torch.tanh(s_alone), s_alone)

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    st = xt + yt
    st.retain_grad()
    (g * torch.tanh(st)).backward()

    assert z.local_grads[0] == pytest.approx(1 - z.data**2, rel=1e-12)
    assert z.local_grads[0] == pytest.approx(dz_ds.item(), rel=1e-12)
    assert nodes["s"].grad == pytest.approx(st.grad.item(), rel=1e-12)
    assert (nodes["x"].grad, nodes["y"].grad) == pytest.approx((xt.grad.item(), yt.grad.item()), rel=1e-12)
    assert nodes["x"].grad == pytest.approx(g * (1 - z.data**2), rel=1e-12)
