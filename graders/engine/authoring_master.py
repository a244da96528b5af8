"""Reading a master notebook and making the students' view of it (see authoring.py for the format).

Nothing here runs the master's code: cells are parsed, never executed.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("write your solution here")'
ANSWER_STUB = "_Write your answer here._"
TEST_TAGS = {
    "test": "visible",
    "test-hidden": "hidden",
    "test-after-due-date": "after_due_date",
    "test-after-published": "after_published",
}
ROLE_TAGS = frozenset({*TEST_TAGS, "grader", "solution", "solution-only"})


class AuthoringError(Exception):
    """A problem in the master notebook; the message names the cell and says what to change."""


@dataclass(frozen=True)
class Region:
    """Lines begin..end (0-based, the marker lines included) of one solution region."""

    begin: int
    end: int
    indent: str


@dataclass(frozen=True)
class Cell:
    """One master cell, with its authoring role read from its tags."""

    number: int  # 1-based over all cells, as an author counts them in Jupyter
    raw: dict
    source: str
    tags: tuple[str, ...]
    regions: tuple[Region, ...]

    @property
    def kind(self) -> str:
        return self.raw.get("cell_type", "")

    @property
    def where(self) -> str:
        cell_id = self.raw.get("id")
        return f"cell {self.number}" + (f" (id {cell_id!r})" if cell_id else "")

    @property
    def test_visibility(self) -> str | None:
        found = [TEST_TAGS[t] for t in self.tags if t in TEST_TAGS]
        return found[0] if found else None

    @property
    def is_grader(self) -> bool:
        return "grader" in self.tags

    @property
    def is_solution(self) -> bool:
        return self.kind == "code" and (bool(self.regions) or "solution" in self.tags)

    def lines(self) -> list[str]:
        return self.source.splitlines(keepends=True)


@dataclass(frozen=True)
class Master:
    """A parsed master notebook: its metadata, its cells, and the file name it was read from."""

    filename: str
    notebook: dict
    name: str
    title: str
    points: float
    required: tuple[str, ...]
    sandbox: dict
    cells: tuple[Cell, ...]


# --- reading the master ----------------------------------------------------------------------


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def find_regions(source: str, where: str) -> tuple[Region, ...]:
    """The solution regions of a cell's source; AuthoringError for unbalanced or misplaced markers."""
    regions, start = [], None
    for i, line in enumerate(source.splitlines()):
        text = line.strip()
        if text == BEGIN:
            if start is not None:
                raise AuthoringError(
                    f"{where}, line {i + 1}: `{BEGIN}` inside the region opened on line {start + 1}; "
                    f"close that one with `{END}` first"
                )
            start = i
        elif text == END:
            if start is None:
                raise AuthoringError(f"{where}, line {i + 1}: `{END}` without a `{BEGIN}` before it")
            opener = source.splitlines()[start]
            regions.append(Region(start, i, opener[: len(opener) - len(opener.lstrip())]))
            start = None
        elif BEGIN in line or END in line:
            raise AuthoringError(f"{where}, line {i + 1}: a solution marker must be alone on its line")
    if start is not None:
        raise AuthoringError(f"{where}, line {start + 1}: `{BEGIN}` has no `{END}` after it")
    return tuple(regions)


def _cell(number: int, raw: dict) -> Cell:
    source = _text(raw.get("source"))
    tags = tuple(str(t) for t in raw.get("metadata", {}).get("tags", []))
    where = Cell(number, raw, source, tags, ()).where
    for tag in tags:
        if tag.startswith("test") and tag not in TEST_TAGS:
            known = ", ".join(sorted(TEST_TAGS))
            raise AuthoringError(f"{where}: unknown tag {tag!r}; test cells are tagged one of {known}")
    roles = [t for t in tags if t in TEST_TAGS or t in ("grader", "solution")]
    if len(roles) > 1:
        raise AuthoringError(f"{where}: tags {', '.join(roles)} conflict; a cell has one role")
    regions = find_regions(source, where) if raw.get("cell_type") in ("code", "markdown") else ()
    if roles and roles != ["solution"] and (regions or raw.get("cell_type") != "code"):
        raise AuthoringError(f"{where}: a {roles[0]!r} cell must be a code cell without solution markers")
    return Cell(number, raw, source, tags, regions)


def _metadata(notebook: dict, filename: str) -> dict:
    meta = notebook.get("metadata", {}).get("nngrade")
    if not isinstance(meta, dict):
        raise AuthoringError(f'{filename}: notebook metadata needs an "nngrade" object (name, title, points)')
    name, title, points = meta.get("name"), meta.get("title"), meta.get("points")
    if not isinstance(name, str) or not name.isidentifier():
        raise AuthoringError(f"{filename}: nngrade.name must be a Python identifier, got {name!r}")
    if not isinstance(title, str) or not title.strip() or '"""' in title or "\\" in title:
        raise AuthoringError(f'{filename}: nngrade.title must be a non-empty string without \\ or """')
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        raise AuthoringError(f"{filename}: nngrade.points must be a positive number, got {points!r}")
    required = meta.get("required")
    names_ok = isinstance(required, list) and all(isinstance(r, str) and r.isidentifier() for r in required)
    if required is not None and not (names_ok and required):
        raise AuthoringError(f"{filename}: nngrade.required must be a non-empty list of names")
    sandbox = meta.get("sandbox", {})
    if not isinstance(sandbox, dict):
        raise AuthoringError(f"{filename}: nngrade.sandbox must be an object of SandboxConfig fields")
    return meta


def read_master(path: str | os.PathLike) -> Master:
    """Parse and check a master notebook (nbformat 4) without running any of it."""
    path = Path(path)
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuthoringError(f"{path}: not a readable notebook ({exc})") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        raise AuthoringError(f"{path.name}: only nbformat 4 notebooks can be masters")
    meta = _metadata(notebook, path.name)
    cells = tuple(_cell(i, raw) for i, raw in enumerate(notebook.get("cells", []), start=1))
    required = tuple(meta.get("required") or _graded_names(cells))
    if not required:
        raise AuthoringError(f"{path.name}: no solution region inside a function or class: nothing to grade")
    if not any(c.test_visibility for c in cells):
        raise AuthoringError(f"{path.name}: no cell is tagged {', '.join(TEST_TAGS)}: no tests")
    return Master(
        filename=path.name,
        notebook=notebook,
        name=meta["name"],
        title=meta["title"].strip(),
        points=meta["points"],
        required=required,
        sandbox=dict(meta.get("sandbox", {})),
        cells=cells,
    )


def parse(source: str, where: str) -> ast.Module:
    """The cell's code parsed, or AuthoringError naming the cell (grader code cannot hold magics)."""
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise AuthoringError(f"{where}, line {exc.lineno}: {exc.msg}") from None


def _graded_names(cells: tuple[Cell, ...]) -> list[str]:
    """Top-level functions and classes that hold a solution region, or that a whole-cell region defines."""
    names: list[str] = []
    for cell in cells:
        if cell.kind != "code" or not cell.regions:
            continue
        for node in parse(cell.source, cell.where).body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            first, last = node.lineno - 1, node.end_lineno - 1
            if node.decorator_list:
                first = node.decorator_list[0].lineno - 1
            inside = any(first <= r.begin <= last for r in cell.regions)
            around = any(r.begin < first and last < r.end for r in cell.regions)
            if (inside or around) and node.name not in names:
                names.append(node.name)
    return names


# --- the student's and the reference's view of a cell -----------------------------------------


def student_source(cell: Cell) -> str:
    """The cell with every region replaced by a stub at the region's indentation."""
    lines, out, at = cell.lines(), [], 0
    stub = STUB if cell.kind == "code" else ANSWER_STUB
    for region in cell.regions:
        out += lines[at : region.begin]
        out.append(f"{region.indent}{stub}\n")
        at = region.end + 1
    out += lines[at:]
    text = "".join(out)
    if text.endswith("\n") and not cell.source.endswith("\n"):  # a region closed the cell
        text = text[:-1]
    if cell.kind == "code" and cell.regions:
        parse(text, f"{cell.where} as the students get it")
    return text


def solution_source(cell: Cell) -> str:
    """The cell's code with the marker lines removed (what the reference module holds)."""
    markers = {i for r in cell.regions for i in (r.begin, r.end)}
    return "".join(line for i, line in enumerate(cell.lines()) if i not in markers)


# --- outputs ---------------------------------------------------------------------------------


def _student_cell(cell: Cell, master: Master) -> dict | None:
    if cell.is_grader or "solution-only" in cell.tags:
        return None
    visibility = cell.test_visibility
    if visibility not in (None, "visible"):
        return None
    metadata = {k: v for k, v in cell.raw.get("metadata", {}).items() if k not in ("tags", "execution")}
    tags = [t for t in cell.tags if t not in ROLE_TAGS]
    if tags:
        metadata["tags"] = tags
    out = {"cell_type": cell.kind, "metadata": metadata}
    if "id" in cell.raw:
        out["id"] = cell.raw["id"]
    elif master.notebook.get("nbformat_minor", 0) >= 5:  # 4.5 requires ids; a fixed one keeps output stable
        out["id"] = f"cell-{cell.number}"
    if visibility == "visible":
        out["cell_type"] = "markdown"
        text = (
            f"**Visible checks.** `nngrade check {master.name}.ipynb` runs these tests on your functions "
            "(the hidden tests run only after you submit):\n\n```python\n" + cell.source.strip("\n") + "\n```"
        )
        out["source"] = _source_lines(text)
        return out
    out["source"] = _source_lines(student_source(cell))
    if cell.kind == "code":
        out["execution_count"] = None
        out["outputs"] = []
    elif "attachments" in cell.raw:
        out["attachments"] = cell.raw["attachments"]
    return out


def _source_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def student_notebook(master: Master) -> dict:
    """The notebook students receive, as a JSON-ready dict."""
    cells = [c for c in (_student_cell(cell, master) for cell in master.cells) if c is not None]
    metadata = {k: v for k, v in master.notebook.get("metadata", {}).items() if k != "nngrade"}
    return {
        "cells": cells,
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": master.notebook.get("nbformat_minor", 5),
    }


def notebook_bytes(notebook: dict) -> bytes:
    """The notebook as Jupyter writes it (indent 1, sorted keys, UTF-8, final newline)."""
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
