"""hw2 Q3: the contract every model must keep, beyond right numbers.

Each test first needs the function to work (right loss and gradients on a small batch), so an
untouched stub earns nothing here either.
"""

from __future__ import annotations

import numpy as np
import pytest

from graders.engine.checks import CheckFailure, assert_close
from graders.engine.policy import forbidden_uses
from graders.hw2 import ASSIGNMENT, Q3_FUNCTIONS  # noqa: F401  (ASSIGNMENT is read by the plugin)
from graders.hw2.problems import problem

SMALL = (7, 12, 8, "float64")
MODELS = [pytest.param(m, marks=pytest.mark.tags(f), id=m) for m, f in Q3_FUNCTIONS.items()]


def works(run_model, prob, **options):
    """The driver's report, after checking loss, probabilities and gradients are right."""
    out = run_model(prob, **options)
    assert_close(out["loss"], prob.loss, name="loss", **prob.tolerance)
    assert_close(out["probs"], prob.probs, name="probs", **prob.tolerance)
    if options.get("grad", True):
        for key, expected in prob.grads.items():
            assert_close(out["grads"].get(key), expected, name=f"grad[{key!r}]", **prob.tolerance)
    return out


@pytest.mark.points(1)
@pytest.mark.number("3.3")
@pytest.mark.parametrize("model", MODELS)
def test_zero_grad_first(run_model, model):
    """Q3 contract: gradients are reset with param.zero_grad() before they are accumulated"""
    prob = problem(model, *SMALL)
    try:
        works(run_model, prob, stale_grads=True)
    except CheckFailure as failure:
        fresh = run_model(prob)
        if np.allclose(fresh["loss"], prob.loss) and all(
            np.allclose(fresh["grads"][k], g) for k, g in prob.grads.items()
        ):
            raise CheckFailure(
                "Your gradients are right on fresh parameters but wrong when the parameters already hold "
                "gradients from an earlier call: call param.zero_grad() first."
            ) from None
        raise failure


@pytest.mark.points(1)
@pytest.mark.number("3.3")
@pytest.mark.parametrize("model", MODELS)
def test_grad_false_computes_no_gradient(run_model, model):
    """Q3 contract: with grad=False, return (loss, probs) without computing gradients"""
    prob = problem(model, *SMALL)
    works(run_model, prob)
    out = works(run_model, prob, grad=False)
    touched = sorted(k for k, g in out["grads"].items() if np.any(g))
    if touched:
        raise CheckFailure(
            f"With grad=False the function still stored gradients for {touched}: return (loss, probs) "
            "before computing any gradient."
        )


@pytest.mark.points(1)
@pytest.mark.number("3.3")
@pytest.mark.parametrize("model", MODELS)
def test_inputs_are_not_modified(run_model, model):
    """Q3 contract: batch_x, batch_y and the weights are left unchanged"""
    prob = problem(model, *SMALL)
    out = works(run_model, prob)
    if out["inputs_changed"]:
        raise CheckFailure("The function changed batch_x or batch_y in place: work on a copy instead.")
    if out["params_changed"]:
        raise CheckFailure(
            "The function changed the weights: read them with get_param and leave updates to training."
        )


@pytest.mark.points(2)
@pytest.mark.number("3.4")
@pytest.mark.parametrize("model", MODELS)
def test_large_scores_stay_finite(run_model, model):
    """Q3: numerically stable softmax for scores of size 1000"""
    prob = problem(model, 7, 12, 8, "float64", seed=1, logit_scale=1e3)
    try:
        works(run_model, prob)
    except CheckFailure as failure:
        raise CheckFailure(
            f"{failure}\nWith scores around 1000, exp() overflows: subtract each row's maximum before "
            "exponentiating (or use row_logsumexp)."
        ) from None


@pytest.mark.points(1)
@pytest.mark.number("3.5")
@pytest.mark.parametrize("model", MODELS)
def test_numpy_only(submission, run_model, model):
    """Q3 policy: written with numpy only (no torch, tensorflow or jax)"""
    works(run_model, problem(model, *SMALL))
    uses = forbidden_uses(submission.loaded, Q3_FUNCTIONS[model], ("torch", "tensorflow", "jax"))
    if uses:
        lines = sorted({u.lineno for u in uses})
        names = sorted({f"`{u.name}`" for u in uses})
        where = f"{', '.join(names)} in {uses[0].function} (line{'s' if len(lines) > 1 else ''} "
        where += ", ".join(map(str, lines[:8])) + (", ..." if len(lines) > 8 else "") + ")"
        raise CheckFailure(f"Q3 must be implemented with numpy only, but the function uses {where}.")
