"""What a grader module declares about its assignment, in one frozen object.

A grader module sets `ASSIGNMENT = Assignment(...)` at top level; the pytest plugin finds it on
the collected modules. Everything about running the student's code (which names to look for,
time and memory limits) comes from here, with safe defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders.engine.sandbox import SandboxConfig


@dataclass(frozen=True)
class Assignment:
    """An assignment's identity and the limits its submissions run under."""

    name: str
    title: str
    required: tuple[str, ...]  # the graded names, used to pick a file from a folder or zip
    mode: str = "definitions"  # "full" runs top-level code too (for assignments that need it)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    max_bytes: int = 20_000_000  # largest submission file accepted
    total_points: float | None = None  # if given, a test checks the graders add up to it
    # Precomputes what grading on some data will cache (e.g. the reference's accuracy); run by
    # `nngrade build`, so every Gradescope run finds it in the zip instead of recomputing it.
    prepare: Callable[[Path | None], None] | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(
                f"assignment name {self.name!r} must be a Python identifier (it names a package)"
            )
        if self.mode not in ("definitions", "full"):
            raise ValueError(
                f"Assignment {self.name}: mode must be 'definitions' or 'full', not {self.mode!r}"
            )
