"""The files of a student kit besides its grader: the engine it needs, reference stubs, requirements.

- The engine modules are those the kit's code reaches by its imports (the worker's bare sibling
  imports included), never the staff's: building, packaging and the full command line stay out.
- The `reference` package is generated: each module the kit's grader still names gets a stub per
  public function (same parameters, a body that replays recorded answers), a failing stand-in per
  class it uses, and the plain constants it reads. No docstring is copied: the reference's own
  docstrings state the formulas.
- requirements.txt lists the pyproject requirements the kit's code imports, plus those of what
  the handout's graded functions import (torch, for an exercise about torch).
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import json
import re
import sys
from pathlib import Path

from graders.engine.kit_syntax import REFERENCE
from graders.engine.kit_transform import KitTransformError, literal

ENGINE_ROOTS = ("plugin", "grading", "report", "results", "kit_replay", "kit_cli", "worker")
STAFF_ONLY = frozenset(
    {"packaging", "commands", "cli", "catalog", "kit", "kit_record", "kit_transform", "kit_files"}
)
_REPLAY_NAMES = "UNSET as _KIT_UNSET, replay as _kit_replay, unavailable as _kit_unavailable"


# --- the engine -------------------------------------------------------------------------------------


def _engine_imports(source: str, siblings: set[str]) -> set[str]:
    """Engine module names that `source` imports (graders.engine.X, or X beside the worker)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("graders.engine."):
                    found.add(alias.name.split(".")[2])
                elif alias.name in siblings:
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "graders.engine":
                found.update(a.name for a in node.names if a.name in siblings)
            elif node.module.startswith("graders.engine."):
                found.add(node.module.split(".")[2])
            elif node.module in siblings:
                found.add(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(".py"):
            if node.value[:-3] in siblings:  # a sibling started as a script, like the worker
                found.add(node.value[:-3])
    return found


def engine_modules(engine_dir: Path, sources: list[str]) -> list[str]:
    """The engine modules (file stems) the kit's code needs, following imports from `sources`."""
    siblings = {p.stem for p in engine_dir.glob("*.py")}
    needed: set[str] = set()
    pending = set(ENGINE_ROOTS)
    for text in sources:
        pending |= _engine_imports(text, siblings)
    importer: dict[str, str] = {}
    while pending:
        name = pending.pop()
        if name in needed or name not in siblings:
            continue
        needed.add(name)
        for found in _engine_imports((engine_dir / f"{name}.py").read_text(encoding="utf-8"), siblings):
            importer.setdefault(found, name)
            pending.add(found)
    staff = sorted(needed & STAFF_ONLY)
    if staff:
        raise KitTransformError(
            "the kit would need the staff-only engine module(s) "
            + ", ".join(f"{s} (imported by {importer.get(s, 'the grader')})" for s in staff)
        )
    return sorted(needed | {"__init__"})


# --- the reference's stubs ----------------------------------------------------------------------------


class _Source:
    """Prints as the given source text inside an inspect.Signature."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _stub_function(name: str, function) -> str:
    signature = inspect.signature(function)
    parameters = [
        p.replace(
            annotation=inspect.Parameter.empty,
            default=_Source("_KIT_UNSET") if p.default is not inspect.Parameter.empty else p.default,
        )
        for p in signature.parameters.values()
    ]
    varying = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    variadic = tuple(p.name for p in parameters if p.kind in varying)
    text = signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)
    return f"def {name}{text}:\n    return _kit_replay(__name__, {name!r}, locals(), {variadic!r})\n"


def _stub_module(module, wanted: set[str]) -> str:
    lines = [
        f'"""Stubs of {module.__name__} for the student kit: its names, and answers recorded when the kit '
        'was built (see graders/engine/kit_replay.py)."""',
        "",
        f"from graders.engine.kit_replay import {_REPLAY_NAMES}",
        "",
    ]
    missing = set(wanted)
    for name, value in sorted(vars(module).items()):
        if inspect.ismodule(value):
            missing.discard(name)
            continue
        own_function = inspect.isfunction(value) and value.__module__ == module.__name__
        if own_function and (not name.startswith("_") or name in wanted):
            lines += ["", _stub_function(name, value)]
        elif name in wanted and isinstance(value, type):
            lines += [
                "",
                f"class {name}:\n    def __init__(self, *args, **kwargs):\n"
                f"        _kit_unavailable(__name__ + {'.' + name!r})\n",
            ]
        elif name in wanted:
            lines += ["", f"{name} = {ast.unparse(literal(value, f'{module.__name__}.{name}'))}\n"]
        missing.discard(name)
    if missing:
        raise KitTransformError(f"the kit needs {sorted(missing)} of {module.__name__}, which lacks them")
    return "\n".join(lines).rstrip() + "\n"


def reference_stubs(used: set[str]) -> dict[str, str]:
    """Path in the kit -> text, for the reference modules and names the kit's grader still uses."""
    modules: dict[str, set[str]] = {}
    for path in sorted(used):
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            if _module(name) is not None:
                break
        else:
            raise KitTransformError(f"the kit's grader imports {path}, which cannot be found")
        for start in range(1, end + 1):
            modules.setdefault(".".join(parts[:start]), set())
        if end < len(parts):
            modules[name].add(parts[end])
    files = {}
    for name, wanted in modules.items():
        relative = "/".join(name.split(".")) + ("/__init__.py" if name == REFERENCE else ".py")
        files[relative] = _stub_module(_module(name), wanted)
    return files


def _module(name: str):
    """The reference module `name`: the one the grader has imported, else imported by name here."""
    if name in sys.modules:
        return sys.modules[name]
    try:
        return importlib.import_module(name)  # by name, like the CLI's demo: the engine imports no reference
    except ImportError:
        return None


# --- requirements -------------------------------------------------------------------------------------


def imported_roots(source: str) -> set[str]:
    """Top-level packages a module imports, including by name (importlib.import_module, find_spec)."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if called in ("import_module", "find_spec") and isinstance(node.args[0].value, str):
                roots.add(node.args[0].value.split(".")[0])
    return roots


def graded_imports(path: Path, graded: tuple[str, ...]) -> set[str]:
    """Top-level packages the graded functions and classes of a notebook or script use.

    Asked of the solution the kit is recorded with: the handout's stubs use nothing yet.
    """
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        texts = ["".join(c.get("source", [])) for c in cells if c.get("cell_type") == "code"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    aliases: dict[str, str] = {}
    names: set[str] = set()
    roots: set[str] = set()
    for text in texts:
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("!", "%")))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                aliases.update({a.asname or a.name.split(".")[0]: a.name.split(".")[0] for a in node.names})
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                aliases.update({a.asname or a.name: node.module.split(".")[0] for a in node.names})
            elif getattr(node, "name", None) in graded:
                roots |= imported_roots(ast.unparse(node))  # imports inside the function
                names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return roots | {aliases[n] for n in names if n in aliases}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path, roots: set[str]) -> list[str]:
    """The pyproject requirements (any extra included) whose distributions provide one of `roots`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the installed metadata carries the same lists
        specs = [r.split(";")[0].strip() for r in importlib.metadata.requires("nngrade") or []]
    else:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        specs = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            specs += [s for s in extra if not s.startswith(project.get("name", "") + "[")]
    provides = importlib.metadata.packages_distributions()
    wanted = {_normal(d) for root in roots for d in provides.get(root, [])}
    chosen: dict[str, str] = {}
    for spec in specs:
        name = _normal(re.match(r"[A-Za-z0-9_.\-]+", spec).group(0))
        if name in wanted and name not in chosen:
            chosen[name] = spec
    return sorted(chosen.values(), key=str.lower)
