"""What every seed table shares: one row per number a seed prints, checked at the precision printed.

A row names the seed file, where the number is printed, the seed's name for it, the printed text and
our key for the computed value. When the print is not what the computation gives at that precision,
the row also carries the erratum id (docs/errata.md) and the value asserted instead. The precision
is read off the printed text: "0.2910" is checked to four decimals, "998" to none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Printed:
    """One number as a seed prints it, and the key of the computed value it is checked against."""

    seed: str
    location: str
    name: str
    printed: str
    key: str
    erratum: str | None = None
    asserted: str | None = None

    @property
    def decimals(self) -> int:
        """Digits after the point in the printed text: "-0.0190" -> 4, "2" -> 0."""
        return len(self.printed.partition(".")[2])


def row(
    seed: str,
    location: str,
    name: str,
    printed: str,
    key: str,
    erratum: str | None = None,
    asserted: str | None = None,
    marks=(),
):
    """One table row: a pytest.param holding a Printed, with the id "location:name"."""
    if (erratum is None) != (asserted is None):
        raise ValueError(f"{seed} {location}:{name}: an erratum row needs both its id and the value asserted")
    entry = Printed(seed, location, name, printed, key, erratum, asserted)
    return pytest.param(entry, marks=marks, id=f"{location}:{name}")


def rows(seed: str, table: str, marks=()) -> list:
    """The rows of a text table, one a line: location | name | printed | key [| erratum | asserted].

    Cells are separated by "|" and stripped; blank lines and lines starting with "#" are skipped.
    """
    params = []
    for line in table.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) not in (4, 6):
            raise ValueError(f"{seed}: a row has 4 cells, or 6 with an erratum, got {len(cells)} in {line!r}")
        params.append(row(seed, *cells, marks=marks))
    return params


def check_printed(entry: Printed, values: Mapping[str, float]) -> None:
    """Assert values[entry.key] rounds to the print, or for an erratum row to the asserted value instead."""
    computed = values[entry.key]
    got = round(float(computed), entry.decimals)
    where = f"{entry.seed} {entry.location} {entry.name}"
    if entry.erratum is None:
        assert got == float(entry.printed), f"{where}: printed {entry.printed}, computed {computed!r}"
    else:
        assert got != float(entry.printed), (
            f"{where}: {entry.erratum} is listed, yet {computed!r} gives the print"
        )
        assert got == float(entry.asserted), (
            f"{where}: {entry.erratum} asserts {entry.asserted}, computed {computed!r}"
        )
