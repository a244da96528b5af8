"""Who may import what (shared/STYLE.md), proved by parsing every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def imported_roots(path: Path) -> set[str]:
    """Top-level package names of every import statement in the file (absolute imports only)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def modules(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("graders/engine"), ids=lambda p: p.name)
def test_engine_imports_no_reference_and_no_assignment(path):
    for name in imported_roots(path):
        root = name.split(".")[0]
        assert root != "reference", f"{path.name} imports {name}"
        if root == "graders":
            assert name == "graders" or name.startswith("graders.engine"), f"{path.name} imports {name}"
        else:
            # The worker runs as a script and imports its engine siblings by bare name.
            siblings = {p.stem for p in modules("graders/engine")}
            declared = {"numpy", "nbformat", "nbconvert", "jsonschema", "pytest", "rich", "yaml", "sklearn"}
            declared |= {"threadpoolctl"}  # pyproject's dependencies name it too
            declared |= {"_pytest"}  # pytest's own package, installed with it (the zygote preloads it)
            declared |= {"distributed", "matplotlib"}  # the `staff` extra: batch regrading only
            assert root in STDLIB | declared | siblings, f"{path.name} imports undeclared {name}"


@pytest.mark.parametrize("path", modules("reference"), ids=lambda p: p.name)
def test_reference_imports_numpy_and_the_standard_library(path):
    for name in imported_roots(path):
        root = name.split(".")[0]
        # torch is allowed only for the exercise that is about torch (the slope experiment).
        allowed = (
            STDLIB | {"numpy", "reference"} | ({"torch"} if path.name == "gradient_descent.py" else set())
        )
        assert root in allowed, f"{path.name} imports {name}"


def test_engine_modules_exist():
    assert modules("graders/engine"), "no engine modules found: the layering test would prove nothing"


def grader_modules() -> list[Path]:
    return [p for p in modules("graders") if p.parent.name not in ("graders", "engine")]


@pytest.mark.parametrize("path", grader_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_assignment_grader_imports_the_engine_its_own_package_and_the_reference(path):
    own = path.parent.name
    for name in imported_roots(path):
        if name.startswith("graders."):
            allowed = (
                name.startswith("graders.engine")
                or name == f"graders.{own}"
                or name.startswith(f"graders.{own}.")
            )
            assert allowed, f"graders/{own}/{path.name} imports {name}"


def test_assignment_graders_exist():
    assert grader_modules(), "no assignment graders found: the test above would prove nothing"
