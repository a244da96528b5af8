"""Independent oracles for the reference tests: central differences and torch autograd.

Nothing here calls the reference; tests compare the reference against these.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Numerical gradient of a scalar function f at x (any shape, float64), one entry at a time."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = float(f(x))
        flat[i] = old - eps
        minus = float(f(x))
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise relative error, with a floor so exact zeros do not divide by zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def torch_grads(fn, *arrays: np.ndarray):
    """Evaluate fn on float64 torch leaves built from arrays; return (value, [grad per array]).

    fn must build a scalar from the tensors with torch operations only.
    """
    import torch

    leaves = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward()
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]
