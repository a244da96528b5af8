"""hw2 Q3: loss, probabilities and every parameter's gradient of the three models."""

from __future__ import annotations

import numpy as np
import pytest

from graders.engine.checks import CheckFailure, assert_close, check_gradient
from graders.engine.diagnosis import diagnose
from graders.engine.errors import SubmissionError
from graders.engine.scoring import partial_credit
from graders.hw2 import ASSIGNMENT, Q3_FUNCTIONS  # noqa: F401  (ASSIGNMENT is read by the plugin)
from graders.hw2.mistakes import variants_for
from graders.hw2.problems import PARAM_SHAPES, problem

# (id, B, D, H, dtype, visibility, points): B = 7 and 13 are primes, so a 1/B slip cannot hide.
CASES = [
    ("B7", 7, 12, 8, "float64", "visible", 2),
    ("B13-float32", 13, 30, 16, "float32", "after_due_date", 1),
    ("B50-mnist-sized-float32", 50, 784, 392, "float32", "after_due_date", 1),
    ("B1", 1, 5, 3, "float64", "after_due_date", 1),
]


def cases(with_keys: bool):
    """pytest params over model x case (x parameter key), tagged with the student function."""
    params = []
    for model, function in Q3_FUNCTIONS.items():
        keys = list(PARAM_SHAPES[model](1, 1, 1)) if with_keys else [None]
        for key in keys:
            for case_id, b, d, h, dtype, visibility, points in CASES:
                marks = [
                    pytest.mark.tags(function),
                    pytest.mark.visibility(visibility),
                    pytest.mark.points(points),
                ]
                ident = "-".join(x for x in (model, key, case_id) if x)
                params.append(pytest.param(model, key, (b, d, h, dtype), marks=marks, id=ident))
    return params


@pytest.mark.number("3.1")
@pytest.mark.parametrize(("model", "key", "shape"), cases(with_keys=False))
def test_loss_and_probabilities(run_model, model, key, shape):
    """Q3: loss and softmax probabilities"""
    prob = problem(model, *shape)
    try:
        out = run_model(prob)
    except SubmissionError as crash:
        # The forward pass still earns its points if only the backward pass crashes.
        try:
            out = run_model(prob, grad=False)
        except SubmissionError:
            raise crash from None
    assert_close(out["loss"], prob.loss, name="loss", **prob.tolerance)
    assert_close(out["probs"], prob.probs, name="probs", **prob.tolerance)


@pytest.mark.number("3.2")
@pytest.mark.parametrize(("model", "key", "shape"), cases(with_keys=True))
def test_gradient(submission, run_model, model, key, shape):
    """Q3: gradient of one parameter"""
    prob = problem(model, *shape)
    out = run_model(prob)
    if key not in out["grads"] or not np.any(out["grads"][key]):
        raise CheckFailure(
            f"No gradient was stored for `{key}`: call param.accumlate_grad({key!r}, ...) with its gradient."
        )
    got, expected = out["grads"][key], prob.grads[key]
    try:
        assert_close(got, expected, name=f"grad[{key!r}]", **prob.tolerance)
    except CheckFailure as failure:
        variants = variants_for(model, key, prob.x, prob.y, prob.params, expected)
        hint = diagnose(got, expected, batch_size=len(prob.y), variants=variants, **prob.tolerance)
        own = _consistent_with_own_forward(submission, prob, key, got, out["loss"])
        message = f"{failure}\n{hint}" if hint else str(failure)
        if own:
            partial_credit(
                0.5,
                f"{message}\nHalf credit: this gradient is right for your own forward pass, "
                "which computes the wrong loss (see the loss test).",
            )
        raise CheckFailure(message) from None


def _consistent_with_own_forward(submission, prob, key, analytic, student_loss) -> bool:
    """Whether the student's gradient matches central differences of the student's own loss.

    Only asked when their loss itself is wrong (otherwise the reference check already decided).
    A few forward calls along random directions, whatever the size of the parameter.
    """
    if abs(student_loss - prob.loss) <= 1e-6 * max(1.0, abs(prob.loss)):
        return False
    base = {k: v.astype(np.float64) for k, v in prob.params.items()}
    x = prob.x.astype(np.float64)

    def loss_at(value):
        return submission.driver(
            "loss_only", prob.function, {**base, key: value}, x, prob.y, exercises=prob.function
        )

    try:
        return check_gradient(loss_at, base[key], analytic, directions=3, rng=np.random.default_rng(0)).ok
    except CheckFailure:
        return False
