"""What a grader holds (points, questions, tests), read by collecting it with pytest, not by running it."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import pytest

from graders.engine.grading import GraderInfo, pytest_args, without_autoload
from graders.engine.scoring import item_info


@dataclass(frozen=True)
class Catalog:
    """An assignment's tests at a glance, as `nngrade list` shows them."""

    points: float
    visible_points: float
    questions: int  # distinct question numbers (the `number` markers)
    tests: int
    hidden_tests: int


class _Collector:
    def __init__(self) -> None:
        self.infos = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.infos = [item_info(item) for item in items]


class CatalogError(Exception):
    """A grader that pytest could not collect; the message holds pytest's report."""


def catalog(info: GraderInfo) -> Catalog:
    """Collect `info`'s grader (no submission, nothing run) and count its points and questions."""
    collector = _Collector()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = without_autoload(
            lambda: pytest.main(pytest_args(info, ["--collect-only"]), plugins=[collector])
        )
    if code != pytest.ExitCode.OK:
        raise CatalogError(f"the {info.name} grader could not be collected:\n{sink.getvalue()[-3000:]}")
    infos = collector.infos
    hidden = [i for i in infos if i.visibility != "visible"]
    return Catalog(
        points=sum(i.points for i in infos),
        visible_points=sum(i.points for i in infos if i.visibility == "visible"),
        questions=len({i.number for i in infos if i.number is not None}),
        tests=len(infos),
        hidden_tests=len(hidden),
    )
