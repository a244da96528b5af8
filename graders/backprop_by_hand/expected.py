"""What the reference says about each answer set, read as plain data: the questions, true values, formulas."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from graders.engine.numeric_answers import Spec
from reference import backprop_by_hand as ref


@functools.cache
def names(network: str) -> tuple[str, ...]:
    """The network's answers in the order a student computes them."""
    return tuple(question["name"] for question in ref.questions(network))


def variable(set_name: str, item: str) -> str:
    """The module-level variable that may hold an answer instead of the dict: NET2 + out_h1 -> NET2_OUT_H1."""
    return f"{set_name}_{item.upper()}"


@functools.cache
def specs(network: str) -> tuple[Spec, ...]:
    """The engine's view of each answer: precision, inputs, true value and description."""
    truth = ref.true_values(network)
    return tuple(
        Spec(q["name"], q["decimals"], tuple(q["inputs"]), truth[q["name"]], q["description"])
        for q in ref.questions(network)
    )


def recomputer(network: str):
    """recompute(item, values): the item computed from the student's values of its inputs."""

    def recompute(item: str, values: Mapping[str, float]) -> float:
        return ref.recompute(network, item, values)

    return recompute
