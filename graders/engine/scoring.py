"""How a test awards less than full marks, and how a test's metadata is read from its markers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class PartialCredit(Exception):
    """Raised by a test to end it with a fraction of its points and a message for the student."""

    def __init__(self, fraction: float, message: str) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"partial credit must be a fraction between 0 and 1, got {fraction}")
        super().__init__(message)
        self.fraction = fraction
        self.message = message


def partial_credit(fraction: float, message: str) -> None:
    """End the current test with `fraction` of its points; `message` says what earned and what did not."""
    raise PartialCredit(fraction, message)


@dataclass(frozen=True)
class ItemInfo:
    """A test's student-facing name and its scoring metadata."""

    name: str
    points: float
    visibility: str
    number: str | None
    tags: tuple[str, ...]


def _marker_arg(item: pytest.Item, marker: str, default):
    found = item.get_closest_marker(marker)
    if found is None:
        return default
    if len(found.args) != 1 or found.kwargs:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{marker} takes exactly one argument")
    return found.args[0]


def item_info(item: pytest.Item) -> ItemInfo:
    """Metadata from markers (points, visibility, number, tags) and the docstring's first line."""
    points = _marker_arg(item, "points", None)
    if points is None or isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise pytest.UsageError(f"{item.nodeid}: needs @pytest.mark.points(n) with n >= 0, got {points!r}")
    if item.get_closest_marker("xfail") is not None:
        # pytest rewrites an xfail's report after the plugin has scored it: the points would follow
        # pytest's bookkeeping, not the grader's intent.
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.xfail has no meaning in a grader; a test earns its points or "
            "not (raise PartialCredit for part of them, or leave the test out)"
        )
    visibility = _marker_arg(item, "visibility", "visible")
    if visibility not in VISIBILITIES:
        raise pytest.UsageError(f"{item.nodeid}: visibility {visibility!r} is not one of {VISIBILITIES}")
    tags_marker = item.get_closest_marker("tags")
    tags = tuple(tags_marker.args) if tags_marker else ()
    if not all(isinstance(t, str) for t in tags):
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.tags takes strings")
    doc = (
        (getattr(item, "function", None).__doc__ or "").strip().splitlines()
        if hasattr(item, "function")
        else []
    )
    name = doc[0].strip() if doc else item.name
    callspec = getattr(item, "callspec", None)
    if callspec is not None and doc:
        name = f"{name} [{callspec.id}]"
    number = _marker_arg(item, "number", None)
    return ItemInfo(
        name=name,
        points=float(points),
        visibility=visibility,
        number=None if number is None else str(number),
        tags=tags,
    )


MARKERS = (
    "points(n): how many points the test is worth",
    "visibility(v): visible | hidden | after_due_date | after_published (Gradescope's test visibility)",
    "number(s): the test's number as Gradescope shows it, e.g. '3.2'",
    "tags(*names): the student functions the test exercises",
)
