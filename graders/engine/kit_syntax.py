"""Reading grader modules' syntax trees for the student kit: who uses which name, and the sweep.

The sweep deletes every top-level name whose last user is gone (see kit_transform): a name counts as
used where its module reads it, where another grader module imports it, and where one reads it as an
attribute of the imported module. Annotations do not count: the graders never evaluate them.
"""

from __future__ import annotations

import ast
from collections import Counter

REFERENCE = "reference"
PINNED = frozenset({"ASSIGNMENT", "__all__", "pytestmark"})  # read by the plugin or pytest, by name


def is_reference(module: str | None) -> bool:
    """Whether a dotted module name is the reference package or one of its modules."""
    return module is not None and (module == REFERENCE or module.startswith(REFERENCE + "."))


def reference_aliases(tree: ast.Module) -> set[str]:
    """Top-level names bound by an import from the reference."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if is_reference(a.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and is_reference(node.module):
            names.update(a.asname or a.name for a in node.names)
    return names


def walk(node: ast.AST):
    """ast.walk without annotations: a name in an annotation is never evaluated by the graders."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for name, value in ast.iter_fields(current):
            if name in ("annotation", "returns"):
                continue
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, ast.AST))


def defined(stmt: ast.stmt) -> set[str]:
    """The top-level names a statement defines, if the sweep may delete it (else empty)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets = [stmt.target]
    else:
        return set()
    names = set()
    for target in targets:
        parts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        if not all(isinstance(p, ast.Name) for p in parts):
            return set()
        names.update(p.id for p in parts)
    return names


def is_test(name: str) -> bool:
    """Whether pytest collects a function of this name as a test."""
    return name.startswith("test")


def is_fixture(node: ast.AST) -> bool:
    """Whether a definition is decorated as a pytest fixture."""
    return any(
        isinstance(n, (ast.Name, ast.Attribute)) and getattr(n, "id", getattr(n, "attr", "")) == "fixture"
        for d in getattr(node, "decorator_list", [])
        for n in ast.walk(d)
    )


def pinned(stmt: ast.stmt) -> bool:
    """Statements pytest or the plugin use by name, never through a reference the sweep can see."""
    names = defined(stmt)
    by_name = any(is_test(n) or n.startswith("pytest_") for n in names)
    return bool(names & PINNED) or by_name or is_fixture(stmt)


def _module_aliases(tree: ast.Module, modules: set[str]) -> dict[str, str]:
    """Local name -> grader module, for every import of one of `modules` as a name."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                if f"{node.module}.{a.name}" in modules:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname and a.name in modules})
    return aliases


def references(trees: dict[str, ast.Module]) -> Counter:
    """(module, name) -> how many top-level statements use that module's name, from anywhere."""
    counts: Counter = Counter()
    for module, tree in trees.items():
        aliases = _module_aliases(tree, set(trees))
        for stmt in tree.body:
            own = defined(stmt)
            for node in walk(stmt):
                if isinstance(node, ast.Name) and node.id not in own:
                    counts[(module, node.id)] += 1
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    if node.value.id in aliases:
                        counts[(aliases[node.value.id], node.attr)] += 1
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    for a in node.names:
                        counts[(node.module, a.name)] += 1
    return counts


def _bound(alias: ast.alias, stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.Import):
        return alias.asname or alias.name.split(".")[0]
    return alias.asname or alias.name


def _orphan(module: str, name: str, before: Counter, after: Counter) -> bool:
    return name not in PINNED and before[(module, name)] > 0 and after[(module, name)] == 0


def sweep(trees: dict[str, ast.Module], before: Counter) -> None:
    """Delete, until none is left, every top-level name that was used before the rewrites and is not now."""
    changed = True
    while changed:
        changed = False
        after = references(trees)
        for module, tree in trees.items():
            kept = []
            for stmt in tree.body:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                        kept.append(stmt)
                        continue
                    aliases = [a for a in stmt.names if not _orphan(module, _bound(a, stmt), before, after)]
                    changed |= len(aliases) != len(stmt.names)
                    if aliases:
                        stmt.names = aliases
                        kept.append(stmt)
                    continue
                names = defined(stmt)
                if names and not pinned(stmt) and all(_orphan(module, n, before, after) for n in names):
                    changed = True
                    continue
                kept.append(stmt)
            tree.body = kept


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def reference_uses(trees: dict[str, ast.Module]) -> set[str]:
    """Dotted reference paths the kit's modules import or read ("reference.hw2", "reference.hw2.g_w1")."""
    used = set()
    for tree in trees.values():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if is_reference(a.name):
                        used.add(a.name)
                        aliases[a.asname or REFERENCE] = a.name if a.asname else REFERENCE
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and is_reference(node.module):
                for a in node.names:
                    used.add(f"{node.module}.{a.name}")
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in ast.walk(tree):
            path = _dotted(node) if isinstance(node, ast.Attribute) else None
            if path and path.split(".")[0] in aliases:
                root, _, rest = path.partition(".")
                used.add(f"{aliases[root]}.{rest}")
    return used


def source(tree: ast.Module) -> str:
    """The module's text as the kit ships it."""
    return ast.unparse(tree) + "\n"
