"""The student kit's grader modules, made from the repository's by rewriting their syntax trees.

Three rewrites, then a sweep:

- hidden tests go: a test function all of whose cases are hidden is deleted, and one with visible and
  hidden cases gets one parametrize list holding its visible cases only, written out as literals;
- a grader function that computes from the reference (directly, or through module constants or
  functions that do) becomes a stub that replays recorded answers (kit_replay.replay), or forwards
  to its declared stand-in; test functions and fixtures are never stubbed: their own calls into the
  reference are replayed by the kit's generated `reference` package instead;
- function signatures lose their annotations, which may name reference classes.

The sweep (kit_syntax) then deletes every top-level name whose last user was deleted (the data of
hidden cases, the helpers of stubbed functions, the reference imports they needed), until nothing
changes, and test modules left without tests go too. Modules are written back with ast.unparse, so
no comment reaches the kit.
"""

from __future__ import annotations

import ast
import copy
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.engine.kit_syntax import (
    defined,
    is_reference,
    is_test,
    pinned,
    reference_aliases,
    references,
    sweep,
    walk,
)

_REPLAY_IMPORT = "from graders.engine.kit_replay import UNSET as _KIT_UNSET, replay as _kit_replay"


class KitTransformError(Exception):
    """The grader uses a construct the kit cannot rewrite; the message says which and where."""


@dataclass(frozen=True)
class Case:
    """One collected test case: its function, whether students see it, and its parametrization."""

    module: str
    function: str
    visible: bool
    name: str  # as students see it: the docstring's first line and [case id]
    case_id: str | None = None
    params: tuple[tuple[str, Any], ...] = ()  # (argument name, value), in pytest's order
    marks: tuple[tuple[str, tuple, tuple], ...] = ()  # the case's own marks: (name, args, kwargs items)


@dataclass
class Plan:
    """What to do to the grader: its cases, the functions replayed, the functions given stand-ins."""

    cases: list[Case]
    stubs: set[tuple[str, str]] = field(default_factory=set)  # (module, function)
    stand_ins: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    keep: set[tuple[str, str]] = field(default_factory=set)  # (module, name) the recordings rebuild


# --- reading the package ------------------------------------------------------------------------------


def parse_package(folder: Path, package: str) -> dict[str, ast.Module]:
    """Module name -> syntax tree, for every .py file directly in the grader package's folder."""
    trees = {}
    for path in sorted(folder.glob("*.py")):
        name = package if path.stem == "__init__" else f"{package}.{path.stem}"
        trees[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return trees


def candidates(trees: dict[str, ast.Module]) -> dict[str, set[str]]:
    """Module -> its grader functions that compute from the reference (tests and fixtures excepted)."""
    found = {}
    for module, tree in trees.items():
        tainted = reference_aliases(tree)
        changed = True
        while changed:
            changed = False
            for stmt in tree.body:
                names = defined(stmt)
                if not names or names <= tainted:
                    continue
                nodes = list(walk(stmt))
                uses = {n.id for n in nodes if isinstance(n, ast.Name)}
                imports = any(
                    (isinstance(n, ast.ImportFrom) and n.level == 0 and is_reference(n.module))
                    or (isinstance(n, ast.Import) and any(is_reference(a.name) for a in n.names))
                    for n in nodes
                )
                if uses & tainted or imports:
                    tainted |= names
                    changed = True
        found[module] = {
            s.name
            for s in tree.body
            if isinstance(s, ast.FunctionDef) and s.name in tainted and not pinned(s)
        }
    return found


# --- the rewrites -------------------------------------------------------------------------------------


def transform(trees: dict[str, ast.Module], plan: Plan) -> dict[str, ast.Module]:
    """The kit's modules (a module left without tests is absent); `trees` is left as it was."""
    trees = {m: copy.deepcopy(t) for m, t in trees.items()}
    before = references(trees)
    by_function: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for case in plan.cases:
        by_function[(case.module, case.function)].append(case)
    for (module, function), cases in by_function.items():
        node = _top_function(trees, module, function)
        visible = [c for c in cases if c.visible]
        if not visible:
            trees[module].body.remove(node)
        elif len(visible) < len(cases):
            _keep_cases(node, visible)
    for module, tree in trees.items():
        replaced = False
        for i, node in enumerate(tree.body):
            if not isinstance(node, ast.FunctionDef):
                continue
            if (module, node.name) in plan.stand_ins:
                tree.body[i] = _forwarder(node, *plan.stand_ins[(module, node.name)])
            elif (module, node.name) in plan.stubs:
                tree.body[i] = _stub(node)
                replaced = True
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                _strip_annotations(node)
        if replaced:
            _insert_header(tree, ast.parse(_REPLAY_IMPORT).body)
    tested = {m for m, t in trees.items() if _has_tests(t)}
    for key in plan.keep:
        before[key] = 0  # never an orphan: the recordings name it
    while True:
        sweep(trees, before)
        empty = [m for m in trees if m in tested and not _has_tests(trees[m])]
        if not empty:
            break
        for module in empty:
            del trees[module]
    for tree in trees.values():
        ast.fix_missing_locations(tree)
    return trees


def _has_tests(tree: ast.Module) -> bool:
    return any(isinstance(s, ast.FunctionDef) and is_test(s.name) for s in tree.body)


def _top_function(trees: dict[str, ast.Module], module: str, function: str) -> ast.FunctionDef:
    for node in trees.get(module, ast.Module(body=[])).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return node
    raise KitTransformError(
        f"{module}: test {function!r} is not a top-level function of its module; the kit supports only those"
    )


def _strip_annotations(node: ast.AST) -> None:
    args = node.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            arg.annotation = None
    if not isinstance(node, ast.Lambda):
        node.returns = None


def _docstring(node: ast.FunctionDef) -> list[ast.stmt]:
    first = node.body[0] if node.body else None
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return [first] if is_doc and isinstance(first.value.value, str) else []


def _stub(node: ast.FunctionDef) -> ast.FunctionDef:
    """def f(<the same parameters, defaults UNSET>): return _kit_replay(__name__, "f", locals(), ...)."""
    stub = copy.deepcopy(node)
    args = stub.args
    args.defaults = [ast.Name("_KIT_UNSET", ast.Load()) for _ in args.defaults]
    args.kw_defaults = [None if d is None else ast.Name("_KIT_UNSET", ast.Load()) for d in args.kw_defaults]
    variadic = [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    call = ast.Call(
        ast.Name("_kit_replay", ast.Load()),
        [
            ast.Name("__name__", ast.Load()),
            ast.Constant(node.name),
            ast.Call(ast.Name("locals", ast.Load()), [], []),
            ast.Tuple([ast.Constant(v) for v in variadic], ast.Load()),
        ],
        [],
    )
    stub.body = [*_docstring(node), ast.Return(call)]
    return stub


def _forwarder(node: ast.FunctionDef, module: str, name: str) -> ast.FunctionDef:
    """def f(*args, **kwargs): the stand-in's answer for the same call."""
    template = ast.parse(
        f"def {node.name}(*args, **kwargs):\n"
        f"    from {module} import {name} as _kit_stand_in\n"
        f"    return _kit_stand_in(*args, **kwargs)\n"
    ).body[0]
    template.body[:0] = _docstring(node)
    template.decorator_list = node.decorator_list
    return template


def _insert_header(tree: ast.Module, statements: list[ast.stmt]) -> None:
    """Insert after the module's docstring and __future__ imports."""
    index = 0
    while index < len(tree.body):
        stmt = tree.body[index]
        docstring = index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        if not (docstring or (isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__")):
            break
        index += 1
    tree.body[index:index] = statements


def _is_parametrize(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "parametrize"
    )


def _keep_cases(node: ast.FunctionDef, visible: list[Case]) -> None:
    """Replace the test's parametrize decorators by one listing the visible cases as literals."""
    where = f"{visible[0].module}.{node.name}"
    positions = [i for i, d in enumerate(node.decorator_list) if _is_parametrize(d)]
    if not positions:
        raise KitTransformError(
            f"{where}: some of its cases are hidden, but not through @pytest.mark.parametrize"
        )
    names = [n for n, _ in visible[0].params]
    if any([n for n, _ in c.params] != names for c in visible):
        raise KitTransformError(f"{where}: its cases do not all take the same parameters")
    declared = set()
    for position in positions:
        try:
            first = ast.literal_eval(node.decorator_list[position].args[0])
        except (ValueError, IndexError, SyntaxError):
            raise KitTransformError(f"{where}: parametrize's argument names are not a literal") from None
        declared.update(first.split(",") if isinstance(first, str) else first)
    declared = {n.strip() for n in declared}
    if declared != set(names):
        raise KitTransformError(
            f"{where}: parametrized fixtures are not supported ({sorted(declared)} vs {names})"
        )
    params = []
    for case in visible:
        marks = [
            ast.Call(
                _attribute("pytest", "mark", mark),
                [literal(a, where) for a in args],
                [ast.keyword(k, literal(v, where)) for k, v in kwargs],
            )
            for mark, args, kwargs in case.marks
        ]
        params.append(
            ast.Call(
                _attribute("pytest", "param"),
                [literal(v, where) for _, v in case.params],
                [
                    ast.keyword("marks", ast.List(marks, ast.Load())),
                    ast.keyword("id", ast.Constant(case.case_id)),
                ],
            )
        )
    rewritten = ast.Call(
        _attribute("pytest", "mark", "parametrize"),
        [ast.Tuple([ast.Constant(n) for n in names], ast.Load()), ast.List(params, ast.Load())],
        [],
    )
    node.decorator_list[positions[0]] = rewritten
    for position in reversed(positions[1:]):
        del node.decorator_list[position]


def _attribute(*parts: str) -> ast.expr:
    node: ast.expr = ast.Name(parts[0], ast.Load())
    for part in parts[1:]:
        node = ast.Attribute(node, part, ast.Load())
    return node


def literal(value: Any, where: str) -> ast.expr:
    """`value` as a Python literal expression; KitTransformError if no literal gives it back exactly."""
    text = repr(value)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        back = None
    if not _same(back, value):
        raise KitTransformError(f"{where}: the case value {text[:80]} cannot be written as a Python literal")
    return ast.parse(text, mode="eval").body


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b
