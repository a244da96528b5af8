"""Shared by the grader tests: each scenario graded once through `nngrade grade`'s code path."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.engine.grading import grade
from graders.engine.results import validate_results


@pytest.fixture(scope="module")
def graded_as(tmp_path_factory):
    """graded_as(assignment, path, data=None): the validated results of grade(), computed once per module."""
    cache: dict = {}

    def run(assignment: str, path: Path, data=None) -> dict:
        key = (assignment, Path(path), data)
        if key not in cache:
            out = tmp_path_factory.mktemp("results") / "results.json"
            cache[key] = grade(assignment, path, out, data=data)
            validate_results(cache[key])
        return cache[key]

    return run
