"""The checks library against independent oracles: torch autograd, and gradients derived by hand in numpy.

The key test is the calibration: at MNIST scales, a correct float32 backward pass of a 784x392 layer must
pass against float64 at the default tolerances, and the common mistakes must fail. Run with -s to see the
measured errors that justify the tolerances.
"""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest

from graders.engine.checks import (
    CheckFailure,
    GradientCheck,
    assert_close,
    assert_finite,
    assert_not_mutated,
    check_gradient,
    numerical_gradient,
    tolerances,
)
from graders.engine.diagnosis import assert_gradient_close, diagnose
from tests.oracles import central_difference, torch_grads

torch = pytest.importorskip("torch")
F = torch.nn.functional


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as caught:
        fn(*args, **kwargs)
    return str(caught.value)


def matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


# ---------------------------------------------------------------------------------------------
# An MLP's backward pass written out by hand, with switches for the common mistakes
# ---------------------------------------------------------------------------------------------


def mnist_like(rng: np.random.Generator, batch: int, dim: int = 784) -> np.ndarray:
    """Digit-like rows: about 19% ink on a zero background, standardised with MNIST's mean and std."""
    raw = np.where(rng.random((batch, dim)) < 0.19, rng.uniform(0.2, 1.0, (batch, dim)), 0.0)
    return (raw - 0.1307) / 0.3081


def he(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


def mlp_backward(x, y, w1, w_sm, dtype, *, per_batch=True, sign=1.0, mask=True):
    """h = ReLU(x @ w1), s = h @ w_sm, loss = mean CE; returns loss, probs, d_pre (B, H) and dW1 (D, H).

    per_batch=False drops the 1/B; sign=-1 uses onehot - probs; mask=False forgets the ReLU's mask.
    """
    x, w1, w_sm = (np.asarray(a, dtype=dtype) for a in (x, w1, w_sm))
    batch = len(y)
    pre = x @ w1
    scores = np.maximum(pre, 0) @ w_sm
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(batch), y]))
    onehot = np.eye(w_sm.shape[1], dtype=dtype)[y]
    d_scores = sign * (probs - onehot) / (batch if per_batch else 1)
    d_pre = (d_scores @ w_sm.T) * ((pre > 0) if mask else 1)
    return loss, probs, d_pre, x.T @ d_pre


def torch_mlp_grad_w1(x, y, w1, w_sm) -> np.ndarray:
    def loss(x_, w1_, w_sm_):
        return F.cross_entropy(torch.relu(x_ @ w1_) @ w_sm_, torch.as_tensor(y))

    return torch_grads(loss, x, w1, w_sm)[1][1]


# ---------------------------------------------------------------------------------------------
# Calibration: the default tolerances against real mistakes, at MNIST scales
# ---------------------------------------------------------------------------------------------

B, D, H, C = 50, 784, 392, 10


def real_digits(mnist_dir, rng):
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, D) / 255.0
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    images = (images - images.mean()) / images.std()  # one global mean and std, as in the handout
    rows = rng.choice(len(images), B, replace=False)
    return images[rows], labels[rows]


@pytest.fixture(scope="module", params=["synthetic", "mnist"])
def layer(request):
    rng = np.random.default_rng(7)
    if request.param == "mnist":
        x, y = real_digits(request.getfixturevalue("mnist_dir"), rng)
    else:
        x, y = mnist_like(rng, B), rng.integers(0, C, B)
    w1, w_sm = he(rng, D, H), he(rng, H, C)
    loss, probs, d_pre, dw1 = mlp_backward(x, y, w1, w_sm, np.float64)
    # The float64 formula is itself checked against torch before it serves as the expected value.
    np.testing.assert_allclose(dw1, torch_mlp_grad_w1(x, y, w1, w_sm), rtol=1e-10, atol=1e-15)
    return request.param, (x, y, w1, w_sm), (loss, probs, d_pre, dw1)


def error_report(label: str, got: np.ndarray, want: np.ndarray) -> float:
    """Print the errors of got against want; return the largest |error| / allowed at default tolerances."""
    rtol, atol = tolerances(np.float32, np.float64)
    diff = np.abs(np.asarray(got, dtype=np.float64) - want)
    sizeable = np.abs(want) > atol  # below atol a relative error says nothing
    rel = diff[sizeable] / np.abs(want[sizeable])
    usage = diff / (atol + rtol * np.abs(want))
    print(
        f"  {label:<22} max rel {rel.max():9.2e}  median rel {np.median(rel):9.2e}  "
        f"max abs {diff.max():9.2e}  max |err|/allowed {usage.max():9.2e}  "
        f"out of tolerance {np.mean(usage > 1):6.1%}"
    )
    return float(usage.max())


def test_correct_float32_passes_and_every_common_mistake_fails(layer):
    source, (x, y, w1, w_sm), (loss64, probs64, _, dw1) = layer
    loss32, probs32, d_pre32, dw1_32 = mlp_backward(x, y, w1, w_sm, np.float32)
    rtol, atol = tolerances(np.float32, np.float64)
    rms = np.sqrt(np.mean(dw1**2))
    print(f"\n{source} B={B}, dW1 {dw1.shape}, rtol={rtol:g}, atol={atol:g}, rms(dW1)={rms:.2e}")

    assert dw1_32.dtype == np.float32
    for label, got, want in [("correct dW1", dw1_32, dw1), ("correct probs", probs32, probs64)]:
        assert error_report(label, got, want) < 0.25  # at least a 4x margin under the tolerance
        assert_close(got, want, name=label)
    assert_close(loss32, loss64, name="loss")

    x2 = dw1_32 + dw1_32  # the same gradient accumulated twice
    mistakes = {
        "missing 1/B": mlp_backward(x, y, w1, w_sm, np.float32, per_batch=False)[3],
        "times 2": x2,
        "sign": mlp_backward(x, y, w1, w_sm, np.float32, sign=-1.0)[3],
        "ReLU mask missing": mlp_backward(x, y, w1, w_sm, np.float32, mask=False)[3],
    }
    for label, got in mistakes.items():
        error_report(label, got, dw1)
        message = failure(assert_close, got, dw1, name="dW1")
        assert matches(r"^`dW1` is wrong: \d+ of 307328 entries differ; worst at \[\d+, \d+\]: got ", message)
        assert np.mean(np.abs(got - dw1) > atol + rtol * np.abs(dw1)) > 0.5, label  # not a near miss
    transposed = d_pre32.T @ x.astype(np.float32)
    print(f"  {'transposed':<22} shape {transposed.shape}: fails on shape")
    assert failure(assert_close, transposed, dw1, name="dW1") == (
        "`dW1` has shape (392, 784) but should be (784, 392) — transposed?"
    )


# ---------------------------------------------------------------------------------------------
# tolerances
# ---------------------------------------------------------------------------------------------


def test_tolerances_follow_the_least_precise_float():
    tight = tolerances(np.float64)
    assert tight == tolerances(np.float64, np.int64) == tolerances(np.int64) == tolerances(bool, float)
    assert tight[0] <= 1e-6 and tight[1] <= 1e-8
    single = tolerances(np.float32, np.float64)
    assert single == tolerances(np.float64, np.float32) == tolerances(np.dtype("float32"))
    assert single == tolerances(np.zeros(3, np.complex64))
    assert single[0] > tight[0] and single[1] > tight[1]
    half = tolerances(np.float16, np.float64)
    assert half[0] > single[0] and half[0] < 0.5  # still fails a factor of 2
    with pytest.raises(TypeError):
        tolerances()


# ---------------------------------------------------------------------------------------------
# assert_close: one message per kind of failure, in order
# ---------------------------------------------------------------------------------------------

EXPECTED = np.random.default_rng(3).normal(size=(784, 10)) * 0.01


def test_none_is_named():
    assert failure(assert_close, None, EXPECTED, name="dW1") == "`dW1` is None — did you forget to return it?"


@pytest.mark.parametrize(
    ("actual", "pattern"),
    [
        ("0.5", r"^`dW1` is a str, but should be an array of shape \(784, 10\)\.$"),
        ({"w1": 1.0}, r"^`dW1` is a dict, but should be"),
        (
            (1.0, EXPECTED),
            r"^`dW1` is a tuple of 2 items .*did you return several values where one was expected\?",
        ),
        ([[1.0, 2.0], [3.0]], r"^`dW1` is a list of 2 items that do not form one array of numbers"),
        (["a", "b"], r"^`dW1` is a list of 2 items"),
    ],
)
def test_wrong_types(actual, pattern):
    assert matches(pattern, failure(assert_close, actual, EXPECTED, name="dW1"))


def test_numbers_and_lists_of_numbers_are_accepted():
    assert_close(2.5, np.array(2.5), name="loss")
    assert_close(np.float32(2.5), 2.5, name="loss")
    assert_close(np.array(2.5), 2.5, name="loss")
    assert_close([[1.0, 2.0], [3.0, 4.0]], np.array([[1.0, 2.0], [3.0, 4.0]]), name="x")
    assert_close((1, 2), np.array([1.0, 2.0]), name="x")
    assert_close(3, 3.0, name="count")


@pytest.mark.parametrize(
    ("shape", "want", "message"),
    [
        ((392, 784), (784, 392), "`dW1` has shape (392, 784) but should be (784, 392) — transposed?"),
        (
            (1, 392),
            (392,),
            "`dW1` has shape (1, 392) but should be (392,) — an extra axis of length 1 (keepdims=True?)",
        ),
        ((392,), (392, 1), "`dW1` has shape (392,) but should be (392, 1) — a missing axis of length 1?"),
        ((4, 6), (6, 2, 2), "`dW1` has shape (4, 6) but should be (6, 2, 2) — the same number of entries, *"),
        ((5, 3), (5, 4), "`dW1` has shape (5, 3) but should be (5, 4)."),
        ((50,), (), "`dW1` has shape (50,) but should be a single number — *mean over the batch?"),
        ((1, 1), (), "`dW1` has shape (1, 1) but should be a single number — return it as a plain number*"),
        ((), (3,), "`dW1` is a single number but should be an array of shape (3,)."),
    ],
)
def test_shape(shape, want, message):
    from fnmatch import fnmatchcase

    got = failure(assert_close, np.zeros(shape), np.zeros(want), name="dW1")
    assert fnmatchcase(got, message.replace("[", "[[]")), got


@pytest.mark.parametrize(
    ("actual", "holds"),
    [
        (EXPECTED > 0, r"True/False values \(dtype bool\)"),
        (EXPECTED + 0j, r"complex numbers \(dtype complex128\)"),
        (EXPECTED.astype(object), r"Python objects \(dtype object\)"),
        (EXPECTED.astype(str), r"text \(dtype <U\d+\)"),
    ],
)
def test_kind_of_number(actual, holds):
    message = failure(assert_close, actual, EXPECTED, name="dW1")
    assert matches(rf"^`dW1` holds {holds} but should hold floating-point numbers\.$", message)


def test_non_finite_entries_are_located():
    want = np.arange(20.0).reshape(5, 4)
    got = want.copy()
    got[3, 1], got[4, 0] = np.nan, -np.inf
    message = failure(assert_close, got, want, name="loss")
    assert message.startswith(
        "`loss` contains NaN at [3, 1] where 13 is expected (2 of 20 entries are NaN or inf)."
    )
    assert "exp()" in message and "log(0)" in message
    assert failure(assert_close, np.inf, 2.302585, name="loss").startswith(
        "`loss` is inf, but should be 2.303."
    )


def test_non_finite_expected_values_are_compared_as_values():
    want = np.array([1.0, np.nan, np.inf])
    assert_close(np.array([1.0, np.nan, np.inf]), want, name="x")
    message = failure(assert_close, np.array([1.0, 0.0, np.inf]), want, name="x")
    assert matches(r"^`x` is wrong: 1 of 3 entries differ; worst at \[1\]: got 0, expected nan", message)


def test_values_name_the_worst_entry_and_how_many_differ():
    want = EXPECTED.copy()
    want[12, 3] = 0.0246
    got = want.copy()
    got[12, 3] = 0.0123
    for idx in [(0, 0), (100, 5), (700, 9)]:
        got[idx] *= 1.01  # off, but relatively less than [12, 3]
    message = failure(assert_close, got, want, name="dW1")
    assert matches(
        r"^`dW1` is wrong: 4 of 7840 entries differ; worst at \[12, 3\]: "
        r"got 0\.0123, expected 0\.0246 \(relative error 0\.50\)\. Allowed: ",
        message,
    )


def test_scalar_values_and_digits_enough_to_see_the_difference():
    message = failure(assert_close, 1.5, 2.302585, name="loss")
    assert matches(r"^`loss` is 1\.5 but should be 2\.303 \(relative error 0\.35\)\.", message)
    message = failure(assert_close, np.float64(2.30258), np.float64(2.30262), name="loss")
    assert matches(r"^`loss` is 2\.30258 but should be 2\.30262", message)
    assert "absolute error 1" in failure(assert_close, 1.0, 0.0, name="loss")


def test_default_tolerances_follow_the_dtypes():
    want = EXPECTED.copy()
    assert_close((want * (1 + 5e-5)).astype(np.float32), want, name="dW1")
    assert "is wrong" in failure(assert_close, want * (1 + 5e-5), want, name="dW1")
    assert_close(want * (1 + 5e-5), want, name="dW1", rtol=1e-4)
    # A Python float may be a float32 result converted with float(), so it is not held to float64 precision.
    assert_close(float(np.float32(np.pi)), np.pi, name="loss")
    with pytest.raises(ValueError, match="non-negative"):
        assert_close(want, want, name="dW1", rtol=-1.0)
    with pytest.raises(TypeError, match="numeric"):
        assert_close(want, "expected", name="dW1")


# ---------------------------------------------------------------------------------------------
# assert_finite, assert_not_mutated
# ---------------------------------------------------------------------------------------------


def test_assert_finite():
    assert_finite(np.ones((3, 2)), name="probs")
    assert_finite(2.5, name="loss")
    message = failure(assert_finite, np.array([[1.0, 2.0], [np.inf, np.nan]]), name="probs")
    assert message.startswith("`probs` contains inf at [1, 0] (2 of 4 entries are NaN or inf).")
    assert failure(assert_finite, float("nan"), name="loss").startswith(
        "`loss` is NaN, but should be a finite number."
    )
    assert failure(assert_finite, None, name="loss") == "`loss` is None — did you forget to return it?"
    assert "holds text" in failure(assert_finite, np.array(["a"]), name="loss")


def test_assert_not_mutated():
    before = np.arange(12.0).reshape(3, 4)
    assert_not_mutated(before, before.copy(), name="batch_x")
    nan = np.array([1.0, np.nan])
    assert_not_mutated(nan, nan.copy(), name="batch_x")
    after = before.copy()
    after[1, 2] = 0.0
    after[2] -= 6.0
    message = failure(assert_not_mutated, before, after, name="batch_x")
    assert message.startswith(
        "`batch_x` was changed by your function (5 of 12 entries changed) at [1, 2]: 6 became 0."
    )
    assert "x.copy()" in message
    message = failure(assert_not_mutated, before, before.astype(np.float32), name="batch_x")
    assert "from shape (3, 4) and dtype float64 to shape (3, 4) and dtype float32" in message


# ---------------------------------------------------------------------------------------------
# numerical_gradient and check_gradient, against torch autograd
# ---------------------------------------------------------------------------------------------


class Counted:
    """A forward function that counts its calls, like one answered by the sandbox."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, w):
        self.calls += 1
        return self.f(w)


def softmax_ce_problem(rng, batch, dim, classes):
    """f(W) = mean cross-entropy of x @ W in numpy, and its gradient from torch autograd."""
    x, y = rng.standard_normal((batch, dim)), rng.integers(0, classes, batch)
    w = rng.standard_normal((dim, classes)) * 0.5

    def f(w_):
        scores = x @ w_
        top = scores.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
        return float(np.mean(lse - scores[np.arange(batch), y]))

    _, (_, grad) = torch_grads(lambda x_, w_: F.cross_entropy(x_ @ w_, torch.as_tensor(y)), x, w)
    return f, w, grad


def test_numerical_gradient_matches_torch():
    f, w, grad = softmax_ce_problem(np.random.default_rng(0), 6, 4, 3)
    counted = Counted(f)
    numeric = numerical_gradient(counted, w)
    assert numeric.dtype == np.float64 and numeric.shape == w.shape
    assert counted.calls == 2 * w.size
    np.testing.assert_allclose(numeric, grad, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("dim", "method"), [(4, "elementwise"), (30, "directions")])
def test_check_gradient_against_torch(dim, method):
    batch = 8
    f, w, grad = softmax_ce_problem(np.random.default_rng(1), batch, dim, 5)
    w_before = w.copy()
    for label, analytic, ok in [
        ("correct", grad, True),
        ("correct in float32", grad.astype(np.float32), True),
        ("sign", -grad, False),
        ("missing 1/B", grad * batch, False),
        ("times 2", grad * 2, False),
    ]:
        counted = Counted(f)
        result = check_gradient(counted, w, analytic, directions=3)
        print(f"\n  check_gradient {method} {label}: max relative error {result.max_rel_error:.2e}")
        assert isinstance(result, GradientCheck)
        assert result.ok is ok and result.method == method, (label, result)
        assert result.forward_calls == counted.calls == (2 * w.size if method == "elementwise" else 2 * 3)
        if ok:
            assert result.max_rel_error < 1e-6
            assert result.message.startswith("The gradient matches central differences")
        else:
            assert result.max_rel_error > 0.3
            assert result.message.startswith("The gradient does not match central differences of the loss: ")
    np.testing.assert_array_equal(w, w_before)


def test_check_gradient_is_reproducible_and_takes_a_generator():
    f, w, grad = softmax_ce_problem(np.random.default_rng(2), 8, 30, 5)
    wrong = grad + 1e-3 * np.random.default_rng(9).standard_normal(grad.shape)
    first, again = check_gradient(f, w, wrong), check_gradient(f, w, wrong)
    assert not first.ok and first.max_rel_error == again.max_rel_error
    other = check_gradient(f, w, wrong, rng=np.random.default_rng(5), directions=1)
    assert other.forward_calls == 2 and not other.ok


def test_zero_gradients_compare_fine_despite_rounding_in_f():
    # exp(w1) * exp(-w1) is constant, but rounding makes its measured slope nonzero: only noise.
    def f(w):
        return 50.0 * (np.exp(w[1]) * np.exp(-w[1])) + 0.5 * w[0] ** 2

    w = np.array([0.3, 0.7, -2.0])
    assert central_difference(f, w)[1] != 0  # the oracle sees the noise, so the test means something
    result = check_gradient(f, w, np.array([0.3, 0.0, 0.0]))
    assert result.ok, result.message
    assert not check_gradient(f, w, np.array([0.3, 1e-3, 0.0])).ok


def test_check_gradient_raises_only_when_the_loss_is_not_finite():
    w = np.ones((2, 3))
    message = failure(check_gradient, lambda w_: float("nan"), w, np.zeros_like(w))
    assert message.startswith("The loss is NaN when entry [0, 0] is moved by +1e-06")
    message = failure(check_gradient, lambda w_: np.inf, np.ones(100), np.zeros(100), name="your loss")
    assert message.startswith("Your loss is inf when the input is moved by 1e-06 along a random direction")
    message = failure(check_gradient, lambda w_: np.ones(3), w, np.zeros_like(w))
    assert "should be a single number, but has shape (3,)" in message


@pytest.mark.parametrize(
    ("analytic", "pattern"),
    [
        (None, r"^`gradient` is None"),
        (np.zeros((3, 2)), r"^`gradient` has shape \(3, 2\) but should be \(2, 3\) — transposed\?"),
        (np.full((2, 3), np.nan), r"^`gradient` contains NaN at \[0, 0\]"),
    ],
)
def test_check_gradient_reports_an_unusable_gradient_without_calling_f(analytic, pattern):
    counted = Counted(lambda w: float(np.sum(w)))
    result = check_gradient(counted, np.ones((2, 3)), analytic)
    assert not result.ok and result.forward_calls == counted.calls == 0
    assert matches(pattern, result.message)


def test_f_that_writes_to_its_input_does_not_disturb_the_check():
    def f(w):
        value = float(np.sum(w**2))
        w[:] = 0.0
        return value

    w = np.array([1.0, -2.0, 0.5])
    assert check_gradient(f, w, 2 * w).ok


# ---------------------------------------------------------------------------------------------
# diagnose
# ---------------------------------------------------------------------------------------------

GRAD = np.random.default_rng(11).standard_normal((6, 4))


@pytest.mark.parametrize(
    ("actual", "pattern"),
    [
        (GRAD * 8, r"^This looks like the gradient without the 1/B factor \(it is B = 8 times too large\): "),
        (GRAD / 8, r"^This looks like the gradient divided by B twice \(it is B = 8 times too small\)"),
        (GRAD * 2, r"^This looks like the gradient times 2: "),
        (GRAD / 2, r"^This looks like half of the gradient: "),
        (-GRAD, r"^This looks like the gradient with the wrong sign: "),
        (
            (GRAD * 8).T,
            r"^It is transposed \(shape \(4, 6\) instead of \(6, 4\)\), and once transposed it looks "
            r"like the gradient without the 1/B factor",
        ),
        (GRAD.T, r"^It is transposed \(shape \(4, 6\) instead of \(6, 4\)\): a weight's gradient"),
    ],
)
def test_generic_mistakes_on_random_data(actual, pattern):
    assert matches(pattern, diagnose(actual.astype(np.float32), GRAD, batch_size=8))


def test_nothing_is_claimed_without_a_match():
    assert diagnose(np.random.default_rng(12).standard_normal(GRAD.shape), GRAD, batch_size=8) is None
    assert diagnose(GRAD * 3, GRAD, batch_size=8) is None
    assert diagnose(GRAD * 8, GRAD) is None  # without B there is no 1/B to miss
    assert diagnose(GRAD.astype(np.float32), GRAD, batch_size=8) is None  # correct
    assert diagnose(None, GRAD) is None and diagnose("grad", GRAD) is None
    assert diagnose(np.full(GRAD.shape, np.nan), GRAD) is None
    assert diagnose(np.zeros(GRAD.shape), np.zeros(GRAD.shape), batch_size=8) is None
    assert diagnose(np.ones(GRAD.shape), np.zeros(GRAD.shape), batch_size=8) is None
    with pytest.raises(ValueError, match="batch_size"):
        diagnose(GRAD, GRAD, batch_size=0)


def test_a_tie_goes_to_the_first_candidate():
    # With B = 2, "missing 1/B" and "times 2" are the same gradient; the batch explanation is listed first.
    assert "without the 1/B factor" in diagnose(GRAD * 2, GRAD, batch_size=2)


@pytest.fixture(scope="module")
def small_mlp():
    rng = np.random.default_rng(4)
    batch, dim, hidden = 16, 20, 12
    x, y = mnist_like(rng, batch, dim), rng.integers(0, 5, batch)
    w1, w_sm = he(rng, dim, hidden), he(rng, hidden, 5)
    expected = mlp_backward(x, y, w1, w_sm, np.float64)
    np.testing.assert_allclose(expected[3], torch_mlp_grad_w1(x, y, w1, w_sm), rtol=1e-10, atol=1e-15)
    return (x, y, w1, w_sm), expected


def test_mistakes_made_through_the_formulas_in_float32(small_mlp):
    inputs, (_, _, _, dw1) = small_mlp
    student = mlp_backward(*inputs, np.float32)
    no_batch_mean = mlp_backward(*inputs, np.float32, per_batch=False)
    flipped = mlp_backward(*inputs, np.float32, sign=-1.0)
    assert diagnose(student[3], dw1, batch_size=16) is None
    assert "without the 1/B factor (it is B = 16 times" in diagnose(no_batch_mean[3], dw1, batch_size=16)
    assert "wrong sign" in diagnose(flipped[3], dw1, batch_size=16)
    x32 = inputs[0].astype(np.float32)
    for got, start in [
        (student[2].T @ x32, "It is transposed (shape (12, 20) instead"),
        (student[3] + student[3], "This looks like the gradient times 2"),
        (no_batch_mean[3] / 16 / 16, "This looks like the gradient divided by B twice"),
    ]:
        assert diagnose(got, dw1, batch_size=16).startswith(start)


def test_bias_gradients_reduced_over_the_wrong_axis(small_mlp):
    _, (_, _, d_pre, _) = small_mlp
    db1 = d_pre.sum(axis=0)  # (12,)
    message = diagnose(d_pre, db1, batch_size=16)
    assert message.startswith(
        "It has shape (16, 12), one entry per example along axis 0, where (12,) was expected"
    )
    assert "sum over axis 0" in message
    assert "sum over axis 1" in diagnose(d_pre.T, db1, batch_size=16)  # (12, 16): the batch is axis 1
    # Without B it is still a fact about shapes.
    assert "a sum over axis 0 (of length 16) is missing" in diagnose(d_pre, db1)
    message = diagnose(d_pre.sum(axis=1), db1, batch_size=16)
    assert message.startswith("It has shape (16,), one value per example, where (12,) was expected")
    assert "summed over the wrong axis" in message
    assert diagnose(d_pre.sum(axis=1), db1) is None  # without B, (16,) is just another wrong shape
    assert "summed (or averaged) over axis 0 (of length 16)" in diagnose(db1, d_pre, batch_size=16)
    assert diagnose(db1[None, :], db1, batch_size=16) is None  # a stray axis of 1 is assert_close's to name


def test_transposed_square_matrices(small_mlp):
    x, y, _, _ = small_mlp[0]  # 20 inputs, so a 20-wide hidden layer makes dW1 square
    rng = np.random.default_rng(5)
    w1, w_sm = he(rng, 20, 20), he(rng, 20, 5)
    dw = mlp_backward(x, y, w1, w_sm, np.float64)[3]
    assert not np.allclose(dw, dw.T)
    d_pre32 = mlp_backward(x, y, w1, w_sm, np.float32)[2]
    message = diagnose(d_pre32.T @ x.astype(np.float32), dw, batch_size=16)
    assert message.startswith("This looks like the transpose of the gradient: ")
    message = diagnose((dw * 16).T, dw, batch_size=16)
    assert message.startswith(
        "It is transposed, and once transposed it looks like the gradient without the 1/B"
    )
    symmetric = dw + dw.T
    assert diagnose(symmetric.T, symmetric, batch_size=16) is None  # its transpose is itself: correct


def test_variants_are_recognised_and_the_closest_wins(small_mlp):
    inputs, (_, _, _, dw1) = small_mlp
    variants = {
        "the ReLU mask is missing": mlp_backward(*inputs, np.float64, mask=False)[3],
        "the ReLU mask is applied to the wrong tensor (after the ReLU instead of before)": dw1 * 0.7,
    }
    no_mask = mlp_backward(*inputs, np.float32, mask=False)[3]
    message = diagnose(no_mask, dw1, batch_size=16, variants=variants)
    assert message == "This looks like the gradient you get when the ReLU mask is missing."
    assert diagnose(no_mask, dw1, batch_size=16) is None  # without the variant, nothing generic fits

    near, nearer = {"A is wrong": dw1 * 3 * (1 + 3e-5)}, {"B is wrong": dw1 * 3}
    student = (dw1 * 3).astype(np.float32)
    for ordered in ({**near, **nearer}, {**nearer, **near}):
        assert diagnose(student, dw1, variants=ordered).endswith("you get when B is wrong.")
    # A variant of another shape is compared with a student's gradient of that shape.
    shaped = {"the gradient was not summed over the batch.": np.ones((16, 12))}
    assert "not summed over the batch" in diagnose(np.ones((16, 12)), np.ones(12), variants=shaped)


def test_assert_gradient_close_appends_the_diagnosis():
    assert_gradient_close(GRAD.astype(np.float32), GRAD, name="dW1", batch_size=8)
    message = failure(assert_gradient_close, GRAD * 8, GRAD, name="dW1", batch_size=8)
    assert matches(
        r"^`dW1` is wrong: 24 of 24 entries differ; .* This looks like the gradient without the 1/B", message
    )
    random = np.random.default_rng(13).standard_normal(GRAD.shape)
    plain = failure(assert_close, random, GRAD, name="dW1")
    assert failure(assert_gradient_close, random, GRAD, name="dW1") == plain
