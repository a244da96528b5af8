"""Every answer of the three networks: one point each, half of it when the error is carried forward."""

from __future__ import annotations

import pytest

from graders.backprop_by_hand import ASSIGNMENT, SETS, expected  # noqa: F401  (ASSIGNMENT is read by the plugin)
from graders.engine.checks import CheckFailure
from graders.engine.scoring import partial_credit

LOSSES = ("e", "e_o1", "e_o2", "e_total", "mse")


def question(dict_name: str, item: str) -> str:
    """The question an answer belongs to, lettered as seed 000 does: "1a" forward pass ... "1d" updates."""
    part = "d" if item.endswith("_new") else "c" if item.startswith("d") else "b" if item in LOSSES else "a"
    return dict_name[-1] + part


def _cases(dict_name: str) -> list:
    return [
        pytest.param(
            item,
            marks=[
                pytest.mark.number(question(dict_name, item)),
                pytest.mark.tags(dict_name, expected.variable(dict_name, item)),
            ],
            id=expected.variable(dict_name, item),
        )
        for item in expected.names(SETS[dict_name])
    ]


def _judge(verdicts, record_property, dict_name: str, item: str) -> None:
    verdict = verdicts(dict_name)[item]
    if verdict.fraction == 0.0:
        raise CheckFailure(verdict.message)
    if verdict.fraction < 1.0:
        partial_credit(verdict.fraction, verdict.message)
    if verdict.message:
        record_property("output", verdict.message)


@pytest.mark.parametrize("item", _cases("NET1"))
@pytest.mark.points(1)
def test_network_1(verdicts, record_property, item):
    """Network 1 (week 2 tutorial, ReLU): an answer"""
    _judge(verdicts, record_property, "NET1", item)


@pytest.mark.parametrize("item", _cases("NET2"))
@pytest.mark.points(1)
def test_network_2(verdicts, record_property, item):
    """Network 2 (the slides' sigmoid example): an answer"""
    _judge(verdicts, record_property, "NET2", item)


@pytest.mark.parametrize("item", _cases("NET3"))
@pytest.mark.points(1)
def test_network_3(verdicts, record_property, item):
    """Network 3 (the exam's ReLU network): an answer"""
    _judge(verdicts, record_property, "NET3", item)
