"""Static policy checks on a submission's source, e.g. "this question must be answered with numpy only".

Decided from the loaded source, without running anything: which module-level names a
function (and the submission's own helpers it calls) reads that were bound by importing a
forbidden module. A static answer can say exactly where the forbidden use is.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from graders.engine.loading import LoadedSubmission


@dataclass(frozen=True)
class Use:
    name: str  # the module-level name used, e.g. "F"
    module: str  # what it was imported from, e.g. "torch.nn.functional"
    function: str  # the function whose body uses it
    lineno: int


def _imported_modules(loaded: LoadedSubmission) -> dict[str, str]:
    """Module-level name -> the module it came from, for every kept import (later ones win)."""
    bound: dict[str, str] = {}
    for statement in loaded.statements:
        for node in ast.walk(ast.parse(statement.source)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _functions(loaded: LoadedSubmission) -> dict[str, ast.FunctionDef]:
    """Module-level function definitions, with line numbers of the original file (later ones win)."""
    found = {}
    for statement in loaded.statements:
        tree = ast.parse(statement.source)
        ast.increment_lineno(tree, statement.lineno - 1)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node
    return found


def forbidden_uses(loaded: LoadedSubmission, function: str, modules: tuple[str, ...]) -> list[Use]:
    """Uses of names imported from `modules` (or their submodules) in `function` and the helpers it calls."""
    imported = {
        name: source for name, source in _imported_modules(loaded).items() if _matches(source, modules)
    }
    functions = _functions(loaded)
    uses, seen, todo = [], set(), [function]
    while todo:
        current = todo.pop()
        if current in seen or current not in functions:
            continue
        seen.add(current)
        for node in ast.walk(functions[current]):
            if isinstance(node, (ast.Import, ast.ImportFrom)):  # an import inside the function body
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                uses += [Use(n, n, current, node.lineno) for n in names if _matches(n, modules)]
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in imported:
                    uses.append(Use(node.id, imported[node.id], current, node.lineno))
                elif node.id in functions:
                    todo.append(node.id)
    return sorted(uses, key=lambda u: (u.lineno, u.name))


def _matches(module: str, modules: tuple[str, ...]) -> bool:
    return any(module == m or module.startswith(m + ".") for m in modules)
