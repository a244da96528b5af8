"""Finding the graders: every graders/<name>/ package that declares an ASSIGNMENT.

Kept apart from grading.py so that finding an assignment does not import pytest, the plugin and
the results schema: `nngrade batch` only needs a grader's folder and limits (0.2 s less start-up).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import graders
from graders.engine.errors import UnknownAssignment

GRADERS_DIR = Path(graders.__file__).resolve().parent


@dataclass(frozen=True)
class GraderInfo:
    name: str
    title: str
    folder: Path
    required: tuple[str, ...]
    assignment: object  # the grader's Assignment


def available() -> list[GraderInfo]:
    """Every graders/<name>/ package that declares an ASSIGNMENT."""
    found = []
    for folder in sorted(GRADERS_DIR.iterdir()):
        if folder.name == "engine" or not (folder / "__init__.py").is_file():
            continue
        module = importlib.import_module(f"graders.{folder.name}")
        assignment = getattr(module, "ASSIGNMENT", None)
        if assignment is not None:
            found.append(
                GraderInfo(assignment.name, assignment.title, folder, assignment.required, assignment)
            )
    return found


def find(name: str) -> GraderInfo:
    for info in available():
        if info.name == name:
            return info
    names = ", ".join(i.name for i in available()) or "none"
    raise UnknownAssignment(f"no grader for assignment {name!r} (available: {names})")
