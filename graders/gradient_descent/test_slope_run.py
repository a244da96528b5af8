"""Q2c and Q2d: the student's slope_run against the reference's torch run, epoch by epoch."""

from __future__ import annotations

import numpy as np
import pytest

from graders.engine.checks import CheckFailure, assert_close
from graders.engine.scoring import partial_credit
from graders.gradient_descent import ASSIGNMENT, expected  # noqa: F401  (ASSIGNMENT is read by the plugin)

# float32 arithmetic written differently (w * x - t vs a Module, a tensor or float comparison) agrees to a
# few ulps; 1e-5 relative leaves a wide margin. atol covers the exact 0 at the start.
RTOL, ATOL = 1e-5, 1e-7
VISIBLE_RATES = (0.1, 1.0, 2.0)


def _rate(lr):
    visibility = "visible" if lr in VISIBLE_RATES else "after_due_date"
    return pytest.param(lr, marks=pytest.mark.visibility(visibility), id=f"lr={lr}")


def _trajectory(result, call: str) -> tuple[int, np.ndarray]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(f"`{call}` should return a pair (number of epochs, list of w values).")
    epochs, ws = result
    if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or epochs != int(epochs):
        raise CheckFailure(f"The first item `{call}` returns, the number of epochs, should be an int.")
    if not isinstance(ws, (list, tuple, np.ndarray)):
        raise CheckFailure(f"The second item `{call}` returns should be a list of floats (the w values).")
    try:
        array = np.asarray(ws, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailure(f"The w values `{call}` returns should be plain floats (use .item()).") from None
    if array.ndim != 1 or array.size == 0:
        raise CheckFailure(f"The w values `{call}` returns should be a flat, non-empty list of floats.")
    return int(epochs), array


def check_run(submission, lr: float, momentum: float) -> None:
    call = f"slope_run({lr}, momentum={momentum})"
    epochs, got = _trajectory(submission.call("slope_run", lr, momentum=momentum), call)
    ref = expected.slope(lr, momentum)
    want = np.array(ref["w"], dtype=np.float64)
    n = min(got.size, want.size)
    assert_close(got[:n], want[:n], name=f"the first {n} w values of {call}", rtol=RTOL, atol=ATOL)
    problems = []
    if got.size != want.size:
        problems.append(f"it returns {got.size} w values instead of {want.size}")
    if epochs != ref["epochs"]:
        problems.append(f"it reports {epochs} epochs instead of {ref['epochs']}")
    elif epochs != got.size - 1:
        problems.append(f"it reports {epochs} epochs but returns {got.size} w values (expected one more)")
    if problems:
        partial_credit(
            0.5,
            f"`{call}`: the weights are right, but {'; '.join(problems)}. Stop after the epoch whose loss "
            "is below 1e-9 or nan, and return the w before the first step and after every step.",
        )


@pytest.mark.parametrize("lr", [_rate(lr) for lr in expected.LEARNING_RATES])
@pytest.mark.points(2)
@pytest.mark.number("2c")
@pytest.mark.tags("slope_run")
def test_slope_run_without_momentum(submission, lr):
    """Q2c: slope_run's weights and epoch count at a learning rate"""
    check_run(submission, lr, 0.0)


@pytest.mark.parametrize("momentum", [0.3, 1.1], ids=lambda m: f"momentum={m}")
@pytest.mark.points(2)
@pytest.mark.number("2d")
@pytest.mark.tags("slope_run")
@pytest.mark.visibility("after_due_date")
def test_slope_run_with_momentum(submission, momentum):
    """Q2d: slope_run's weights and epoch count at learning rate 1.9 with momentum"""
    check_run(submission, expected.MOMENTUM_LR, momentum)
