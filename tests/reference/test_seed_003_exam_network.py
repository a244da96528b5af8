"""Every number seed 003 (exam) prints in section 3, "Two Layer Neural Network", recomputed.

One row per printed number (tests/reference/seed_table.py): question, the seed's name for it, the
printed text and our key for the computed value. Section 3 has no errata: every printed number is
reproduced.
"""

from __future__ import annotations

import pytest

from reference.worked_examples import exam_two_layer
from tests.reference import seed_table

SEED = "003_34f8d7f6bc1ecf0d.txt"


@pytest.fixture(scope="module")
def values():
    return exam_two_layer()


ROWS = seed_table.rows(
    SEED,
    """
    # where | the seed's name           | printed | our key
      3.1   | h1                        | 2.0     | h1
      3.1   | h2                        | -0.5    | h2
      3.1   | h3                        | 2       | h3
      3.1   | h4                        | 0       | h4
      3.1   | o1                        | 0       | o1
      3.1   | o2                        | -1.5    | o2
      3.2   | (t1 - o1)^2               | 1.0     | sq_err_o1
      3.2   | (t2 - o2)^2               | 4.0     | sq_err_o2
      3.2   | MSE                       | 2.5     | MSE
      3.3   | dh3/dh1                   | 1.0     | dh3_dh1
      3.3   | dMSE/dw21 term through o1 | 0.5     | dMSE_dw21_via_o1
      3.3   | dMSE/dw21 term through o2 | -2.0    | dMSE_dw21_via_o2
      3.3   | dMSE/dw21                 | -1.5    | dMSE_dw21
      3.3   | w21+                      | 0.65    | w21_new
    """,
)


@pytest.mark.parametrize("entry", ROWS)
def test_printed_value(values, entry):
    seed_table.check_printed(entry, values)
