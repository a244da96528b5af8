"""Q2c and Q2d: what the student read off the experiment, against the reference's runs."""

from __future__ import annotations

import math

import pytest

from graders.engine.checks import CheckFailure
from graders.gradient_descent import ASSIGNMENT, answers, expected  # noqa: F401


@pytest.mark.parametrize("lr", expected.EPOCH_QUESTION_RATES, ids=lambda lr: f"lr={lr}")
@pytest.mark.points(1)
@pytest.mark.number("2c")
@pytest.mark.tags("EPOCHS_BY_LR")
def test_epochs_by_learning_rate(answer, lr):
    """Q2c: EPOCHS_BY_LR, the epochs the run takes at a learning rate"""
    got = answers.epochs_for(answer("EPOCHS_BY_LR"), "EPOCHS_BY_LR", lr)
    if got != expected.slope(lr)["epochs"]:
        raise CheckFailure(
            f"`EPOCHS_BY_LR[{lr}]` = {got} is not the number of epochs the run takes at this learning rate "
            "(count the epoch whose loss first falls below 1e-9; your slope_run's count is the answer)."
        )


def _check_behaviour(answer, name: str, run: dict, setting: str) -> None:
    got = answers.choice(answer(name), name)
    if got != expected.behaviour(run["behaviour"]):
        raise CheckFailure(
            f'`{name}` = "{got}" is not what the weight does {setting}. Look at the w values your '
            "slope_run returns: does w settle at 1, keep jumping between values, or grow without bound?"
        )


BEHAVIOURS = [
    pytest.param(
        "BEHAVIOUR_AT_2_0", 2.0, 0.0, marks=[pytest.mark.tags("BEHAVIOUR_AT_2_0"), pytest.mark.number("2c")]
    ),
    pytest.param(
        "BEHAVIOUR_AT_2_1", 2.1, 0.0, marks=[pytest.mark.tags("BEHAVIOUR_AT_2_1"), pytest.mark.number("2c")]
    ),
    pytest.param(
        "BEHAVIOUR_AT_MOMENTUM_1_0",
        1.9,
        1.0,
        marks=[pytest.mark.tags("BEHAVIOUR_AT_MOMENTUM_1_0"), pytest.mark.number("2d")],
    ),
    pytest.param(
        "BEHAVIOUR_AT_MOMENTUM_1_1",
        1.9,
        1.1,
        marks=[pytest.mark.tags("BEHAVIOUR_AT_MOMENTUM_1_1"), pytest.mark.number("2d")],
    ),
]


@pytest.mark.parametrize(("name", "lr", "momentum"), BEHAVIOURS, ids=[p.values[0] for p in BEHAVIOURS])
@pytest.mark.points(1)
def test_behaviour(answer, name, lr, momentum):
    """Q2c/d: what the weight does at a setting"""
    setting = f"at learning rate {lr}" + (f" with momentum {momentum}" if momentum else "")
    _check_behaviour(answer, name, expected.slope(lr, momentum), setting)


@pytest.mark.points(1)
@pytest.mark.number("2d")
@pytest.mark.tags("FASTEST_MOMENTUM")
def test_fastest_momentum(answer):
    """Q2d: FASTEST_MOMENTUM, the momentum that converges in the fewest epochs at learning rate 1.9"""
    got = answers.number(answer("FASTEST_MOMENTUM"), "FASTEST_MOMENTUM")
    if not math.isclose(got, expected.fastest_momentum(), abs_tol=1e-9):
        raise CheckFailure(
            f"`FASTEST_MOMENTUM` = {got:g} is not the momentum among 0.1, 0.2, ..., 0.9 whose run at "
            "learning rate 1.9 stops after the fewest epochs."
        )


@pytest.mark.points(1)
@pytest.mark.number("2d")
@pytest.mark.tags("FASTEST_MOMENTUM_EPOCHS")
def test_fastest_momentum_epochs(answer):
    """Q2d: FASTEST_MOMENTUM_EPOCHS, how many epochs the fastest momentum takes"""
    got = answers.whole_number(answer("FASTEST_MOMENTUM_EPOCHS"), "FASTEST_MOMENTUM_EPOCHS")
    if got != expected.fastest_epochs():
        raise CheckFailure(
            f"`FASTEST_MOMENTUM_EPOCHS` = {got} is not the fewest epochs any momentum among 0.1, ..., 0.9 "
            "takes at learning rate 1.9."
        )
