"""reference.layers against torch autograd (float64) and central differences, never against itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from reference import layers
from tests.oracles import central_difference, torch_grads

torch = pytest.importorskip("torch")
F = torch.nn.functional

SEEDS = [0, 1, 2, 3]


def _signed(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |v| in [0.1, 2]: no kink at 0 lies within a finite-difference step of them."""
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@dataclass(frozen=True)
class Case:
    """One layer: how to draw inputs, run it here, and write the same function in torch."""

    name: str
    make: Callable[[np.random.Generator], tuple[tuple[np.ndarray, ...], tuple[Any, ...]]]
    forward: Callable[..., tuple[Any, Any]]
    backward: Callable[[Any, Any], Any]
    torch_fn: Callable[..., Any]
    scalar_out: bool = False

    def grads(self, dout: Any, cache: Any) -> tuple[np.ndarray, ...]:
        g = self.backward(dout, cache)
        return g if isinstance(g, tuple) else (g,)


def _affine_inputs(rng):
    n, d, m = rng.integers(1, 6, size=3)
    return (rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)), ()


def _elementwise_inputs(rng):
    shape = tuple(rng.integers(1, 5, size=rng.integers(1, 4)))
    return (_signed(rng, shape),), ()


def _scores_inputs(rng):
    n, c = rng.integers(1, 6), rng.integers(2, 7)
    return (rng.normal(scale=2.0, size=(n, c)),), ()


def _ce_inputs(rng):
    (s,), _ = _scores_inputs(rng)
    return (s,), (rng.integers(0, s.shape[1], size=s.shape[0]),)


def _mse_inputs(rng):
    shape = tuple(rng.integers(1, 5, size=rng.integers(1, 3)))
    return (rng.normal(size=shape), rng.normal(size=shape)), ()


ALPHA = 0.2  # not the default, so a hard-coded 0.01 would show

CASES = [
    Case("affine", _affine_inputs, layers.affine_forward, layers.affine_backward, lambda x, w, b: x @ w + b),
    Case("relu", _elementwise_inputs, layers.relu_forward, layers.relu_backward, torch.relu),
    Case(
        "leaky_relu",
        _elementwise_inputs,
        lambda x: layers.leaky_relu_forward(x, alpha=ALPHA),
        layers.leaky_relu_backward,
        lambda x: F.leaky_relu(x, ALPHA),
    ),
    Case("sigmoid", _elementwise_inputs, layers.sigmoid_forward, layers.sigmoid_backward, torch.sigmoid),
    Case("tanh", _elementwise_inputs, layers.tanh_forward, layers.tanh_backward, torch.tanh),
    Case(
        "softmax",
        _scores_inputs,
        layers.softmax_forward,
        layers.softmax_backward,
        lambda s: torch.softmax(s, dim=1),
    ),
    Case(
        "softmax_cross_entropy",
        _ce_inputs,
        layers.softmax_cross_entropy_forward,
        layers.softmax_cross_entropy_backward,
        lambda s, y: F.cross_entropy(s, torch.from_numpy(y)),
        scalar_out=True,
    ),
    Case(
        "mse",
        _mse_inputs,
        layers.mse_forward,
        layers.mse_backward,
        lambda p, t: 0.5 * ((p - t) ** 2).sum(),
        scalar_out=True,
    ),
]
CASE_IDS = [c.name for c in CASES]


def _upstream(case: Case, out: Any, rng: np.random.Generator) -> Any:
    return float(rng.normal()) if case.scalar_out else rng.normal(size=np.shape(out))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_and_backward_match_torch(case: Case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs, extra = case.make(rng)
    out, cache = case.forward(*inputs, *extra)
    dout = _upstream(case, out, rng)
    ours = case.grads(dout, cache)

    dout_t = torch.tensor(dout, dtype=torch.float64)
    value, expected = torch_grads(lambda *t: (case.torch_fn(*t, *extra) * dout_t).sum(), *inputs)

    np.testing.assert_allclose(np.sum(out * dout), value, rtol=1e-10)
    for g, e in zip(ours, expected, strict=False):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_backward_matches_central_differences(case: Case, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    inputs, extra = case.make(rng)
    out, cache = case.forward(*inputs, *extra)
    dout = _upstream(case, out, rng)
    ours = case.grads(dout, cache)

    for i, g in enumerate(ours):

        def objective(xi: np.ndarray, i: int = i) -> float:
            args = list(inputs)
            args[i] = xi
            return float(np.sum(case.forward(*args, *extra)[0] * dout))

        np.testing.assert_allclose(g, central_difference(objective, inputs[i]), rtol=1e-6, atol=1e-8)


def test_mse_target_gradient_is_the_negative_of_pred_gradient() -> None:
    rng = np.random.default_rng(7)
    pred, target = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    _, cache = layers.mse_forward(pred, target)
    _, (_, d_target) = torch_grads(lambda p, t: 0.5 * ((p - t) ** 2).sum(), pred, target)
    np.testing.assert_allclose(-layers.mse_backward(1.0, cache), d_target, rtol=1e-12)


def test_mse_is_a_half_sum_not_a_mean() -> None:
    loss, _ = layers.mse_forward(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0]))
    assert loss == 0.5 * (1 + 4 + 9)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_float32_in_float32_out_close_to_float64(case: Case) -> None:
    rng = np.random.default_rng(11)
    inputs, extra = case.make(rng)
    out64, cache64 = case.forward(*inputs, *extra)
    dout = _upstream(case, out64, rng)
    grads64 = case.grads(dout, cache64)

    inputs32 = tuple(a.astype(np.float32) for a in inputs)
    out32, cache32 = case.forward(*inputs32, *extra)
    dout32 = dout if case.scalar_out else dout.astype(np.float32)
    grads32 = case.grads(dout32, cache32)

    assert np.asarray(out32).dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)
    for g32, g64 in zip(grads32, grads64, strict=True):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_inputs_and_cache_are_not_mutated(case: Case) -> None:
    rng = np.random.default_rng(5)
    inputs, extra = case.make(rng)
    before = [a.copy() for a in (*inputs, *extra)]
    out, cache = case.forward(*inputs, *extra)
    dout = _upstream(case, out, rng)
    dout_before = np.copy(dout)

    first = case.grads(dout, cache)
    second = case.grads(dout, cache)  # a backward that edited its cache would now differ

    for a, b in zip((*inputs, *extra), before, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dout, dout_before)
    for g1, g2 in zip(first, second, strict=True):
        np.testing.assert_array_equal(g1, g2)


def test_integer_inputs_are_promoted_to_float64() -> None:
    out, cache = layers.affine_forward(np.array([[1, 2]]), np.array([[1], [1]]), np.array([0]))
    assert out.dtype == np.float64
    assert all(g.dtype == np.float64 for g in layers.affine_backward(np.ones((1, 1)), cache))


def test_relu_slope_at_zero_is_zero_and_leaky_relu_slope_at_zero_is_one() -> None:
    x = np.array([-1.0, 0.0, 1.0])
    _, relu_cache = layers.relu_forward(x)
    _, leaky_cache = layers.leaky_relu_forward(x)
    np.testing.assert_array_equal(layers.relu_backward(np.ones(3), relu_cache), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(layers.leaky_relu_backward(np.ones(3), leaky_cache), [0.01, 1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_finite_and_exact_at_extreme_inputs(dtype) -> None:
    x = np.array([-1000.0, -60.0, -1.0, 0.0, 1.0, 60.0, 1000.0], dtype=dtype)
    out, cache = layers.sigmoid_forward(x)
    dx = layers.sigmoid_backward(np.ones_like(x), cache)
    assert np.isfinite(out).all()
    assert np.isfinite(dx).all()
    expected = torch.sigmoid(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12 if dtype == np.float64 else 1e-6, atol=0)


def test_softmax_jacobian_matches_central_differences() -> None:
    z = np.random.default_rng(3).normal(size=4)
    jac = layers.softmax_jacobian(z)
    for k in range(4):
        row = central_difference(lambda v, k=k: layers.softmax_forward(v[None, :])[0][0, k], z)
        np.testing.assert_allclose(jac[k], row, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_logits_of_1e4_is_exact(dtype) -> None:
    # Label 1 scores 1e4 below label 0: -log softmax_1 = 1e4 + log(1 + e^-1e4), which is 1e4 in floats.
    loss, _ = layers.softmax_cross_entropy_forward(np.array([[1e4, 0.0]], dtype=dtype), np.array([1]))
    assert loss.dtype == dtype
    assert abs(float(loss) - 1e4) <= 1e-12 * 1e4
    # The right label at the top: the exact loss is log(1 + e^-1e4), below the smallest float.
    loss, _ = layers.softmax_cross_entropy_forward(np.array([[1e4, 0.0]], dtype=dtype), np.array([0]))
    assert float(loss) == 0.0


def test_cross_entropy_batch_at_large_logits_gives_exact_loss_and_gradient() -> None:
    s = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]])
    y = np.array([2, 2])
    # Row losses by hand: 1e4 - 0 and 1e4 - 5e3 (every other exponential underflows to 0 after the shift).
    loss, cache = layers.softmax_cross_entropy_forward(s, y)
    assert loss == pytest.approx(7500.0, rel=1e-12)
    ds = layers.softmax_cross_entropy_backward(1.0, cache)
    np.testing.assert_allclose(ds, np.array([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]]) / 2, rtol=0, atol=1e-300)


def test_softmax_of_huge_scores_is_finite() -> None:
    probs, _ = layers.softmax_forward(np.array([[1e4, 1e4 - 1.0, -1e4]]))
    expected = torch.softmax(torch.tensor([[1e4, 1e4 - 1.0, -1e4]], dtype=torch.float64), dim=1).numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-12)


def _forward_then(backward, forward, *args):
    def call(dout):
        return backward(dout, forward(*args)[1])

    return call


BAD_SHAPES = {
    "affine: D differs": lambda: layers.affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5)),
    "affine: M differs": lambda: layers.affine_forward(np.ones((2, 3)), np.ones((3, 5)), np.ones(4)),
    "affine: x not 2-D": lambda: layers.affine_forward(np.ones(3), np.ones((3, 5)), np.ones(5)),
    "affine: b not 1-D": lambda: layers.affine_forward(np.ones((2, 3)), np.ones((3, 5)), np.ones((1, 5))),
    "affine: dout": lambda: _forward_then(
        layers.affine_backward, layers.affine_forward, np.ones((2, 3)), np.ones((3, 5)), np.ones(5)
    )(np.ones((5, 2))),
    "relu: dout": lambda: _forward_then(layers.relu_backward, layers.relu_forward, np.ones(3))(np.ones(4)),
    "leaky_relu: dout": lambda: _forward_then(
        layers.leaky_relu_backward, layers.leaky_relu_forward, np.ones(3)
    )(np.ones((3, 1))),
    "sigmoid: dout": lambda: _forward_then(layers.sigmoid_backward, layers.sigmoid_forward, np.ones(3))(
        np.ones(2)
    ),
    "tanh: dout": lambda: _forward_then(layers.tanh_backward, layers.tanh_forward, np.ones(3))(np.ones(2)),
    "softmax: 1-D scores": lambda: layers.softmax_forward(np.ones(3)),
    "softmax: no classes": lambda: layers.softmax_forward(np.ones((2, 0))),
    "softmax: dprobs": lambda: _forward_then(
        layers.softmax_backward, layers.softmax_forward, np.ones((2, 3))
    )(np.ones((3, 2))),
    "jacobian: 2-D z": lambda: layers.softmax_jacobian(np.ones((2, 3))),
    "ce: label count": lambda: layers.softmax_cross_entropy_forward(np.ones((2, 3)), np.array([0, 1, 2])),
    "ce: float labels": lambda: layers.softmax_cross_entropy_forward(np.ones((2, 3)), np.array([0.0, 1.0])),
    "ce: label too big": lambda: layers.softmax_cross_entropy_forward(np.ones((2, 3)), np.array([0, 3])),
    "ce: negative label": lambda: layers.softmax_cross_entropy_forward(np.ones((2, 3)), np.array([0, -1])),
    "ce: empty batch": lambda: layers.softmax_cross_entropy_forward(np.ones((0, 3)), np.array([], dtype=int)),
    "ce: dloss": lambda: _forward_then(
        layers.softmax_cross_entropy_backward,
        layers.softmax_cross_entropy_forward,
        np.ones((2, 3)),
        np.array([0, 1]),
    )(np.ones(2)),
    "mse: (3,) vs (3, 1)": lambda: layers.mse_forward(np.ones(3), np.ones((3, 1))),
    "mse: dE": lambda: _forward_then(layers.mse_backward, layers.mse_forward, np.ones(3), np.zeros(3))(
        np.ones(3)
    ),
}


@pytest.mark.parametrize("call", BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_bad_shapes_raise_value_error(call) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        call()
