"""Reference solution for hw2 (contract: shared/spec/hw2.md), in numpy.

Q1 is the scalar graph f = sigmoid(w1*x1 + w2*x2) + 0.5*(w1**2 + w2**2); Q3 is a softmax
classifier and two MLPs on MNIST, each written as one `forward_and_backward` function that
stores its gradients in a `Parameters` object. Names, signatures and conventions are fixed by
real submissions (including the `accumlate_grad` spelling), so they must not change.

Every function here computes in the promoted float dtype of its inputs and never writes to
its input arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

# ---------------------------------------------------------------------------------------------
# Q1: the scalar computation graph
# ---------------------------------------------------------------------------------------------


def _sigmoid(u: float) -> float:
    # Two branches so that exp never overflows, whatever the sign of u.
    if u >= 0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


def q1_forward(x1: float, x2: float, w1: float, w2: float) -> float:
    """f(x1, x2, w1, w2) = sigmoid(w1*x1 + w2*x2) + 0.5*(w1**2 + w2**2)."""
    return _sigmoid(w1 * x1 + w2 * x2) + 0.5 * (w1 * w1 + w2 * w2)


def _sigmoid_slope(x1: float, x2: float, w1: float, w2: float) -> float:
    """s(1 - s) at u = w1*x1 + w2*x2: the sigmoid's local derivative, shared by all four partials."""
    s = _sigmoid(w1 * x1 + w2 * x2)
    return s * (1.0 - s)


def g_w1(x1: float, x2: float, w1: float, w2: float) -> float:
    """df/dw1 = x1 * s(1 - s) + w1 (the regulariser contributes w1)."""
    return x1 * _sigmoid_slope(x1, x2, w1, w2) + w1


def g_w2(x1: float, x2: float, w1: float, w2: float) -> float:
    """df/dw2 = x2 * s(1 - s) + w2."""
    return x2 * _sigmoid_slope(x1, x2, w1, w2) + w2


def g_x1(x1: float, x2: float, w1: float, w2: float) -> float:
    """df/dx1 = w1 * s(1 - s) (the regulariser does not depend on x)."""
    return w1 * _sigmoid_slope(x1, x2, w1, w2)


def g_x2(x1: float, x2: float, w1: float, w2: float) -> float:
    """df/dx2 = w2 * s(1 - s)."""
    return w2 * _sigmoid_slope(x1, x2, w1, w2)


Q1_START = {"x1": 0.2, "x2": 0.4, "w1": 0.3, "w2": -0.5}
Q1_STEP = 0.01
Q1_STEPS = 30


def q1_descent(
    x1: float = Q1_START["x1"],
    x2: float = Q1_START["x2"],
    w1: float = Q1_START["w1"],
    w2: float = Q1_START["w2"],
    lr: float = Q1_STEP,
    steps: int = Q1_STEPS,
    grad_w1: Callable[[float, float, float, float], float] = g_w1,
    grad_w2: Callable[[float, float, float, float], float] = g_w2,
) -> tuple[list[float], list[float]]:
    """Gradient descent on (w1, w2) with the inputs fixed; returns the steps+1 values of each weight.

    Both gradients are taken at the same point before either weight moves (a simultaneous
    update). The gradient functions are parameters so a grader can drive a student's own.
    """
    w1s, w2s = [float(w1)], [float(w2)]
    for _ in range(steps):
        d1 = grad_w1(x1, x2, w1, w2)
        d2 = grad_w2(x1, x2, w1, w2)
        w1, w2 = w1 - lr * d1, w2 - lr * d2
        w1s.append(float(w1))
        w2s.append(float(w2))
    return w1s, w2s


# ---------------------------------------------------------------------------------------------
# Given helper code (students have their own copy; these are ours)
# ---------------------------------------------------------------------------------------------


def row_logsumexp(x: np.ndarray) -> np.ndarray:
    """log(sum(exp(x), axis=1)) of x (B, C), kept as (B, 1); stable for entries of any magnitude."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"row_logsumexp expects a (B, C) array, got shape {x.shape}")
    m = x.max(axis=1, keepdims=True)
    return m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))


class Parameters:
    """Named weights (`param`) and their accumulated gradients (`grad`), both str -> ndarray."""

    def __init__(self) -> None:
        self.param: dict[str, np.ndarray] = {}
        self.grad: dict[str, np.ndarray] = {}

    def set_param(self, key: str, array: np.ndarray) -> None:
        """Store `array` under `key` with a zero gradient of the same shape and dtype."""
        self.param[key] = array
        self.grad[key] = np.zeros_like(array)

    def get_param(self, key: str) -> np.ndarray:
        """The array stored under `key`."""
        return self.param[key]

    def accumlate_grad(self, key: str, grad: np.ndarray) -> None:
        """Add `grad` into the gradient of `key` (spelled as in the real handout)."""
        if key not in self.grad:
            raise KeyError(f"no parameter named {key!r}; set it with set_param first")
        grad = np.asarray(grad)
        if grad.shape != self.grad[key].shape:
            raise ValueError(
                f"gradient for {key!r} has shape {grad.shape}, parameter has shape {self.grad[key].shape}"
            )
        self.grad[key] += grad

    # The correctly spelled name, for code that uses it.
    accumulate_grad = accumlate_grad

    def zero_grad(self) -> None:
        """Reset every gradient to zeros."""
        for key, g in self.grad.items():
            self.grad[key] = np.zeros_like(g)

    def apply_grad(self, learning_rate: float) -> None:
        """One plain SGD step: param -= learning_rate * grad, for every parameter."""
        for key in self.param:
            self.param[key] -= learning_rate * self.grad[key]


def init_linear(in_dim: int, out_dim: int) -> np.ndarray:
    """He-initialised (in_dim, out_dim) weight matrix; reseeded with 0 on every call, as in the handout."""
    return np.random.RandomState(0).randn(in_dim, out_dim) * math.sqrt(2.0 / in_dim)


# ---------------------------------------------------------------------------------------------
# Q3: three models. Each returns (loss, probs); gradients go into `param`.
# ---------------------------------------------------------------------------------------------


def _check_batch(batch_x: np.ndarray, batch_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    batch_x = np.asarray(batch_x)
    batch_y = np.asarray(batch_y)
    if batch_x.ndim != 2:
        raise ValueError(f"batch_x must be (B, D), got shape {batch_x.shape}")
    if batch_y.shape != (batch_x.shape[0],):
        raise ValueError(f"batch_y must be ({batch_x.shape[0]},) labels, got shape {batch_y.shape}")
    return batch_x, batch_y


def _softmax_loss(scores: np.ndarray, batch_y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of scores (B, C) against labels (B,), and the softmax probabilities (B, C).

    Working in log space (scores - logsumexp) keeps both finite for scores of magnitude 1e4.
    """
    log_probs = scores - row_logsumexp(scores)
    loss = -float(np.mean(log_probs[np.arange(scores.shape[0]), batch_y]))
    return loss, np.exp(log_probs)


def _softmax_loss_backward(probs: np.ndarray, batch_y: np.ndarray) -> np.ndarray:
    """d(mean cross-entropy)/d scores = (probs - onehot(y)) / B, shape (B, C)."""
    d_scores = probs.copy()
    d_scores[np.arange(probs.shape[0]), batch_y] -= 1.0
    return d_scores / probs.shape[0]


def linear_classifier_forward_and_backward(
    batch_x: np.ndarray, batch_y: np.ndarray, param: Parameters, grad: bool = True
) -> tuple[float, np.ndarray]:
    """Softmax regression s = x @ w_sm, w_sm (D, C); batch_x (B, D), batch_y (B,) -> (loss, probs (B, C))."""
    param.zero_grad()
    batch_x, batch_y = _check_batch(batch_x, batch_y)
    w_sm = param.get_param("w_sm")

    scores = batch_x @ w_sm
    loss, probs = _softmax_loss(scores, batch_y)
    if not grad:
        return loss, probs

    d_scores = _softmax_loss_backward(probs, batch_y)
    param.accumlate_grad("w_sm", batch_x.T @ d_scores)
    return loss, probs


def mlp_single_hidden_forward_and_backward(
    batch_x: np.ndarray, batch_y: np.ndarray, param: Parameters, grad: bool = True
) -> tuple[float, np.ndarray]:
    """h = ReLU(x @ w1 + b1); s = h @ w_sm. w1 (D, H), b1 (H,), w_sm (H, C); returns (loss, probs (B, C))."""
    param.zero_grad()
    batch_x, batch_y = _check_batch(batch_x, batch_y)
    w1, b1, w_sm = (param.get_param(k) for k in ("w1", "b1", "w_sm"))

    pre = batch_x @ w1 + b1
    hidden = np.maximum(pre, 0)
    scores = hidden @ w_sm
    loss, probs = _softmax_loss(scores, batch_y)
    if not grad:
        return loss, probs

    d_scores = _softmax_loss_backward(probs, batch_y)
    d_pre = (d_scores @ w_sm.T) * (pre > 0)
    param.accumlate_grad("w_sm", hidden.T @ d_scores)
    param.accumlate_grad("w1", batch_x.T @ d_pre)
    param.accumlate_grad("b1", d_pre.sum(axis=0))
    return loss, probs


def mlp_two_hidden_forward_and_backward(
    batch_x: np.ndarray, batch_y: np.ndarray, param: Parameters, grad: bool = True
) -> tuple[float, np.ndarray]:
    """h1 = ReLU(x@w1 + b1); h2 = h1 + ReLU(h1@w2 + b2); s = h2@w_sm.

    Shapes: w1 (D, H), b1 (H,), w2 (H, H), b2 (H,), w_sm (H, C); returns (loss, probs (B, C)).
    The skip connection adds h1 after the second ReLU, so its gradient reaches h1 twice.
    """
    param.zero_grad()
    batch_x, batch_y = _check_batch(batch_x, batch_y)
    w1, b1, w2, b2, w_sm = (param.get_param(k) for k in ("w1", "b1", "w2", "b2", "w_sm"))

    pre1 = batch_x @ w1 + b1
    h1 = np.maximum(pre1, 0)
    pre2 = h1 @ w2 + b2
    h2 = h1 + np.maximum(pre2, 0)
    scores = h2 @ w_sm
    loss, probs = _softmax_loss(scores, batch_y)
    if not grad:
        return loss, probs

    d_scores = _softmax_loss_backward(probs, batch_y)
    d_h2 = d_scores @ w_sm.T
    d_pre2 = d_h2 * (pre2 > 0)
    d_h1 = d_h2 + d_pre2 @ w2.T  # identity path of the skip + path through the residual branch
    d_pre1 = d_h1 * (pre1 > 0)
    param.accumlate_grad("w_sm", h2.T @ d_scores)
    param.accumlate_grad("w2", h1.T @ d_pre2)
    param.accumlate_grad("b2", d_pre2.sum(axis=0))
    param.accumlate_grad("w1", batch_x.T @ d_pre1)
    param.accumlate_grad("b1", d_pre1.sum(axis=0))
    return loss, probs


ForwardAndBackward = Callable[..., tuple[float, np.ndarray]]

MODELS: dict[str, ForwardAndBackward] = {
    "linear": linear_classifier_forward_and_backward,
    "single_hidden": mlp_single_hidden_forward_and_backward,
    "two_hidden": mlp_two_hidden_forward_and_backward,
}


def init_params(model: str, in_dim: int, hidden: int, classes: int = 10) -> Parameters:
    """The handout's initialisation for `model` (a key of MODELS): init_linear weights, zero biases."""
    params = Parameters()
    if model == "linear":
        params.set_param("w_sm", init_linear(in_dim, classes))
    elif model == "single_hidden":
        params.set_param("w1", init_linear(in_dim, hidden))
        params.set_param("b1", np.zeros(hidden))
        params.set_param("w_sm", init_linear(hidden, classes))
    elif model == "two_hidden":
        params.set_param("w1", init_linear(in_dim, hidden))
        params.set_param("b1", np.zeros(hidden))
        params.set_param("w2", init_linear(hidden, hidden))
        params.set_param("b2", np.zeros(hidden))
        params.set_param("w_sm", init_linear(hidden, classes))
    else:
        raise ValueError(f"unknown model {model!r}; expected one of {sorted(MODELS)}")
    return params


def accuracy(
    forward_and_backward: ForwardAndBackward, params: Parameters, x: np.ndarray, y: np.ndarray
) -> float:
    """Fraction of rows of x (N, D) whose argmax probability equals the label in y (N,)."""
    _, probs = forward_and_backward(x, y, params, grad=False)
    return float(np.mean(probs.argmax(axis=1) == y))


def main_training(
    params: Parameters,
    forward_and_backward: ForwardAndBackward,
    train_x: np.ndarray,
    train_y: np.ndarray,
    dev_x: np.ndarray,
    dev_y: np.ndarray,
    batch_size: int,
    learning_rate: float,
    nb_epochs: int,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Plain SGD over consecutive batches (no reshuffling); returns dev accuracy after each epoch.

    train_x (N, D), train_y (N,), dev_x (M, D), dev_y (M,). A final short batch is used as is.
    `on_epoch(epoch, dev_accuracy)`, if given, is called after each epoch (for progress display).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dev_accuracies: list[float] = []
    for epoch in range(nb_epochs):
        for start in range(0, len(train_x), batch_size):
            forward_and_backward(
                train_x[start : start + batch_size], train_y[start : start + batch_size], params
            )
            params.apply_grad(learning_rate)
        dev_accuracies.append(accuracy(forward_and_backward, params, dev_x, dev_y))
        if on_epoch is not None:
            on_epoch(epoch + 1, dev_accuracies[-1])
    return dev_accuracies


HANDOUT = {"batch_size": 50, "learning_rate": 0.005, "nb_epochs": 20, "hidden": 392}
