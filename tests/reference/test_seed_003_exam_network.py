"""Every number seed 003 (exam) prints in section 3, "Two Layer Neural Network", recomputed.

One row per printed number: seed file, question, the seed's name for it, the printed text, its number
of decimals, our key for the computed value, and an erratum id with the value asserted instead when
the print is not reproduced. Section 3 has no errata: every printed number is reproduced.
"""

from __future__ import annotations

import pytest

from reference.worked_examples import exam_two_layer

SEED = "003_34f8d7f6bc1ecf0d.txt"
FIELDS = ("seed", "location", "name", "printed", "decimals", "key", "erratum", "asserted")


def row(location, name, printed, decimals, key, erratum=None, asserted=None):
    return pytest.param(SEED, location, name, printed, decimals, key, erratum, asserted,
                        id=f"{location}:{name}")


ROWS = [
    row("3.1", "h1", "2.0", 1, "h1"),
    row("3.1", "h2", "-0.5", 1, "h2"),
    row("3.1", "h3", "2", 0, "h3"),
    row("3.1", "h4", "0", 0, "h4"),
    row("3.1", "o1", "0", 0, "o1"),
    row("3.1", "o2", "-1.5", 1, "o2"),
    row("3.2", "(t1 - o1)^2", "1.0", 1, "sq_err_o1"),
    row("3.2", "(t2 - o2)^2", "4.0", 1, "sq_err_o2"),
    row("3.2", "MSE", "2.5", 1, "MSE"),
    row("3.3", "dh3/dh1", "1.0", 1, "dh3_dh1"),
    row("3.3", "dMSE/dw21 term through o1", "0.5", 1, "dMSE_dw21_via_o1"),
    row("3.3", "dMSE/dw21 term through o2", "-2.0", 1, "dMSE_dw21_via_o2"),
    row("3.3", "dMSE/dw21", "-1.5", 1, "dMSE_dw21"),
    row("3.3", "w21+", "0.65", 2, "w21_new"),
]


@pytest.fixture(scope="module")
def values():
    return exam_two_layer()


@pytest.mark.parametrize(FIELDS, ROWS)
def test_printed_value(values, seed, location, name, printed, decimals, key, erratum, asserted):
    got = round(float(values[key]), decimals)
    if erratum is None:
        assert got == float(printed), f"{seed} {location} {name}: printed {printed}, computed {values[key]!r}"
    else:
        assert got != float(printed), f"{erratum} is listed but the print {printed} is reproduced"
        assert got == float(asserted), f"{seed} {location} {name}: computed {values[key]!r}"
