"""hw2 Q1: the partial derivatives of f = sigmoid(w1 x1 + w2 x2) + (w1² + w2²) / 2, and 30 descent steps."""

from __future__ import annotations

import numpy as np
import pytest

from graders.engine.checks import assert_close
from graders.hw2 import ASSIGNMENT, Q1_FUNCTIONS  # noqa: F401  (ASSIGNMENT is read by the plugin)
from reference import hw2

HANDOUT_POINT = (0.2, 0.4, 0.3, -0.5)
# Moderate values, as in the handout: a correct solution written with math.exp must pass.
RANDOM_POINTS = [tuple(np.round(np.random.default_rng(seed).uniform(-2, 2, 4), 3)) for seed in (11, 12, 13)]


FUNCTIONS = [pytest.param(f, marks=pytest.mark.tags(f), id=f) for f in Q1_FUNCTIONS]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.points(2)
@pytest.mark.number("1.1")
def test_partial_at_the_handout_point(submission, function):
    """Q1: partial derivative at the handout's starting point"""
    got = submission.call(function, *HANDOUT_POINT)
    expected = getattr(hw2, function)(*HANDOUT_POINT)
    assert_close(got, expected, name=f"{function}(0.2, 0.4, 0.3, -0.5)", rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.points(2)
@pytest.mark.number("1.2")
@pytest.mark.visibility("after_due_date")
def test_partial_at_other_points(submission, function):
    """Q1: partial derivative at other points"""
    for point in RANDOM_POINTS:
        got = submission.call(function, *point)
        assert_close(got, getattr(hw2, function)(*point), name=f"{function}{point}", rtol=1e-6, atol=1e-9)


@pytest.mark.points(4)
@pytest.mark.number("1.3")
@pytest.mark.tags("g_w1", "g_w2")
def test_thirty_descent_steps(submission):
    """Q1: 30 gradient-descent steps of size 0.01 with your g_w1 and g_w2"""
    submission.require("g_w1", "g_w2")

    def student(name):
        return lambda *point: float(submission.call(name, *point))

    w1s, w2s = descend(student("g_w1"), student("g_w2"))
    ref_w1, ref_w2 = hw2.q1_descent()
    assert_close(np.array(w1s), np.array(ref_w1), name="w1 over the 31 steps", rtol=1e-6, atol=1e-9)
    assert_close(np.array(w2s), np.array(ref_w2), name="w2 over the 31 steps", rtol=1e-6, atol=1e-9)


def descend(grad_w1, grad_w2, steps: int = 30, step_size: float = 0.01) -> tuple[list, list]:
    """The w1 and w2 values over `steps` simultaneous descent steps from the handout point.

    The handout's own loop, run by the grader rather than taken from the reference, so that the
    student kit (which holds no reference code) drives the student's gradients the same way; the
    reference's trajectory is the answer it is compared with.
    """
    x1, x2, w1, w2 = HANDOUT_POINT
    w1s, w2s = [w1], [w2]
    for _ in range(steps):
        step1, step2 = grad_w1(x1, x2, w1, w2), grad_w2(x1, x2, w1, w2)  # both at the current point
        w1, w2 = w1 - step_size * step1, w2 - step_size * step2
        w1s.append(w1)
        w2s.append(w2)
    return w1s, w2s
