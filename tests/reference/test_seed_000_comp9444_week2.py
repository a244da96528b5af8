"""Every number seed 000 (COMP9444 week-2 tutorial solutions) prints for Q2 and Q3, recomputed.

One row per printed number: seed file, where it is printed, the seed's name for it, the printed text,
its number of decimals, our key for the computed value, and an erratum id (docs/errata.md) with the
value asserted instead when the print is not what the computation gives. This seed has no errata:
every printed number is reproduced. The slope rows need torch and are marked slow.
"""

from __future__ import annotations

import pytest

from reference.gradient_descent import hand_epochs, momentum_sweep, slope_experiment
from reference.worked_examples import comp9444_week2_q3

SEED = "000_de90f51a2d52592d.txt"
FIELDS = ("seed", "location", "name", "printed", "decimals", "key", "erratum", "asserted")
SLOW = pytest.mark.slow


def row(location, name, printed, decimals, key, erratum=None, asserted=None, marks=()):
    return pytest.param(SEED, location, name, printed, decimals, key, erratum, asserted,
                        marks=marks, id=f"{location}:{name}")


ROWS = [
    row("Q2a", "f(x)", "0", 0, "hand.1.f"),
    row("Q2a", "E", "0.5", 1, "hand.1.loss"),
    row("Q2a", "dE/dw", "-1", 0, "hand.1.grad"),
    row("Q2a", "new w", "0.5", 1, "hand.1.w_new"),
    row("Q2b", "w", "0.5", 1, "hand.2.w"),
    row("Q2b", "f(x)", "0.5", 1, "hand.2.f"),
    row("Q2b", "wx - 1", "-0.5", 1, "hand.2.residual"),
    row("Q2b", "E", "0.125", 3, "hand.2.loss"),
    row("Q2b", "dE/dw", "-0.5", 1, "hand.2.grad"),
    row("Q2b", "new w", "0.75", 2, "hand.2.w_new"),
    row("Q2c", "epochs at lr 0.01", "998", 0, "slope.0.01", marks=SLOW),
    row("Q2c", "epochs at lr 0.1", "97", 0, "slope.0.1", marks=SLOW),
    row("Q2c", "epochs at lr 0.5", "16", 0, "slope.0.5", marks=SLOW),
    row("Q2c", "epochs at lr 1.0", "2", 0, "slope.1.0", marks=SLOW),
    row("Q2c", "epochs at lr 1.5", "16", 0, "slope.1.5", marks=SLOW),
    row("Q2c", "epochs at lr 1.9", "97", 0, "slope.1.9", marks=SLOW),
    row("Q2c", "lr 2.0: lower end of oscillation", "0.0", 1, "slope.2.0.low", marks=SLOW),
    row("Q2c", "lr 2.0: upper end of oscillation", "2.0", 1, "slope.2.0.high", marks=SLOW),
    row("Q2d", "fewest epochs (lr 1.9)", "13", 0, "slope.sweep.epochs", marks=SLOW),
    row("Q2d", "momentum with fewest epochs", "0.3", 1, "slope.sweep.momentum", marks=SLOW),
    row("Q3a", "u1", "-0.81", 2, "u1"),
    row("Q3a", "u2", "0.59", 2, "u2"),
    row("Q3a", "y1", "0", 0, "y1"),
    row("Q3a", "y2", "0.59", 2, "y2"),
    row("Q3a", "z1", "-0.536", 3, "z1"),
    row("Q3a", "z2", "-0.272", 3, "z2"),
    row("Q3b", "E", "1.21664", 5, "E"),
    row("Q3c", "dz1", "-1.536", 3, "dz1"),
    row("Q3c", "dz2", "-0.272", 3, "dz2"),
    row("Q3c", "dc1", "-1.536", 3, "dc1"),
    row("Q3c", "dc2", "-0.272", 3, "dc2"),
    row("Q3c", "dv11", "0", 0, "dv11"),
    row("Q3c", "dv12", "0", 0, "dv12"),
    row("Q3c", "dv21", "-0.90624", 5, "dv21"),
    row("Q3c", "dv22", "-0.16048", 5, "dv22"),
    row("Q3c", "dy1", "-0.2976", 4, "dy1"),
    row("Q3c", "dy2", "0.832", 3, "dy2"),
    row("Q3c", "du1", "0", 0, "du1"),
    row("Q3c", "du2", "0.832", 3, "du2"),
    row("Q3c", "db1", "0", 0, "db1"),
    row("Q3c", "db2", "0.832", 3, "db2"),
    row("Q3c", "dw11", "0", 0, "dw11"),
    row("Q3c", "dw12", "0.416", 3, "dw12"),
    row("Q3c", "dw21", "0", 0, "dw21"),
    row("Q3c", "dw22", "-0.3328", 4, "dw22"),
    row("Q3d", "w11", "0.5", 1, "w11_new"),
    row("Q3d", "w12", "-0.908", 3, "w12_new"),
    row("Q3d", "w21", "0.4", 1, "w21_new"),
    row("Q3d", "w22", "-0.4336", 4, "w22_new"),
    row("Q3d", "b1", "-0.9", 1, "b1_new"),
    row("Q3d", "b2", "0.284", 3, "b2_new"),
    row("Q3d", "v11", "0.3", 1, "v11_new"),
    row("Q3d", "v12", "-0.6", 1, "v12_new"),
    row("Q3d", "v21", "0.05312", 5, "v21_new"),
    row("Q3d", "v22", "-0.71976", 5, "v22_new"),
    row("Q3d", "c1", "0.468", 3, "c1_new"),
    row("Q3d", "c2", "0.336", 3, "c2_new"),
]


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


@pytest.mark.parametrize(FIELDS, ROWS)
def test_printed_value(request, seed, location, name, printed, decimals, key, erratum, asserted):
    values = request.getfixturevalue("slope_values" if key.startswith("slope.") else "plain_values")
    got = round(float(values[key]), decimals)
    if erratum is None:
        assert got == float(printed), f"{seed} {location} {name}: printed {printed}, computed {values[key]!r}"
    else:
        assert got != float(printed), f"{erratum} is listed but the print {printed} is reproduced"
        assert got == float(asserted), f"{seed} {location} {name}: computed {values[key]!r}"
