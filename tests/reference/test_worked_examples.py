"""reference.worked_examples against torch autograd (float64) and central differences.

The loss used by the oracles is written out again here, in torch and in plain numpy, so the
reference's forward and backward are only ever compared with code that does not call them.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference.worked_examples import (
    COMP9444_T,
    COMP9444_X,
    EXAM_T,
    EXAM_X,
    MAZUR_T,
    MAZUR_X,
    TwoLayerNet,
    comp9444_net,
    exam_net,
    mazur_net,
    mazur_train,
    network_backward,
    network_forward,
    sgd_step,
)
from tests.oracles import central_difference, rel_error, torch_grads

PARAMS = ("w", "b", "v", "c")


def _torch_act(name, a):
    import torch

    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}[name](a)


def _numpy_act(name, a):
    return {
        "relu": lambda z: np.where(z > 0, z, 0.0),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "identity": lambda z: z,
    }[name](a)


def torch_loss(hidden, output):
    """E(x, t, w, b, v, c) = 1/2 sum (act_out(act_hid(x w + b) v + c) - t)^2 built from torch ops."""

    def loss(x, t, w, b, v, c):
        y = _torch_act(output, _torch_act(hidden, x @ w + b) @ v + c)
        return 0.5 * ((y - t) ** 2).sum()

    return loss


def numpy_loss(hidden, output, x, t, w, b, v, c):
    """The same loss written unit by unit with explicit sums, no matrix products."""
    total = 0.0
    for n in range(x.shape[0]):
        bh = np.broadcast_to(b, (w.shape[1],))
        hid = [
            _numpy_act(hidden, sum(x[n, i] * w[i, j] for i in range(w.shape[0])) + bh[j])
            for j in range(w.shape[1])
        ]
        cb = np.broadcast_to(c, (v.shape[1],))
        for k in range(v.shape[1]):
            y = _numpy_act(output, sum(hid[j] * v[j, k] for j in range(v.shape[0])) + cb[k])
            total += 0.5 * (y - t[n, k]) ** 2
    return float(total)


def random_case(rng, hidden, output, shared_bias, n=3, d=2, h=2, k=2):
    """A random network and batch whose hidden pre-activations stay clear of the ReLU kink."""
    while True:
        net = TwoLayerNet(
            w=rng.normal(size=(d, h)),
            b=rng.normal() if shared_bias else rng.normal(size=h),
            v=rng.normal(size=(h, k)),
            c=rng.normal() if shared_bias else rng.normal(size=k),
            hidden=hidden,
            output=output,
        )
        x, t = rng.normal(size=(n, d)), rng.normal(size=(n, k))
        if np.min(np.abs(x @ net.w + net.b)) > 1e-3:
            return net, x, t


SEED_CASES = {
    "comp9444": (comp9444_net, COMP9444_X, COMP9444_T),
    "mazur": (mazur_net, MAZUR_X, MAZUR_T),
    "exam": (exam_net, EXAM_X, EXAM_T),
}
RANDOM_KINDS = {
    "relu-identity": ("relu", "identity", False),
    "sigmoid-sigmoid-shared": ("sigmoid", "sigmoid", True),
    "relu-sigmoid": ("relu", "sigmoid", False),
    "sigmoid-identity-shared": ("sigmoid", "identity", True),
}


def all_cases():
    for name in SEED_CASES:
        yield pytest.param(name, id=f"seed-{name}")
    for kind in RANDOM_KINDS:
        for seed in range(3):
            yield pytest.param(f"{kind}:{seed}", id=f"random-{kind}-{seed}")


def build(case):
    if case in SEED_CASES:
        make, x, t = SEED_CASES[case]
        return make(), np.asarray(x, float), np.asarray(t, float)
    kind, seed = case.split(":")
    return random_case(np.random.default_rng(int(seed) + 100), *RANDOM_KINDS[kind])


@pytest.mark.parametrize("case", list(all_cases()))
def test_backward_matches_torch_autograd(case):
    pytest.importorskip("torch")
    net, x, t = build(case)
    cache = network_forward(net, x, t)
    grads = network_backward(net, cache)
    value, (gx, _, gw, gb, gv, gc) = torch_grads(
        torch_loss(net.hidden, net.output), x, t, net.w, net.b, net.v, net.c
    )
    np.testing.assert_allclose(cache["loss"], value, rtol=1e-10)
    for ours, theirs in (
        (grads["dx"], gx),
        (grads["dw"], gw),
        (grads["db"], gb),
        (grads["dv"], gv),
        (grads["dc"], gc),
    ):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("case", list(all_cases()))
def test_backward_matches_central_differences(case):
    net, x, t = build(case)
    grads = network_backward(net, network_forward(net, x, t))
    arrays = {"x": x, "w": net.w, "b": net.b, "v": net.v, "c": net.c}
    for name, array in arrays.items():

        def loss_of(value, name=name):
            args = dict(arrays, **{name: value})
            return numpy_loss(
                net.hidden, net.output, args["x"], t, args["w"], args["b"], args["v"], args["c"]
            )

        numeric = central_difference(loss_of, array)
        err = rel_error(grads[f"d{name}"], numeric)
        assert err < 1e-6, f"d{name}: relative error {err:.2e}\nours {grads[f'd{name}']}\nnumeric {numeric}"


@pytest.mark.parametrize("case", list(all_cases()))
def test_forward_loss_matches_unit_by_unit_sum(case):
    net, x, t = build(case)
    loss = network_forward(net, x, t)["loss"]
    expected = numpy_loss(net.hidden, net.output, x, t, net.w, net.b, net.v, net.c)
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("case", "eta", "update_biases"), [("comp9444", 0.5, True), ("exam", 0.1, True), ("mazur", 0.5, False)]
)
def test_sgd_step_matches_torch_optimizer(case, eta, update_biases):
    torch = pytest.importorskip("torch")
    net, x, t = build(case)
    leaves = {p: torch.tensor(getattr(net, p), dtype=torch.float64, requires_grad=True) for p in PARAMS}
    trained = [leaves[p] for p in (PARAMS if update_biases else ("w", "v"))]
    optimizer = torch.optim.SGD(trained, lr=eta)
    loss = torch_loss(net.hidden, net.output)(torch.tensor(x), torch.tensor(t), *(leaves[p] for p in PARAMS))
    loss.backward()
    optimizer.step()
    new = sgd_step(net, network_backward(net, network_forward(net, x, t)), eta, update_biases)
    for p in PARAMS:
        np.testing.assert_allclose(getattr(new, p), leaves[p].detach().numpy(), rtol=1e-12, atol=1e-15)


def test_mazur_training_matches_torch_loop():
    torch = pytest.importorskip("torch")
    steps = 50
    net = mazur_net()
    leaves = {p: torch.tensor(getattr(net, p), dtype=torch.float64, requires_grad=True) for p in PARAMS}
    optimizer = torch.optim.SGD([leaves["w"], leaves["v"]], lr=0.5)
    x, t = torch.tensor(MAZUR_X), torch.tensor(MAZUR_T)
    loss_fn = torch_loss("sigmoid", "sigmoid")
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(x, t, *(leaves[p] for p in PARAMS)).backward()
        optimizer.step()
    with torch.no_grad():
        final_loss = float(loss_fn(x, t, *(leaves[p] for p in PARAMS)))
    trained, outputs, loss = mazur_train(steps)
    np.testing.assert_allclose(trained.w, leaves["w"].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(trained.v, leaves["v"].detach().numpy(), rtol=1e-12)
    assert (float(trained.b), float(trained.c)) == (0.35, 0.60)
    assert loss == pytest.approx(final_loss, rel=1e-12)
    assert outputs.shape == (1, 2)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"hidden": "tanh"}, "hidden activation"),
        ({"v": np.zeros((3, 2))}, "rows"),
        ({"b": np.zeros(3)}, "b must"),
        ({"c": np.zeros((2, 2))}, "c must"),
    ],
)
def test_two_layer_net_rejects_bad_parameters(changes, match):
    fields = dict(
        w=np.zeros((2, 2)), b=np.zeros(2), v=np.zeros((2, 2)), c=np.zeros(2), hidden="relu", output="identity"
    )
    with pytest.raises(ValueError, match=match):
        TwoLayerNet(**{**fields, **changes})


def test_mazur_train_rejects_negative_steps():
    with pytest.raises(ValueError, match="steps"):
        mazur_train(-1)
