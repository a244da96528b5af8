"""Random Q3 problems and what the reference makes of them, for the hw2 grader's tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from graders.engine.checks import tolerances
from graders.engine.kit_replay import stands_in_for
from graders.hw2 import Q3_FUNCTIONS
from reference import hw2

PARAM_SHAPES = {
    "linear": lambda d, h, c: {"w_sm": (d, c)},
    "single_hidden": lambda d, h, c: {"w1": (d, h), "b1": (h,), "w_sm": (h, c)},
    "two_hidden": lambda d, h, c: {"w1": (d, h), "b1": (h,), "w2": (h, h), "b2": (h,), "w_sm": (h, c)},
}


@dataclass(frozen=True)
class Problem:
    """One batch and one set of weights for a model, with the reference's answers."""

    model: str
    x: np.ndarray  # (B, D)
    y: np.ndarray  # (B,)
    params: dict  # key -> array, the shapes of PARAM_SHAPES
    loss: float
    probs: np.ndarray  # (B, C)
    grads: dict  # key -> float64 gradient

    @property
    def function(self) -> str:
        return Q3_FUNCTIONS[self.model]

    @property
    def tolerance(self) -> dict:
        """rtol/atol for comparing answers: the student computes from inputs of this problem's dtype."""
        rtol, atol = tolerances(self.x.dtype)
        return {"rtol": rtol, "atol": atol}


@lru_cache(maxsize=None)
def problem(
    model: str, b: int, d: int, h: int, dtype: str = "float64", seed: int = 0, logit_scale: float = 0.0
) -> Problem:
    """A reproducible problem; logit_scale > 0 rescales w_sm so the largest score is about that big."""
    rng = np.random.default_rng([seed, b, d, h])
    params = {}
    for key, shape in PARAM_SHAPES[model](d, h, 10).items():
        scale = np.sqrt(2.0 / shape[0]) if len(shape) == 2 else 0.1
        params[key] = (rng.normal(size=shape) * scale).astype(dtype)
    x = rng.normal(size=(b, d)).astype(dtype)
    y = rng.integers(0, 10, size=b)
    if logit_scale:
        scores = _scores(model, x.astype(np.float64), {k: v.astype(np.float64) for k, v in params.items()})
        params["w_sm"] = (params["w_sm"] * (logit_scale / np.abs(scores).max())).astype(dtype)
    ref = hw2.Parameters()
    for key, value in params.items():
        ref.set_param(key, value.astype(np.float64))
    loss, probs = hw2.MODELS[model](x.astype(np.float64), y, ref)
    return Problem(model, x, y, params, loss, probs, {k: g.copy() for k, g in ref.grad.items()})


def _scores(model: str, x: np.ndarray, p: dict) -> np.ndarray:
    if model == "linear":
        return x @ p["w_sm"]
    h1 = np.maximum(x @ p["w1"] + p["b1"], 0)
    if model == "single_hidden":
        return h1 @ p["w_sm"]
    return (h1 + np.maximum(h1 @ p["w2"] + p["b2"], 0)) @ p["w_sm"]


@stands_in_for("graders.hw2.training.accuracy")
def dev_accuracy(model: str, weights: dict, split) -> float:
    """Dev accuracy of `weights` from the handout's formulas: the most probable class has the largest score.

    The student kit holds no reference forward pass, so it measures the weights a student's code
    trained with this; `nngrade kit` checks that it agrees with training.accuracy on every call.
    """
    p = {key: np.asarray(value, dtype=np.float64) for key, value in weights.items()}
    scores = _scores(model, split.dev_x.astype(np.float64), p)
    return float(np.mean(scores.argmax(axis=1) == split.dev_y))
