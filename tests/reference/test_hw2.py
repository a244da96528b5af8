"""The hw2 reference against independent oracles: torch autograd in float64 and central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import hw2
from tests.oracles import central_difference, torch_grads

torch = pytest.importorskip("torch")
F = torch.nn.functional

Q1_FUNCS = {"g_w1": hw2.g_w1, "g_w2": hw2.g_w2, "g_x1": hw2.g_x1, "g_x2": hw2.g_x2}
Q1_ARGS = ("x1", "x2", "w1", "w2")


def torch_q1(x1, x2, w1, w2):
    """hw2's f written directly in torch: the oracle for Q1."""
    return torch.sigmoid(w1 * x1 + w2 * x2) + 0.5 * (w1**2 + w2**2)


def q1_points():
    rng = np.random.default_rng(2)
    yield (0.2, 0.4, 0.3, -0.5)  # the handout's starting point
    for _ in range(20):
        yield tuple(float(v) for v in rng.uniform(-3, 3, size=4))
    yield (1.0, -2.0, 30.0, 20.0)  # saturated sigmoid: s(1-s) underflows towards 0
    yield (0.5, 0.5, -800.0, 0.0)  # exp(800) would overflow a naive sigmoid


@pytest.mark.parametrize("point", list(q1_points()))
def test_q1_partials_match_torch_autograd(point):
    _, grads = torch_grads(torch_q1, *point)
    for name, grad in zip(Q1_ARGS, grads, strict=True):
        got = Q1_FUNCS[f"g_{name}"](*point)
        assert isinstance(got, float)
        assert got == pytest.approx(float(grad), rel=1e-10, abs=1e-300), name


@pytest.mark.parametrize("point", list(q1_points())[:6])
def test_q1_partials_match_central_differences(point):
    def f(v):
        return float(torch_q1(*(torch.tensor(float(t), dtype=torch.float64) for t in v)))

    numeric = central_difference(f, np.array(point))
    for name, value in zip(Q1_ARGS, numeric, strict=True):
        assert Q1_FUNCS[f"g_{name}"](*point) == pytest.approx(value, rel=1e-7, abs=1e-9), name


def test_q1_descent_matches_torch_sgd():
    """30 simultaneous steps of size 0.01 from the handout point, against torch.optim.SGD."""
    w = torch.tensor([0.3, -0.5], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.01)
    expected = [w.detach().clone().numpy()]
    for _ in range(30):
        opt.zero_grad()
        torch_q1(0.2, 0.4, w[0], w[1]).backward()
        opt.step()
        expected.append(w.detach().clone().numpy())
    expected = np.array(expected)

    w1s, w2s = hw2.q1_descent()
    assert len(w1s) == len(w2s) == 31
    np.testing.assert_allclose(w1s, expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(w2s, expected[:, 1], rtol=1e-12)
    # The regulariser pulls both weights towards 0 every step.
    assert abs(w1s[-1]) < abs(w1s[0]) and abs(w2s[-1]) < abs(w2s[0])


# --- helper code -----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e2, 1e4, 1e6])
def test_row_logsumexp_matches_torch_and_is_stable(scale):
    x = np.random.default_rng(0).normal(size=(6, 10)) * scale
    got = hw2.row_logsumexp(x)
    assert got.shape == (6, 1)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[:, 0], torch.logsumexp(torch.tensor(x), dim=1).numpy(), rtol=1e-12)


def test_row_logsumexp_rejects_a_vector():
    with pytest.raises(ValueError, match=r"\(B, C\)"):
        hw2.row_logsumexp(np.zeros(3))


def test_parameters_accumulate_zero_and_apply():
    p = hw2.Parameters()
    p.set_param("w", np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(p.grad["w"], np.zeros((2, 2)))
    p.accumlate_grad("w", np.ones((2, 2)))
    p.accumulate_grad("w", np.full((2, 2), 2.0))  # the correctly spelled alias adds too
    np.testing.assert_array_equal(p.grad["w"], np.full((2, 2), 3.0))
    p.apply_grad(0.5)
    np.testing.assert_array_equal(p.get_param("w"), [[-0.5, 0.5], [1.5, 2.5]])
    p.zero_grad()
    np.testing.assert_array_equal(p.grad["w"], np.zeros((2, 2)))


def test_parameters_reject_unknown_key_and_wrong_shape():
    p = hw2.Parameters()
    p.set_param("w", np.zeros((2, 3)))
    with pytest.raises(KeyError, match="set_param"):
        p.accumlate_grad("v", np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        p.accumlate_grad("w", np.zeros((3, 2)))


def test_init_linear_is_reseeded_and_he_scaled():
    a, b = hw2.init_linear(784, 392), hw2.init_linear(784, 392)
    assert a.shape == (784, 392)
    np.testing.assert_array_equal(a, b)
    assert a.std() == pytest.approx(math.sqrt(2 / 784), rel=0.01)
    np.testing.assert_array_equal(
        hw2.init_linear(3, 2), np.random.RandomState(0).randn(3, 2) * math.sqrt(2 / 3)
    )


# --- Q3: the three models --------------------------------------------------------------------

PARAM_SHAPES = {
    "linear": lambda d, h, c: {"w_sm": (d, c)},
    "single_hidden": lambda d, h, c: {"w1": (d, h), "b1": (h,), "w_sm": (h, c)},
    "two_hidden": lambda d, h, c: {"w1": (d, h), "b1": (h,), "w2": (h, h), "b2": (h,), "w_sm": (h, c)},
}


def torch_model(model, x, y, p):
    """The three hw2 models written directly in torch (float64): loss and probabilities."""
    if model == "linear":
        s = x @ p["w_sm"]
    elif model == "single_hidden":
        s = torch.relu(x @ p["w1"] + p["b1"]) @ p["w_sm"]
    else:
        h1 = torch.relu(x @ p["w1"] + p["b1"])
        h2 = h1 + torch.relu(h1 @ p["w2"] + p["b2"])
        s = h2 @ p["w_sm"]
    return F.cross_entropy(s, y), torch.softmax(s, dim=1)


def random_problem(model, b, d, h, c, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    shapes = PARAM_SHAPES[model](d, h, c)
    arrays = {k: rng.normal(size=s) * scale / math.sqrt(s[0]) for k, s in shapes.items()}
    x = rng.normal(size=(b, d))
    y = rng.integers(0, c, size=b)
    return x, y, arrays


def run_reference(model, x, y, arrays, grad=True):
    params = hw2.Parameters()
    for k, v in arrays.items():
        params.set_param(k, v.copy())
    loss, probs = hw2.MODELS[model](x, y, params, grad=grad)
    return loss, probs, params


def run_torch(model, x, y, arrays):
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in arrays.items()}
    loss, probs = torch_model(model, torch.tensor(x, dtype=torch.float64), torch.tensor(y), leaves)
    loss.backward()
    return float(loss.detach()), probs.detach().numpy(), {k: t.grad.numpy() for k, t in leaves.items()}


CASES = [
    (model, b, d, h, c, seed)
    for seed, (b, d, h, c) in enumerate([(7, 5, 4, 3), (1, 6, 5, 10), (13, 11, 7, 10), (50, 20, 9, 4)])
    for model in PARAM_SHAPES
]


@pytest.mark.parametrize(("model", "b", "d", "h", "c", "seed"), CASES)
def test_model_matches_torch_autograd(model, b, d, h, c, seed):
    x, y, arrays = random_problem(model, b, d, h, c, seed)
    loss, probs, params = run_reference(model, x, y, arrays)
    t_loss, t_probs, t_grads = run_torch(model, x, y, arrays)
    assert loss == pytest.approx(t_loss, rel=1e-10)
    np.testing.assert_allclose(probs, t_probs, rtol=1e-10, atol=1e-15)
    assert set(params.grad) == set(t_grads)
    for key, g in t_grads.items():
        np.testing.assert_allclose(params.grad[key], g, rtol=1e-10, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("model", list(PARAM_SHAPES))
def test_model_gradients_match_central_differences(model):
    x, y, arrays = random_problem(model, 4, 5, 3, 3, seed=11)
    _, _, params = run_reference(model, x, y, arrays)
    for key in arrays:

        def loss_of(v, key=key):
            trial = dict(arrays, **{key: v})
            return run_torch(model, x, y, trial)[0]

        np.testing.assert_allclose(
            params.grad[key], central_difference(loss_of, arrays[key]), rtol=1e-6, atol=1e-9, err_msg=key
        )


@pytest.mark.parametrize("model", list(PARAM_SHAPES))
def test_float32_inputs_agree_with_float64(model):
    x, y, arrays = random_problem(model, 9, 12, 6, 10, seed=5)
    loss64, probs64, p64 = run_reference(model, x, y, arrays)
    loss32, probs32, p32 = run_reference(
        model, x.astype(np.float32), y, {k: v.astype(np.float32) for k, v in arrays.items()}
    )
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(probs32, probs64, rtol=1e-4, atol=1e-6)
    for key in arrays:
        np.testing.assert_allclose(p32.grad[key], p64.grad[key], rtol=1e-3, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("model", list(PARAM_SHAPES))
def test_large_logits_stay_finite_and_exact(model):
    """Weights scaled so the scores reach ~1e4: loss, probs and gradients finite and equal to torch's."""
    x, y, arrays = random_problem(model, 6, 8, 5, 10, seed=3)
    arrays["w_sm"] = arrays["w_sm"] * 1e4 / np.abs(arrays["w_sm"]).max()
    loss, probs, params = run_reference(model, x, y, arrays)
    t_loss, t_probs, t_grads = run_torch(model, x, y, arrays)
    assert np.isfinite(loss) and np.all(np.isfinite(probs))
    assert loss == pytest.approx(t_loss, rel=1e-10)
    np.testing.assert_allclose(probs, t_probs, rtol=1e-9, atol=1e-300)
    for key, g in t_grads.items():
        assert np.all(np.isfinite(params.grad[key]))
        np.testing.assert_allclose(params.grad[key], g, rtol=1e-8, atol=1e-10 * np.abs(g).max(), err_msg=key)


@pytest.mark.parametrize("model", list(PARAM_SHAPES))
def test_contract_no_mutation_zero_grad_and_grad_false(model):
    x, y, arrays = random_problem(model, 7, 6, 4, 10, seed=9)
    x_before, y_before = x.copy(), y.copy()
    params = hw2.Parameters()
    for k, v in arrays.items():
        params.set_param(k, v.copy())
    fn = hw2.MODELS[model]

    fn(x, y, params)
    first = {k: g.copy() for k, g in params.grad.items()}
    fn(x, y, params)  # zero_grad first: a second call must not double the gradients
    for key in first:
        np.testing.assert_array_equal(params.grad[key], first[key])
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)
    for key, v in arrays.items():
        np.testing.assert_array_equal(params.get_param(key), v)

    loss, probs = fn(x, y, params, grad=False)
    assert all(not g.any() for g in params.grad.values())
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    assert loss > 0


def test_main_training_matches_a_torch_sgd_loop():
    """Same data, same init, consecutive batches incl. a short last one: identical weights and accuracies."""
    model = "two_hidden"
    rng = np.random.default_rng(4)
    x = rng.normal(size=(23, 6))
    y = rng.integers(0, 3, size=23)
    dev_x, dev_y = rng.normal(size=(10, 6)), rng.integers(0, 3, size=10)
    params = hw2.Parameters()
    init = {
        "w1": hw2.init_linear(6, 5),
        "b1": np.zeros(5),
        "w2": hw2.init_linear(5, 5),
        "b2": np.zeros(5),
        "w_sm": hw2.init_linear(5, 3),
    }
    for k, v in init.items():
        params.set_param(k, v.copy())
    seen = []
    accs = hw2.main_training(
        params, hw2.MODELS[model], x, y, dev_x, dev_y, 5, 0.1, 3, on_epoch=lambda e, a: seen.append((e, a))
    )

    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in init.items()}
    opt = torch.optim.SGD(leaves.values(), lr=0.1)
    t_accs = []
    for _ in range(3):
        for start in range(0, 23, 5):
            opt.zero_grad()
            loss, _ = torch_model(
                model, torch.tensor(x[start : start + 5]), torch.tensor(y[start : start + 5]), leaves
            )
            loss.backward()
            opt.step()
        with torch.no_grad():
            _, probs = torch_model(model, torch.tensor(dev_x), torch.tensor(dev_y), leaves)
        t_accs.append(float((probs.argmax(1).numpy() == dev_y).mean()))

    assert accs == t_accs
    assert seen == [(i + 1, a) for i, a in enumerate(accs)]
    for k, t in leaves.items():
        np.testing.assert_allclose(params.get_param(k), t.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
