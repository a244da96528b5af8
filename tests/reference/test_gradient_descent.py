"""reference.gradient_descent against independent oracles.

By-hand epochs: the error e = w x - t of gradient descent on 1/2 e^2 obeys e_{k+1} = (1 - eta x^2) e_k.
Slope script: a plain numpy.float32 replay of the SGD-momentum recurrence, written here, must stop at
the same epoch and visit the same weights as torch.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference.gradient_descent import hand_epochs, momentum_sweep, slope_experiment

LEARNING_RATES = (0.01, 0.1, 0.5, 1.0, 1.5, 1.9, 2.0, 2.1)
EXTRA_MOMENTA = (1.0, 1.1)

# ---------------------------------------------------------------------------- by hand vs closed form


@pytest.mark.parametrize(
    ("eta", "x", "t", "w0", "epochs"),
    [
        (0.5, 1.0, 1.0, 0.0, 2),  # the tutorial's setting
        (0.1, 2.0, -3.0, 1.5, 25),
        (1.9, 1.0, 1.0, 0.0, 40),  # overshoots every step, still contracts
        (0.3, -1.5, 0.7, 2.0, 15),
        (1.2, 1.5, 0.5, -1.0, 10),  # 1 - eta x^2 = -1.7: diverges
    ],
)
def test_hand_epochs_follow_closed_form(eta, x, t, w0, epochs):
    records = hand_epochs(eta, x, t, w0, epochs)
    assert [r.epoch for r in records] == list(range(1, epochs + 1))
    factor = 1.0 - eta * x * x
    e0 = w0 * x - t
    for k, r in enumerate(records):
        e_k, e_next = e0 * factor**k, e0 * factor ** (k + 1)
        scale = max(1.0, abs(e_k), abs(e_next))
        assert r.x == x
        assert r.w * x - t == pytest.approx(e_k, rel=1e-9, abs=1e-12 * scale)
        assert r.f == pytest.approx(t + e_k, rel=1e-9, abs=1e-12 * scale)
        assert r.loss == pytest.approx(0.5 * e_k**2, rel=1e-9, abs=1e-12 * scale**2)
        assert r.grad == pytest.approx(x * e_k, rel=1e-9, abs=1e-12 * scale)
        assert r.w_new * x - t == pytest.approx(e_next, rel=1e-9, abs=1e-12 * scale)


def test_hand_epochs_chain_and_reject_bad_counts():
    records = hand_epochs(0.25, 1.0, 2.0, 0.0, 5)
    assert all(a.w_new == b.w for a, b in zip(records[:-1], records[1:], strict=True))
    assert hand_epochs(0.5, 1.0, 1.0, 0.0, 0) == []
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError, match="epochs"):
            hand_epochs(0.5, 1.0, 1.0, 0.0, bad)


# ---------------------------------------------------------------------------- slope script oracle


def float32_slope_replay(lr, momentum, max_epochs=1000, x=1.0, t=1.0):
    """The slope script's arithmetic in numpy.float32: returns (epochs, weights (n + 1,), losses (n,)).

    loss = 0.5 * (w x - t)^2 and its gradient (w x - t) x; SGD keeps buf = g on the first step and
    buf = momentum * buf + g afterwards (each product and sum rounded to float32), then w -= lr * buf.
    torch's CPU kernel performs that last update as one fused multiply-add (a single rounding), which
    the replay reproduces by doing it in float64, where a float32 product is exact, and rounding once.
    """
    f32 = np.float32
    lr32, m32, x32, t32 = f32(lr), f32(momentum), f32(x), f32(t)
    w, buf, epoch = f32(0.0), None, 0
    weights, losses = [float(w)], []
    with np.errstate(over="ignore", invalid="ignore"):
        while epoch < max_epochs:
            epoch += 1
            diff = f32(w * x32) - t32
            loss = f32(0.5) * f32(diff * diff)
            grad = f32(diff * x32)
            if momentum != 0:
                buf = grad if buf is None else f32(m32 * buf) + grad
                grad = buf
            w = f32(np.float64(w) - np.float64(lr32) * np.float64(grad))
            weights.append(float(w))
            losses.append(float(loss))
            if loss < 1e-9 or np.isnan(loss):
                break
    return epoch, np.array(weights), np.array(losses)


@pytest.fixture(scope="module")
def runs():
    """Every slope run the tests look at, computed once: keys (lr, momentum)."""
    pytest.importorskip("torch")
    out = {(lr, 0.0): slope_experiment(lr) for lr in LEARNING_RATES}
    out.update({(1.9, m): slope_experiment(1.9, m) for m in EXTRA_MOMENTA})
    return out


@pytest.fixture(scope="module")
def sweep():
    pytest.importorskip("torch")
    return momentum_sweep(1.9)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lr", "epochs"),
    # The tutorial's printed counts; the computation reproduces every one.
    [(0.01, 998), (0.1, 97), (0.5, 16), (1.0, 2), (1.5, 16), (1.9, 97)],
)
def test_slope_converges_in_printed_epochs(runs, lr, epochs):
    run = runs[(lr, 0.0)]
    assert (run.epochs, run.behaviour) == (epochs, "converged")
    assert run.losses[-1] < 1e-9
    assert abs(run.final_w - 1.0) < 1e-4


@pytest.mark.slow
def test_slope_at_lr_2_oscillates_between_0_and_2(runs):
    run = runs[(2.0, 0.0)]
    assert (run.epochs, run.behaviour, run.nonfinite) == (1000, "oscillates", False)
    # float32 represents 0 and 2 exactly, so the weight alternates 0, 2, 0, ... without drifting.
    assert set(run.w.tolist()) == {0.0, 2.0}
    assert np.all(run.losses == 0.5)


@pytest.mark.slow
def test_slope_at_lr_2_1_explodes_to_inf_then_nan(runs):
    run = runs[(2.1, 0.0)]
    assert (run.behaviour, run.nonfinite) == ("diverges", True)
    # The loop stops early only because the loss turned nan: the weight went to inf, then to nan.
    assert run.epochs == 933
    assert np.isnan(run.losses[-1])
    first_inf = int(np.argmax(np.isinf(run.w)))
    assert first_inf > 0 and np.isnan(run.w[first_inf + 1 :]).all()
    assert np.isfinite(run.w[:first_inf]).all()


@pytest.mark.slow
def test_momentum_sweep_at_lr_1_9(sweep):
    assert sweep.epochs == {0.1: 25, 0.2: 14, 0.3: 13, 0.4: 22, 0.5: 30, 0.6: 37, 0.7: 48, 0.8: 71, 0.9: 192}
    assert (sweep.fastest_momentum, sweep.fastest_epochs) == (0.3, 13)
    assert all(run.behaviour == "converged" for run in sweep.runs.values())


@pytest.mark.slow
def test_momentum_1_0_cycles_without_converging(runs):
    run = runs[(1.9, 1.0)]
    assert (run.epochs, run.behaviour, run.nonfinite) == (1000, "oscillates", False)
    assert np.max(np.abs(run.w)) < 3.0  # bounded: it circles the target instead of settling


@pytest.mark.slow
def test_momentum_1_1_blows_up(runs):
    run = runs[(1.9, 1.1)]
    assert (run.epochs, run.behaviour, run.nonfinite) == (1000, "diverges", True)
    # Only the float32 loss overflows inside the budget; the weight is huge but still finite
    # (errata: the tutorial says the parameter reaches infinity).
    assert np.isinf(run.losses).any() and not np.isnan(run.losses).any()
    assert np.isfinite(run.w).all() and abs(run.final_w) > 1e20


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lr", "momentum"),
    [(lr, 0.0) for lr in LEARNING_RATES] + [(1.9, m / 10) for m in range(1, 12)],
)
def test_torch_run_matches_float32_replay(runs, sweep, lr, momentum):
    run = runs.get((lr, momentum)) or sweep.runs[momentum]
    epochs, weights, losses = float32_slope_replay(lr, momentum)
    assert run.epochs == epochs
    np.testing.assert_array_equal(run.w, weights)
    np.testing.assert_array_equal(run.losses, losses)


def test_slow_learning_rate_is_labelled_stalled():
    pytest.importorskip("torch")
    run = slope_experiment(0.001, max_epochs=200)
    assert (run.epochs, run.behaviour) == (200, "stalled")
    assert 0.0 < run.final_w < 1.0


def test_slope_experiment_rejects_bad_budget():
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="max_epochs"):
        slope_experiment(0.1, max_epochs=0)


def test_gradient_descent_imports_without_torch():
    # torch lives inside slope_experiment, so the module never names it at import time.
    import ast
    import inspect

    import reference.gradient_descent as module

    tree = ast.parse(inspect.getsource(module))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = {alias.name.split(".")[0] for node in top_level for alias in node.names}
    names |= {
        node.module.split(".")[0] for node in top_level if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "torch" not in names
