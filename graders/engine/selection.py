"""Which parsed top-level statements the worker executes, and a note for each one it does not.

In "definitions" mode only code that defines things is kept: imports, functions, classes, and
assignments whose value needs nothing but literals, names already kept and a few pure builtins.
Training loops, downloads, plots and anything else that does work at top level are left out,
each with a note naming the globals it would have set, so a later diagnosis can tell a student
"`m` is only set by top-level code the grader does not run". In "full" mode every parsed
statement is kept, the ones "definitions" would drop with kind "other".
"""

from __future__ import annotations

import ast

from graders.engine.cleaning import Notes, Statement, Unit, bound_names, module_level_nodes, target_names

MODES = ("definitions", "full")

# Builtins that compute a value from their arguments and call nothing the student wrote.
PURE_BUILTINS = frozenset(
    {
        "int", "float", "complex", "str", "bool", "bytes", "tuple", "list", "dict", "set", "frozenset",
        "range", "slice", "len", "min", "max", "abs", "round", "pow", "divmod", "sum", "any", "all",
        "sorted", "reversed", "enumerate", "zip",
    }
)  # fmt: skip
# Library callables that only build an object (a partial function, a record type) without running code.
PURE_LIBRARY_CALLS = frozenset(
    {"functools.partial", "collections.namedtuple", "typing.NamedTuple", "typing.NewType", "typing.TypeVar"}
)
_ALWAYS_DEFINED = frozenset({"__name__", "Ellipsis", "NotImplemented"})
# Expression nodes that evaluate their sub-expressions and nothing else.
_PLAIN_EXPRESSIONS = (
    ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Attribute, ast.Subscript, ast.Slice,
    ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred, ast.JoinedStr, ast.FormattedValue,
)  # fmt: skip
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRY = (ast.Try, getattr(ast, "TryStar", ast.Try))
_KEYWORDS = {
    ast.Assert: "assert", ast.Delete: "del", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Raise: "raise", ast.Return: "return", ast.Break: "break", ast.Continue: "continue",
}  # fmt: skip


def select(units: list[Unit], mode: str, notes: Notes) -> list[Statement]:
    """The statements to execute, in file order; notes go to `notes` for everything left out."""
    known: dict[str, str] = {}  # names bound by kept code -> the module path they import ("" if none)
    defined: dict[str, Unit] = {}  # function or class name -> the unit that last defined it
    kept: list[Statement] = []
    for unit in units:
        node = unit.node
        if _is_silent(node):
            continue
        names = bound_names(node)
        if "get_ipython" in unit.source and _calls_get_ipython(node):
            notes.add(unit.place, unit.lineno, "IPython-only get_ipython() call removed", unit.source, names)
            continue
        kind, why = judge(node, known)
        if kind is None and mode == "full":
            kind = "other"
        if kind is None:
            notes.add(unit.place, unit.lineno, why, unit.source, names)
            continue
        if isinstance(node, _DEFINITIONS):
            earlier = defined.get(node.name)
            if earlier is not None:
                reason = f"`{node.name}` is defined again at {unit.origin}; the later definition is used"
                notes.add(earlier.place, earlier.lineno, reason, earlier.source)
            defined[node.name] = unit
        _learn(known, node, names)
        kept.append(Statement(unit.source, kind, names, unit.origin, unit.lineno))
    return kept


def judge(node: ast.stmt, known: dict[str, str]) -> tuple[str | None, str]:
    """(kind, "") if definitions mode keeps the statement, else (None, the reason it is left out)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import", ""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def", ""
    if isinstance(node, ast.ClassDef):
        return "class", ""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        why = _assignment_problem(node, known)
        return (
            ("assign", "")
            if why is None
            else (None, f"top-level assignment not executed by the grader ({why})")
        )
    if isinstance(node, ast.If) and _is_main_guard(node.test):
        return None, "if __name__ == '__main__' block not executed"
    if isinstance(node, (ast.If, *_TRY)):
        why = _block_problem([node], dict(known))
        word = "if" if isinstance(node, ast.If) else "try"
        return (
            (_block_kind(node), "") if why is None else (None, f"top-level {word} block not executed ({why})")
        )
    if isinstance(node, ast.Expr):
        if isinstance(node.value, ast.Call):
            return None, "top-level call not executed by the grader"
        return None, "top-level expression not evaluated by the grader"
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return None, "top-level loop not executed by the grader"
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return None, "top-level with block not executed by the grader"
    word = _KEYWORDS.get(type(node), type(node).__name__.lower())
    return None, f"top-level {word} statement not executed by the grader"


def _is_silent(node: ast.stmt) -> bool:
    """Bare literals (a Colab export's markdown cells are bare strings) and `pass` are prose, not code."""
    return isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def _calls_get_ipython(node: ast.stmt) -> bool:
    """Whether top-level code (not a function body) calls get_ipython(), which exists only inside IPython."""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "get_ipython"
        for n in module_level_nodes(node)
    )


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {type(test.left), type(test.comparators[0])}
    values = {
        getattr(side, "id", None) or getattr(side, "value", None) for side in (test.left, *test.comparators)
    }
    return sides == {ast.Name, ast.Constant} and values == {"__name__", "__main__"}


def _block_kind(node: ast.stmt) -> str:
    """A kept if/try block's kind: what it defines, else "import" if it imports, else "assign"."""
    inner = list(module_level_nodes(node))
    for kinds, kind in (
        ((ast.FunctionDef, ast.AsyncFunctionDef), "def"),
        ((ast.ClassDef,), "class"),
        ((ast.Import, ast.ImportFrom), "import"),
    ):
        if any(isinstance(n, kinds) for n in inner):
            return kind
    return "assign"


def _block_problem(body: list[ast.stmt], known: dict[str, str]) -> str | None:
    """Why a block inside a top-level if/try cannot be kept, or None if it only defines things."""
    for node in body:
        if _is_silent(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, *_DEFINITIONS)):
            _learn(known, node, bound_names(node))
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            why = _assignment_problem(node, known)
            if why is not None:
                return why
            _learn(known, node, bound_names(node))
            continue
        if isinstance(node, ast.If) and not _is_main_guard(node.test):
            why = _expression_problem(node.test, known) or _block_problem(node.body, known)
            why = why or _block_problem(node.orelse, known)
        elif isinstance(node, _TRY):
            types = [h.type for h in node.handlers if h.type is not None]
            why = next((f"it catches `{ast.unparse(t)}`" for t in types if not _is_plain_name(t)), None)
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                why = why or _block_problem(block, known)
        else:
            why = f"it contains {_describe(node)}"
        if why is not None:
            return why
    return None


def _describe(node: ast.stmt) -> str:
    """A few words for a statement that does work: "a call to `print`", "a loop"."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return f"a call to `{_short(node.value.func)}`"
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return "a loop"
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return "a with block"
    if isinstance(node, ast.If):
        return "an if __name__ == '__main__' block"
    return f"a `{_KEYWORDS.get(type(node), type(node).__name__.lower())}` statement"


def _short(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_plain_name(node: ast.expr) -> bool:
    """An exception type written as names and attributes, which evaluating cannot run any code of note."""
    if isinstance(node, ast.Tuple):
        return all(_is_plain_name(elt) for elt in node.elts)
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _assignment_problem(
    node: ast.Assign | ast.AnnAssign | ast.AugAssign, known: dict[str, str]
) -> str | None:
    if isinstance(node, ast.AugAssign):
        if isinstance(node.target, ast.Name) and node.target.id not in known:
            return f"it updates `{node.target.id}`, which no kept code sets"
        targets = [node.target]
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
        why = _expression_problem(node.annotation, known)
        if why is not None:
            return why
    else:
        targets = node.targets
    for target in targets:
        why = _target_problem(target, known)
        if why is not None:
            return why
    return None if node.value is None else _expression_problem(node.value, known)


def _target_problem(target: ast.expr, known: dict[str, str]) -> str | None:
    if isinstance(target, ast.Name):
        return None
    if isinstance(target, (ast.Tuple, ast.List)):
        return next((w for w in (_target_problem(e, known) for e in target.elts) if w is not None), None)
    if isinstance(target, ast.Starred):
        return _target_problem(target.value, known)
    # An attribute or item set on an object that kept code made (a config dict, a class).
    return _expression_problem(target, known)


def _expression_problem(
    node: ast.expr, known: dict[str, str], local: frozenset[str] = frozenset()
) -> str | None:
    """None if evaluating the expression runs no code but pure builtins, else a short reason why not.

    `local` holds comprehension variables in scope. The walk uses a work list, not recursion, so
    a long chain such as `a + a + ... + a` cannot exhaust the interpreter's stack.
    """
    work: list[tuple[ast.expr, frozenset[str]]] = [(node, local)]
    while work:
        current, scope = work.pop()
        children: list[ast.expr] = []
        if isinstance(current, ast.Constant):
            continue
        if isinstance(current, ast.Name):
            if not (current.id in known or current.id in scope or current.id in PURE_BUILTINS
                    or current.id in _ALWAYS_DEFINED):  # fmt: skip
                return f"uses `{current.id}`"
        elif isinstance(current, ast.Call):
            why = _call_problem(current, known, scope)
            if why is not None:
                return why
            children = [*current.args, *(keyword.value for keyword in current.keywords)]
        elif isinstance(current, ast.Lambda):  # the body runs only when called; the defaults run now
            children = [*current.args.defaults, *(d for d in current.args.kw_defaults if d is not None)]
        elif isinstance(current, _COMPREHENSIONS):
            inner = set(scope)
            for generator in current.generators:
                if generator.is_async:
                    return "it iterates asynchronously"
                work.append((generator.iter, frozenset(inner)))  # each iterable sees earlier targets only
                inner.update(target_names(generator.target))
                work.extend((condition, frozenset(inner)) for condition in generator.ifs)
            parts = [current.key, current.value] if isinstance(current, ast.DictComp) else [current.elt]
            work.extend((part, frozenset(inner)) for part in parts)
        elif isinstance(current, _PLAIN_EXPRESSIONS):
            children = [c for c in ast.iter_child_nodes(current) if isinstance(c, ast.expr)]
        elif isinstance(current, ast.NamedExpr):
            return "it contains an assignment expression"
        else:
            return f"it contains {type(current).__name__.lower()}"
        work.extend((child, scope) for child in reversed(children))  # reversed: report the leftmost first
    return None


def _call_problem(node: ast.Call, known: dict[str, str], local: frozenset[str]) -> str | None:
    """Why calling this would run code, looking only at what is called (its arguments are checked apart)."""
    func = node.func
    # A builtin's name counts only while the student has not bound it to something of their own.
    builtin = (
        isinstance(func, ast.Name)
        and func.id in PURE_BUILTINS
        and func.id not in known
        and func.id not in local
    )
    if not builtin and _import_path(func, known) not in PURE_LIBRARY_CALLS:
        return f"calls `{_short(func)}`"
    if any(keyword.arg == "key" for keyword in node.keywords):
        return "it passes a key function, which would run"
    return None


def _import_path(func: ast.expr, known: dict[str, str]) -> str | None:
    """`functools.partial` for `partial` or `ft.partial` when kept imports bound those names, else None."""
    attributes = []
    while isinstance(func, ast.Attribute):
        attributes.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or not known.get(func.id):
        return None
    return ".".join([known[func.id], *reversed(attributes)])


def _learn(known: dict[str, str], node: ast.stmt, names: tuple[str, ...]) -> None:
    """Record the names a kept statement binds, and which module each imported name stands for."""
    known.update(dict.fromkeys(names, ""))
    for inner in module_level_nodes(node):
        if isinstance(inner, ast.Import):
            for alias in inner.names:
                bound = alias.asname or alias.name.split(".")[0]
                known[bound] = alias.name if alias.asname else bound
        elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
            for alias in inner.names:
                if alias.name != "*":
                    known[alias.asname or alias.name] = f"{inner.module}.{alias.name}"
