"""Q2a and Q2b: the by-hand table of the first two epochs (f(x), E, dE/dw and the new w)."""

from __future__ import annotations

import pytest

from graders.engine.checks import CheckFailure
from graders.gradient_descent import ASSIGNMENT, QUANTITIES, answers, expected  # noqa: F401

# Answers rounded to 2 decimals are accepted: half a unit in the last place.
TOLERANCE = 0.005
WHAT = {
    "F": "f(x) = w x, with the w the epoch starts from",
    "E": "E = ½ (w x − t)², with the w the epoch starts from",
    "DEDW": "dE/dw = x (w x − t), with the w the epoch starts from",
    "W": "the new weight w − η dE/dw",
}

ENTRIES = [
    pytest.param(
        epoch,
        quantity,
        marks=[pytest.mark.tags(f"EPOCH{epoch}_{quantity}"), pytest.mark.number(f"2{'ab'[epoch - 1]}")],
        id=f"EPOCH{epoch}_{quantity}",
    )
    for epoch in (1, 2)
    for quantity in QUANTITIES
]


@pytest.mark.parametrize(("epoch", "quantity"), ENTRIES)
@pytest.mark.points(1)
def test_by_hand_entry(answer, epoch, quantity):
    """Q2a/b: an entry of the by-hand table"""
    name = f"EPOCH{epoch}_{quantity}"
    got = answers.number(answer(name), name)
    if abs(got - expected.hand_value(epoch, quantity)) > TOLERANCE:
        raise CheckFailure(
            f"`{name}` = {got:g} is not right (answers rounded to 2 decimals are accepted). "
            f"It should be {WHAT[quantity]}, in epoch {epoch} (η = 0.5, x = t = 1, w starts at 0)."
        )
