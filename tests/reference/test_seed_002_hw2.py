"""Seed 002_6d3eab29a94851e3.txt (JHU Homework 2): its printed Q1(a) formulas, against the reference.

The seed prints formulas rather than numbers for Q1: each partial derivative written with
e^-u, u = w1 x1 + w2 x2. The reference writes them with s(1 - s); the table evaluates the seed's
form directly (an oracle the reference does not share) at the handout point and at random points.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import hw2

SEED = "002_6d3eab29a94851e3.txt"


def seed_form(name, x1, x2, w1, w2):
    """The seed's Q1(a) solution, transcribed: factor * e^-u / (1 + e^-u)^2 (+ w for the weights)."""
    e = math.exp(-(w1 * x1 + w2 * x2))
    core = e / (1 + e) ** 2
    return {"g_w1": x1 * core + w1, "g_w2": x2 * core + w2, "g_x1": w1 * core, "g_x2": w2 * core}[name]


POINTS = [(0.2, 0.4, 0.3, -0.5)] + [tuple(np.random.default_rng(k).uniform(-2, 2, 4)) for k in range(5)]


@pytest.mark.parametrize("point", POINTS, ids=[f"point{k}" for k in range(len(POINTS))])
@pytest.mark.parametrize(
    ("seed", "location", "name"),
    [(SEED, "Q1(a)", "g_w1"), (SEED, "Q1(a)", "g_w2"), (SEED, "Q1(a)", "g_x1"), (SEED, "Q1(a)", "g_x2")],
)
def test_seed_002_q1_formulas(seed, location, name, point):
    assert getattr(hw2, name)(*point) == pytest.approx(seed_form(name, *point), rel=1e-12, abs=1e-15)


def test_seed_002_handout_setting():
    """The numbers the handout fixes: Q1's start point, step size and 30 iterations; Q3's setting."""
    assert hw2.Q1_START == {"x1": 0.2, "x2": 0.4, "w1": 0.3, "w2": -0.5}
    assert (hw2.Q1_STEP, hw2.Q1_STEPS) == (0.01, 30)
    assert hw2.HANDOUT == {"batch_size": 50, "learning_rate": 0.005, "nb_epochs": 20, "hidden": 392}
