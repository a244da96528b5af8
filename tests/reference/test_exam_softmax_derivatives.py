"""The exam's backpropagation identities (seed 003_34f8d7f6bc1ecf0d.txt, section 2) against torch autograd.

The exam's network uses column vectors: z1 = W1 x + b1, a1 = LeakyReLU(z1, 0.01), z2 = W2 a1 + b2,
yhat = softmax(z2), L = -sum_i y_i log yhat_i, with x (Dx, 1), W1 (Da, Dx), b1 (Da, 1), W2 (K, Da),
b2 (K, 1). (The exam prints z2 = W2 x + b2; the shapes it gives for W2 only fit W2 a1, so a1 is used.)
reference.layers works on rows, so the network is composed here with transposes.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import layers
from tests.oracles import torch_grads

torch = pytest.importorskip("torch")
F = torch.nn.functional

SEED = "003_34f8d7f6bc1ecf0d.txt"
ALPHA = 0.01
SEEDS = [0, 1, 2, 3, 4]


def _torch_jacobian_of_softmax(z: np.ndarray) -> np.ndarray:
    jac = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, dim=0), torch.tensor(z, dtype=torch.float64)
    )
    return jac.numpy()  # jac[k, i] = d softmax_k / d z_i


@pytest.mark.parametrize("seed", SEEDS)
def test_2_2_and_2_3_softmax_jacobian(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=int(rng.integers(2, 7)))
    expected = _torch_jacobian_of_softmax(z)
    yhat = torch.softmax(torch.tensor(z), dim=0).numpy()

    # The exam's closed forms, checked on torch's Jacobian: 2.2 the diagonal, 2.3 the rest.
    np.testing.assert_allclose(np.diag(expected), yhat * (1 - yhat), rtol=1e-12)
    off = ~np.eye(len(z), dtype=bool)
    np.testing.assert_allclose(expected[off], -np.outer(yhat, yhat)[off], rtol=1e-12)

    np.testing.assert_allclose(layers.softmax_jacobian(z), expected, rtol=1e-10, atol=1e-16)


def test_2_8_jacobian_stays_finite_for_large_scores() -> None:
    # 2.8: exp(1000) overflows a float64; shifting by the max keeps every exponent <= 0.
    z = np.array([1000.0, 999.0, -1000.0])
    jac = layers.softmax_jacobian(z)
    assert np.isfinite(jac).all()
    np.testing.assert_allclose(jac, _torch_jacobian_of_softmax(z), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_2_4_gradient_of_cross_entropy_is_yhat_minus_y(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 7))
    z = rng.normal(scale=2.0, size=n_classes)
    k = int(rng.integers(n_classes))
    y = np.eye(n_classes)[k]

    _, (dz,) = torch_grads(lambda t: -(torch.tensor(y) * torch.log(torch.softmax(t, dim=0))).sum(), z)
    yhat = torch.softmax(torch.tensor(z), dim=0).numpy()
    # The exam's two cases: yhat_k - 1 at the label, yhat_i elsewhere.
    assert dz[k] == pytest.approx(yhat[k] - 1, rel=1e-12)
    np.testing.assert_allclose(np.delete(dz, k), np.delete(yhat, k), rtol=1e-12)

    _, cache = layers.softmax_cross_entropy_forward(z[None, :], np.array([k]))
    np.testing.assert_allclose(layers.softmax_cross_entropy_backward(1.0, cache)[0], dz, rtol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_2_6_leaky_relu_derivative_is_one_or_alpha(seed: int) -> None:
    z = np.random.default_rng(seed).normal(size=7)
    _, (dz,) = torch_grads(lambda t: F.leaky_relu(t, ALPHA).sum(), z)
    np.testing.assert_array_equal(dz, np.where(z >= 0, 1.0, ALPHA))

    _, cache = layers.leaky_relu_forward(z, alpha=ALPHA)
    np.testing.assert_allclose(layers.leaky_relu_backward(np.ones_like(z), cache), dz, rtol=1e-15)


def test_2_6_leaky_relu_derivative_at_zero_follows_the_exam() -> None:
    # The exam writes "1 if z >= 0"; torch takes alpha at exactly 0, so this point has no torch oracle.
    _, cache = layers.leaky_relu_forward(np.array([0.0]), alpha=ALPHA)
    assert layers.leaky_relu_backward(np.array([1.0]), cache)[0] == 1.0


def _random_network(rng: np.random.Generator, m: int = 1):
    dx, da, k = (int(v) for v in rng.integers(2, 6, size=3))
    params = {
        "W1": rng.normal(size=(da, dx)),
        "b1": rng.normal(size=(da, 1)),
        "W2": rng.normal(size=(k, da)),
        "b2": rng.normal(size=(k, 1)),
    }
    return params, rng.normal(size=(dx, m)), rng.integers(0, k, size=m)


def _torch_network(labels: np.ndarray):
    """Mean over the m columns of the exam's loss; with m = 1 it is exactly the exam's L."""
    onehot = torch.tensor(np.eye(int(labels.max()) + 1)[labels].T)

    def loss(W1, b1, W2, b2, x):
        z1 = W1 @ x + b1
        a1 = F.leaky_relu(z1, ALPHA)
        z2 = W2 @ a1 + b2
        yhat = torch.softmax(z2, dim=0)
        n_classes = W2.shape[0]
        y = torch.cat([onehot, torch.zeros(n_classes - onehot.shape[0], onehot.shape[1])])
        return -(y * torch.log(yhat)).sum() / x.shape[1]

    return loss


def _network_from_layers(W1, b1, W2, b2, x, labels):
    """The exam's network built from reference.layers; returns loss, hidden output and all gradients."""
    # Columns become rows: z1^T = x^T W1^T + b1^T, so every weight enters transposed.
    z1, c1 = layers.affine_forward(x.T, W1.T, b1[:, 0])
    a1, c2 = layers.leaky_relu_forward(z1, alpha=ALPHA)
    z2, c3 = layers.affine_forward(a1, W2.T, b2[:, 0])
    loss, c4 = layers.softmax_cross_entropy_forward(z2, labels)

    dz2 = layers.softmax_cross_entropy_backward(1.0, c4)
    da1, dW2_t, db2 = layers.affine_backward(dz2, c3)
    dz1 = layers.leaky_relu_backward(da1, c2)
    dx_t, dW1_t, db1 = layers.affine_backward(dz1, c1)
    grads = [dW1_t.T, db1[:, None], dW2_t.T, db2[:, None], dx_t.T]
    return loss, a1.T, grads


@pytest.mark.parametrize("seed", SEEDS)
def test_two_layer_network_gradients_match_torch(seed: int) -> None:
    params, x, labels = _random_network(np.random.default_rng(seed))
    arrays = [params["W1"], params["b1"], params["W2"], params["b2"], x]

    loss, _, grads = _network_from_layers(*arrays, labels)
    value, expected = torch_grads(_torch_network(labels), *arrays)

    assert loss == pytest.approx(float(value), rel=1e-12)
    for name, g, e in zip(["W1", "b1", "W2", "b2", "x"], grads, expected, strict=True):
        assert g.shape == e.shape, name
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("seed", SEEDS)
def test_2_5_and_2_7_chain_rule_pieces_match_torch(seed: int) -> None:
    params, x, labels = _random_network(np.random.default_rng(seed))
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    k = int(labels[0])
    _, (dW1, db1, _, _, _) = torch_grads(_torch_network(labels), W1, b1, W2, b2, x)

    z1 = W1 @ x + b1
    a1 = np.where(z1 >= 0, z1, ALPHA * z1)
    yhat = torch.softmax(torch.tensor(W2 @ a1 + b2), dim=0).numpy()
    delta0 = yhat - np.eye(W2.shape[0])[:, [k]]  # dL/dz2, (K, 1)
    delta1 = torch.autograd.functional.jacobian(lambda a: torch.tensor(W2) @ a, torch.tensor(a1[:, 0]))
    delta2 = np.where(z1 >= 0, 1.0, ALPHA)  # da1/dz1 as a (Da, 1) column of slopes

    np.testing.assert_array_equal(delta1.numpy(), W2)  # 2.5: d z2 / d a1 = W2
    # 2.7: dL/dW1 = (W2^T delta0 o delta2) x^T and dL/db1 = W2^T delta0 o delta2.
    np.testing.assert_allclose((W2.T @ delta0) * delta2 @ x.T, dW1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose((W2.T @ delta0) * delta2, db1, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_2_1_shapes_and_a_batch_of_columns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 6))
    params, x, labels = _random_network(rng, m=m)
    arrays = [params["W1"], params["b1"], params["W2"], params["b2"], x]
    da, k = params["W1"].shape[0], params["W2"].shape[0]

    loss, hidden, grads = _network_from_layers(*arrays, labels)
    value, expected = torch_grads(_torch_network(labels), *arrays)

    assert hidden.shape == (da, m)  # 2.1: the hidden layer's output for X (Dx, m) is (Da, m)
    assert grads[2].shape == (k, da)  # 2.1: W2 is (K, Da)
    assert grads[3].shape == (k, 1)  # 2.1: b2 is (K, 1)
    assert loss == pytest.approx(float(value), rel=1e-12)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)
