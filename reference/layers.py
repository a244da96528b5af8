"""Layer-by-layer forward and backward passes in numpy (the cs231n pattern).

Every `X_forward(...)` returns `(out, cache)`; `X_backward(dout, cache)` sits directly beneath it
and returns the gradient(s) with respect to the forward's array inputs. The cache is opaque: it
holds references to the forward's inputs and results, so it is only valid while those are unchanged.

Conventions shared by every function here:
- inputs are never written to; all results are fresh arrays;
- integer inputs are promoted to float64, float inputs keep their dtype, and each gradient has the
  dtype of the input it belongs to (float32 in, float32 out);
- a shape mismatch raises ValueError naming both shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Cache = tuple[Any, ...]


def _as_float(a: Any, what: str) -> np.ndarray:
    """View `a` as an array of floats without copying float input; ints and bools become float64."""
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating):
        return a
    if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        return a.astype(np.float64)
    raise ValueError(f"{what} must hold real numbers, got dtype {a.dtype}")


def _check_same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{a_name} has shape {a.shape} but {b_name} has shape {b.shape}; they must match")


def _check_ndim(a: np.ndarray, ndim: int, what: str, layout: str) -> None:
    if a.ndim != ndim:
        raise ValueError(f"{what} must be {layout}, got shape {a.shape}")


def _check_scalar(d: Any, what: str) -> np.ndarray:
    d = _as_float(d, what)
    if d.ndim != 0:
        raise ValueError(f"{what} must be a scalar (the loss is a scalar), got shape {d.shape}")
    return d


# ---------------------------------------------------------------------------------------------
# Affine layer
# ---------------------------------------------------------------------------------------------


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """out = x @ w + b for a batch of row vectors: x (N, D), w (D, M), b (M,) -> out (N, M)."""
    x, w, b = _as_float(x, "x"), _as_float(w, "w"), _as_float(b, "b")
    _check_ndim(x, 2, "x", "(N, D)")
    _check_ndim(w, 2, "w", "(D, M)")
    _check_ndim(b, 1, "b", "(M,)")
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"x (N, D) has shape {x.shape} but w (D, M) has shape {w.shape}: D differs")
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"w (D, M) has shape {w.shape} but b (M,) has shape {b.shape}: M differs")
    return x @ w + b, (x, w, b)


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine layer: dout (N, M) -> dx (N, D), dw (D, M), db (M,)."""
    x, w, b = cache
    dout = _as_float(dout, "dout")
    out_shape = (x.shape[0], w.shape[1])
    if dout.shape != out_shape:
        raise ValueError(f"dout has shape {dout.shape} but the layer output has shape {out_shape}")
    dx = dout @ w.T
    dw = x.T @ dout
    # b was broadcast over the N rows, so every row's gradient flows back into it.
    db = dout.sum(axis=0)
    return dx.astype(x.dtype, copy=False), dw.astype(w.dtype, copy=False), db.astype(b.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Elementwise activations: x and out have any shape, the same one.
# ---------------------------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """out = max(x, 0) elementwise; x any shape -> out the same shape."""
    x = _as_float(x, "x")
    return np.maximum(x, 0).astype(x.dtype, copy=False), (x,)


def relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dx = dout where x > 0, else 0 (so the slope taken at exactly 0 is 0); dout shaped like x."""
    (x,) = cache
    dout = _as_float(dout, "dout")
    _check_same_shape(dout, x, "dout", "x")
    return np.where(x > 0, dout, 0).astype(x.dtype, copy=False)


def leaky_relu_forward(x: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, Cache]:
    """out = x where x >= 0, alpha * x elsewhere; x any shape -> out the same shape."""
    x = _as_float(x, "x")
    slope = _leaky_slope(x, alpha)
    return (x * slope).astype(x.dtype, copy=False), (x, alpha)


def leaky_relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dx = dout * (1 if x >= 0 else alpha); dout shaped like x.

    At exactly x = 0 the slope is taken as 1, the convention of the exam solution (seed 003,
    question 2.6). torch's leaky_relu uses alpha there instead, so the two differ only at 0.
    """
    x, alpha = cache
    dout = _as_float(dout, "dout")
    _check_same_shape(dout, x, "dout", "x")
    return (dout * _leaky_slope(x, alpha)).astype(x.dtype, copy=False)


def _leaky_slope(x: np.ndarray, alpha: float) -> np.ndarray:
    # Built in x's dtype so a float64 alpha cannot silently widen float32 activations.
    return np.where(x >= 0, x.dtype.type(1), x.dtype.type(alpha))


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """out = 1 / (1 + exp(-x)) elementwise; x any shape -> out the same shape, values in [0, 1]."""
    x = _as_float(x, "x")
    # exp(-|x|) lies in (0, 1], so it can only underflow (harmlessly, to 0), never overflow;
    # the two formulas below are the same function rewritten for each sign of x.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out.astype(x.dtype, copy=False), (out.astype(x.dtype, copy=False),)


def sigmoid_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dx = dout * s * (1 - s) with s the forward output; dout shaped like x."""
    (s,) = cache
    dout = _as_float(dout, "dout")
    _check_same_shape(dout, s, "dout", "x")
    return (dout * s * (1 - s)).astype(s.dtype, copy=False)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """out = tanh(x) elementwise; x any shape -> out the same shape, values in [-1, 1]."""
    x = _as_float(x, "x")
    out = np.tanh(x)
    return out, (out,)


def tanh_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dx = dout * (1 - t**2) with t the forward output; dout shaped like x."""
    (t,) = cache
    dout = _as_float(dout, "dout")
    _check_same_shape(dout, t, "dout", "x")
    return (dout * (1 - t * t)).astype(t.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Softmax
# ---------------------------------------------------------------------------------------------


def _check_scores(s: np.ndarray) -> None:
    _check_ndim(s, 2, "scores", "(N, C)")
    if s.shape[1] == 0:
        raise ValueError(f"scores (N, C) need at least one class, got shape {s.shape}")


def _row_log_softmax(s: np.ndarray) -> np.ndarray:
    """log softmax of each row of s (N, C) -> (N, C), finite for scores of any finite magnitude."""
    # After subtracting the row max the largest exponent is exp(0) = 1, so the sum is in [1, C]
    # and its log cannot overflow nor hit log(0).
    shifted = s - s.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_forward(s: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Row-wise softmax: scores s (N, C) -> probs (N, C), each row positive and summing to 1."""
    s = _as_float(s, "scores")
    _check_scores(s)
    shifted = np.exp(s - s.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    return probs, (probs,)


def softmax_backward(dprobs: np.ndarray, cache: Cache) -> np.ndarray:
    """Jacobian-vector product of the row softmax: dprobs (N, C) -> ds (N, C).

    Works for any upstream gradient, not only the one cross-entropy sends. With J = diag(p) - p p^T
    per row, J^T g = p * (g - <g, p>), which avoids building the (C, C) matrix.
    """
    (p,) = cache
    dprobs = _as_float(dprobs, "dprobs")
    _check_same_shape(dprobs, p, "dprobs", "probs")
    inner = (dprobs * p).sum(axis=1, keepdims=True)
    return (p * (dprobs - inner)).astype(p.dtype, copy=False)


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """Full Jacobian of softmax at one vector z (K,) -> J (K, K) with J[k, i] = d softmax(z)_k / d z_i.

    The diagonal is p_k (1 - p_k) and each off-diagonal entry is -p_k p_i (seed 003, 2.2 and 2.3).
    """
    z = _as_float(z, "z")
    _check_ndim(z, 1, "z", "(K,)")
    (p,), _ = softmax_forward(z[None, :])
    return np.diag(p) - np.outer(p, p)


def softmax_cross_entropy_forward(s: np.ndarray, y: np.ndarray) -> tuple[np.floating, Cache]:
    """Mean cross-entropy of row softmax: scores s (N, C), int labels y (N,) in [0, C) -> scalar loss.

    The loss is taken from log-probabilities (log-sum-exp), never from log(softmax), so scores of
    magnitude 1e4 still give a finite, exact loss instead of log(0).
    """
    s = _as_float(s, "scores")
    _check_scores(s)
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels y must be integers, got dtype {y.dtype}")
    if y.shape != (s.shape[0],):
        raise ValueError(f"labels y must have shape ({s.shape[0]},) to match scores {s.shape}, got {y.shape}")
    if s.shape[0] == 0:
        raise ValueError("cannot average a loss over an empty batch (N = 0)")
    if y.min() < 0 or y.max() >= s.shape[1]:
        raise ValueError(f"labels y must lie in [0, {s.shape[1]}), got values from {y.min()} to {y.max()}")
    log_probs = _row_log_softmax(s)
    loss = -log_probs[np.arange(s.shape[0]), y].mean()
    return loss, (np.exp(log_probs), y)


def softmax_cross_entropy_backward(dloss: float, cache: Cache) -> np.ndarray:
    """ds (N, C) = dloss * (probs - onehot(y)) / N, where dloss is the scalar upstream gradient."""
    probs, y = cache
    dloss = _check_scalar(dloss, "dloss")
    n = probs.shape[0]
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), y] = 1
    return (dloss * (probs - onehot) / n).astype(probs.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Squared error, in the seeds' convention
# ---------------------------------------------------------------------------------------------


def mse_forward(pred: np.ndarray, target: np.ndarray) -> tuple[np.floating, Cache]:
    """E = 1/2 * sum((pred - target)**2) over all entries; pred and target of one shape -> scalar.

    This is a SUM with a factor 1/2, as in the seeds, not the mean that the name usually means:
    the 1/2 cancels the 2 of the derivative and no division by the number of entries happens.
    """
    pred, target = _as_float(pred, "pred"), _as_float(target, "target")
    # No broadcasting: a (N,) target against (N, 1) predictions would silently give an (N, N) error.
    _check_same_shape(pred, target, "pred", "target")
    diff = pred - target
    return 0.5 * np.sum(diff * diff), (diff, pred.dtype)


def mse_backward(dE: float, cache: Cache) -> np.ndarray:
    """dpred = dE * (pred - target), shaped like pred; the gradient for target is its negative."""
    diff, pred_dtype = cache
    dE = _check_scalar(dE, "dE")
    return (dE * diff).astype(pred_dtype, copy=False)
