"""Gradients of the hw2 MLPs as they come out with typical mistakes, for diagnosing wrong answers.

Computed in the trusted grader with numpy, from the same formulas as the reference backward
but with one step done wrong. The generic mistakes (a missing 1/B, a factor 2, a sign, a
transpose, a wrong axis) are recognised by graders.engine.checks.diagnose on its own.
"""

from __future__ import annotations

import numpy as np

from reference.hw2 import row_logsumexp


def _softmax_grad(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    probs = np.exp(scores - row_logsumexp(scores))
    probs[np.arange(len(y)), y] -= 1.0
    return probs / len(y)


def single_hidden_variants(x, y, p) -> dict[str, dict[str, np.ndarray]]:
    """Mistake description -> the gradients mlp_single_hidden would produce with that mistake."""
    pre = x @ p["w1"] + p["b1"]
    hidden = np.maximum(pre, 0)
    d_scores = _softmax_grad(hidden @ p["w_sm"], y)
    d_hidden = d_scores @ p["w_sm"].T
    return {
        "the ReLU's mask is missing in the backward pass (the gradient must be zero where the "
        "pre-activation is negative)": {"w1": x.T @ d_hidden, "b1": d_hidden.sum(axis=0)},
    }


def two_hidden_variants(x, y, p) -> dict[str, dict[str, np.ndarray]]:
    """Mistake description -> the gradients mlp_two_hidden would produce with that mistake."""
    pre1 = x @ p["w1"] + p["b1"]
    h1 = np.maximum(pre1, 0)
    pre2 = h1 @ p["w2"] + p["b2"]
    h2 = h1 + np.maximum(pre2, 0)
    d_h2 = _softmax_grad(h2 @ p["w_sm"], y) @ p["w_sm"].T
    variants = {}

    def grads(d_pre2, d_h1):
        d_pre1 = d_h1 * (pre1 > 0)
        return {"w2": h1.T @ d_pre2, "b2": d_pre2.sum(axis=0), "w1": x.T @ d_pre1, "b1": d_pre1.sum(axis=0)}

    correct_pre2 = d_h2 * (pre2 > 0)
    variants[
        "the skip connection's gradient is missing: h1 receives gradient both through the second "
        "layer and directly through the skip (d_h1 = d_h2 + d_pre2 @ w2.T)"
    ] = grads(correct_pre2, correct_pre2 @ p["w2"].T)
    wrong_mask = d_h2 * (h2 > 0)
    variants[
        "the second ReLU's mask is taken from the wrong tensor: use the pre-activation "
        "h1 @ w2 + b2, not the sum after the skip connection"
    ] = grads(wrong_mask, d_h2 + wrong_mask @ p["w2"].T)
    no_mask = d_h2
    variants["the second ReLU's mask is missing in the backward pass"] = grads(
        no_mask, d_h2 + no_mask @ p["w2"].T
    )
    first_no_mask = {**grads(correct_pre2, d_h2 + correct_pre2 @ p["w2"].T)}
    d_h1 = d_h2 + correct_pre2 @ p["w2"].T
    first_no_mask.update(w1=x.T @ d_h1, b1=d_h1.sum(axis=0))
    variants["the first ReLU's mask is missing in the backward pass"] = first_no_mask
    return variants


VARIANTS = {"single_hidden": single_hidden_variants, "two_hidden": two_hidden_variants}


def variants_for(model: str, key: str, x, y, params, correct: np.ndarray) -> dict[str, np.ndarray]:
    """Mistake description -> that mistake's gradient for parameter `key`, where it differs from `correct`.

    A mistake that leaves this parameter's gradient right (the skip path does not change w2's)
    must not be offered as an explanation for it.
    """
    if model not in VARIANTS:
        return {}
    x = np.asarray(x, dtype=np.float64)
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    found = VARIANTS[model](x, y, params)
    return {
        why: g[key]
        for why, g in found.items()
        if key in g and not np.allclose(g[key], correct, rtol=1e-9, atol=1e-12)
    }
