"""Every number seed 000 (COMP9444 week-2 tutorial solutions) prints for Q2 and Q3, recomputed.

One row per printed number (tests/reference/seed_table.py): where it is printed, the seed's name for
it, the printed text and our key for the computed value. This seed has no errata: every printed
number is reproduced. The slope rows need torch and are marked slow.
"""

from __future__ import annotations

import pytest

from reference.gradient_descent import hand_epochs, momentum_sweep, slope_experiment
from reference.worked_examples import comp9444_week2_q3
from tests.reference import seed_table

SEED = "000_de90f51a2d52592d.txt"


@pytest.fixture(scope="module")
def plain_values():
    values = dict(comp9444_week2_q3())
    for r in hand_epochs(eta=0.5, x=1.0, t=1.0, w0=0.0, epochs=2):
        fields = {"w": r.w, "f": r.f, "loss": r.loss, "grad": r.grad, "w_new": r.w_new, "residual": r.f - 1.0}
        values.update({f"hand.{r.epoch}.{k}": v for k, v in fields.items()})
    return values


@pytest.fixture(scope="module")
def slope_values():
    pytest.importorskip("torch")
    values = {f"slope.{lr}": slope_experiment(lr).epochs for lr in (0.01, 0.1, 0.5, 1.0, 1.5, 1.9)}
    oscillating = slope_experiment(2.0).w[1:]  # the weights the run visits after it starts moving
    values["slope.2.0.low"], values["slope.2.0.high"] = oscillating.min(), oscillating.max()
    sweep = momentum_sweep(1.9)
    values["slope.sweep.epochs"] = sweep.fastest_epochs
    values["slope.sweep.momentum"] = sweep.fastest_momentum
    return values


Q2_BY_HAND = seed_table.rows(
    SEED,
    """
    # where | the seed's name | printed | our key
      Q2a   | f(x)            | 0       | hand.1.f
      Q2a   | E               | 0.5     | hand.1.loss
      Q2a   | dE/dw           | -1      | hand.1.grad
      Q2a   | new w           | 0.5     | hand.1.w_new
      Q2b   | w               | 0.5     | hand.2.w
      Q2b   | f(x)            | 0.5     | hand.2.f
      Q2b   | wx - 1          | -0.5    | hand.2.residual
      Q2b   | E               | 0.125   | hand.2.loss
      Q2b   | dE/dw           | -0.5    | hand.2.grad
      Q2b   | new w           | 0.75    | hand.2.w_new
    """,
)

# The slope experiment trains with torch, so these rows are slow.
Q2_SLOPE = seed_table.rows(
    SEED,
    """
    # where | the seed's name                  | printed | our key
      Q2c   | epochs at lr 0.01                | 998     | slope.0.01
      Q2c   | epochs at lr 0.1                 | 97      | slope.0.1
      Q2c   | epochs at lr 0.5                 | 16      | slope.0.5
      Q2c   | epochs at lr 1.0                 | 2       | slope.1.0
      Q2c   | epochs at lr 1.5                 | 16      | slope.1.5
      Q2c   | epochs at lr 1.9                 | 97      | slope.1.9
      Q2c   | lr 2.0: lower end of oscillation | 0.0     | slope.2.0.low
      Q2c   | lr 2.0: upper end of oscillation | 2.0     | slope.2.0.high
      Q2d   | fewest epochs (lr 1.9)           | 13      | slope.sweep.epochs
      Q2d   | momentum with fewest epochs      | 0.3     | slope.sweep.momentum
    """,
    marks=pytest.mark.slow,
)

Q3_NETWORK = seed_table.rows(
    SEED,
    """
    # where | the seed's name | printed  | our key
      Q3a   | u1              | -0.81    | u1
      Q3a   | u2              | 0.59     | u2
      Q3a   | y1              | 0        | y1
      Q3a   | y2              | 0.59     | y2
      Q3a   | z1              | -0.536   | z1
      Q3a   | z2              | -0.272   | z2
      Q3b   | E               | 1.21664  | E
      Q3c   | dz1             | -1.536   | dz1
      Q3c   | dz2             | -0.272   | dz2
      Q3c   | dc1             | -1.536   | dc1
      Q3c   | dc2             | -0.272   | dc2
      Q3c   | dv11            | 0        | dv11
      Q3c   | dv12            | 0        | dv12
      Q3c   | dv21            | -0.90624 | dv21
      Q3c   | dv22            | -0.16048 | dv22
      Q3c   | dy1             | -0.2976  | dy1
      Q3c   | dy2             | 0.832    | dy2
      Q3c   | du1             | 0        | du1
      Q3c   | du2             | 0.832    | du2
      Q3c   | db1             | 0        | db1
      Q3c   | db2             | 0.832    | db2
      Q3c   | dw11            | 0        | dw11
      Q3c   | dw12            | 0.416    | dw12
      Q3c   | dw21            | 0        | dw21
      Q3c   | dw22            | -0.3328  | dw22
      Q3d   | w11             | 0.5      | w11_new
      Q3d   | w12             | -0.908   | w12_new
      Q3d   | w21             | 0.4      | w21_new
      Q3d   | w22             | -0.4336  | w22_new
      Q3d   | b1              | -0.9     | b1_new
      Q3d   | b2              | 0.284    | b2_new
      Q3d   | v11             | 0.3      | v11_new
      Q3d   | v12             | -0.6     | v12_new
      Q3d   | v21             | 0.05312  | v21_new
      Q3d   | v22             | -0.71976 | v22_new
      Q3d   | c1              | 0.468    | c1_new
      Q3d   | c2              | 0.336    | c2_new
    """,
)

ROWS = Q2_BY_HAND + Q2_SLOPE + Q3_NETWORK


@pytest.mark.parametrize("entry", ROWS)
def test_printed_value(request, entry):
    values = request.getfixturevalue("slope_values" if entry.key.startswith("slope.") else "plain_values")
    seed_table.check_printed(entry, values)
