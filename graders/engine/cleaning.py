"""From a notebook cell or a script's text to parsed top-level statements, without running anything.

After IPython syntax is rewritten (`magics.py`), code that still does not parse is cut out as
narrowly as can be told: a whole cell in a notebook, one top-level statement in a script. The
rest is kept, with line numbers unchanged. What is then kept or dropped is `selection.py`'s call.
Also home to the records the other steps share: Statement, Note and the notes collector.
"""

from __future__ import annotations

import ast
import bisect
import io
import keyword
import re
import tokenize
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from graders.engine.magics import LineScanner, Removed, strip_leading_indent, translate

MAX_REPAIRS = 50  # broken statements cut out of one script before falling back to piece by piece
SNIPPET_CHARS = 80

_CLAUSE = re.compile(r"\s*(?:else|elif|except|finally)\b")
_GUESS_BINDING = re.compile(
    r"(?:async\s+)?(?:def|class)\s+(?P<def>\w+)|(?P<var>[A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)"
)


@dataclass(frozen=True)
class Statement:
    """One top-level statement the worker will execute, in file order.

    `origin` reads "cell 4, line 2" in a notebook, where cells are numbered from 1 over code
    cells only (markdown and raw cells are not counted), and "line 40" in a script.
    """

    source: str
    kind: str
    names: tuple[str, ...]
    origin: str
    lineno: int


@dataclass(frozen=True)
class Note:
    """Something the grader left out (or a choice it made), where, and the module-level names it binds.

    `binds` lists the globals the left-out code would have set, so a diagnosis can point at them.
    """

    origin: str
    lineno: int
    reason: str
    snippet: str
    binds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Place:
    """A piece of source parsed on its own: one notebook code cell, or a whole script (empty label)."""

    index: int
    label: str = ""

    def origin(self, lineno: int) -> str:
        """The place as a student reads it: "cell 3, line 2" in a notebook, "line 40" in a script."""
        return f"{self.label}, line {lineno}" if self.label else f"line {lineno}"


@dataclass(frozen=True)
class Unit:
    """A parsed top-level statement with its exact source text and where it came from."""

    node: ast.stmt
    source: str
    place: Place
    lineno: int

    @property
    def origin(self) -> str:
        """Where the statement starts, as a student would look for it."""
        return self.place.origin(self.lineno)


@dataclass
class Notes:
    """Notes gathered from several steps, handed back in file order whatever step made them."""

    _items: list[tuple[tuple[int, int, int], Note]] = field(default_factory=list)

    def add(
        self, place: Place | None, lineno: int, reason: str, line: str = "", binds: Iterable[str] = ()
    ) -> None:
        """Note something at a line of a cell or script (place None: about the submission as a whole)."""
        origin = "submission" if place is None else place.origin(lineno)
        key = (-1 if place is None else place.index, lineno, len(self._items))
        self._items.append((key, Note(origin, lineno, reason, snippet(line), tuple(binds))))

    def sorted(self) -> tuple[Note, ...]:
        """All notes, whole-submission ones first, then by cell and line."""
        return tuple(note for _, note in sorted(self._items, key=lambda item: item[0]))


def parse(source: str) -> ast.Module:
    """ast.parse with compile-time warnings silenced (an invalid escape such as "\\d" in a student's
    string would otherwise become a SyntaxError under a warnings-as-errors filter)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def snippet(text: str) -> str:
    """The first non-blank line of text, stripped and cut to about 80 characters."""
    line = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    return line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 3] + "..."


def target_names(target: ast.AST) -> list[str]:
    """Names an assignment target binds: `a`, `a, (b, *c)`; attributes and items bind none."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in target_names(elt)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def module_level_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Walk a top-level statement in source order, not entering function, class or lambda bodies."""
    stack = [node]
    while stack:  # iterative: a deeply nested expression must not exhaust the recursion limit
        current = stack.pop()
        yield current
        if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(reversed(list(ast.iter_child_nodes(current))))


def bound_names(node: ast.AST) -> tuple[str, ...]:
    """Module-level names a top-level statement binds, in order (not those local to a def, class, lambda)."""
    found: list[str] = []
    for n in module_level_nodes(node):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            found.extend((a.asname or a.name.split(".")[0]) for a in n.names if a.name != "*")
        elif isinstance(n, ast.Assign):
            found.extend(name for target in n.targets for name in target_names(target))
        elif isinstance(n, (ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
            found.extend(target_names(n.target))
        elif isinstance(n, ast.AnnAssign) and n.value is not None:
            found.extend(target_names(n.target))
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            found.extend(target_names(n.optional_vars))
    return tuple(dict.fromkeys(found))


def guess_bindings(text: str) -> tuple[str, ...]:
    """Best guess at the names code that does not parse was meant to bind (column-0 defs and assignments)."""
    found = []
    for line in text.split("\n"):
        match = _GUESS_BINDING.match(line)
        if match and not keyword.iskeyword(match.group("def") or match.group("var")):  # `else: x = 1`
            found.append(match.group("def") or match.group("var"))
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------------------------------------
# Parsing, and recovery from code that does not parse
# ---------------------------------------------------------------------------------------------


def _statement_starts(lines: list[str]) -> list[int]:
    """1-based numbers of the lines where top-level statements begin (clauses such as `else:` included)."""
    starts: list[int] = []
    depth, fresh = 0, True
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines)).readline):
            if tok.type == tokenize.INDENT:
                depth += 1
            elif tok.type == tokenize.DEDENT:
                depth -= 1
            elif tok.type == tokenize.NEWLINE:
                fresh = True
            elif tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER) and fresh:
                fresh = False
                if depth == 0:
                    starts.append(tok.start[0])
        return starts
    except (tokenize.TokenError, SyntaxError):
        pass
    # The tokenizer gave up part-way (an unclosed bracket or string, a bad dedent). Past the last
    # statement it saw, lines that begin at column 0 outside any string are the best guess.
    after = starts[-1] if starts else 0
    scanner = LineScanner(brackets=False)
    for number, line in enumerate(lines, 1):
        if number > after and scanner.at_statement_start() and line.strip() and line[0] not in " \t#)]}":
            starts.append(number)
        scanner.feed(line)
    return starts


def _joins_previous(lines: list[str], starts: list[int], k: int) -> bool:
    """Whether statement start k belongs to the one before it (an `else:` clause, or after a decorator)."""
    return k > 0 and (
        bool(_CLAUSE.match(lines[starts[k] - 1])) or lines[starts[k - 1] - 1].lstrip().startswith("@")
    )


def _spans(lines: list[str], starts: list[int]) -> list[tuple[int, int]]:
    """(first, last) line of every whole top-level statement, clauses and decorators merged in."""
    spans: list[tuple[int, int]] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] - 1 if k + 1 < len(starts) else len(lines)
        if spans and _joins_previous(lines, starts, k):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _broken_span(lines: list[str], exc: SyntaxError) -> tuple[int, int]:
    """The lines of the top-level statement a syntax error lies in."""
    bad = min(max(exc.lineno or 1, 1), len(lines))
    spans = _spans(lines, _statement_starts(lines))
    if not spans or bad < spans[0][0]:
        return bad, (spans[0][0] - 1 if spans else bad)
    if (exc.msg or "").startswith("unexpected indent"):
        return bad, next((s[0] - 1 for s in spans if s[0] > bad), len(lines))
    if (exc.msg or "").startswith("expected an indented block"):
        bad -= 1  # the error sits on the line after the header that lacks a body
    index = max(bisect.bisect_right([s[0] for s in spans], bad) - 1, 0)
    return spans[index]


def _syntax_message(exc: BaseException, offset: int = 0) -> str:
    """A parser or compiler error as "message (line N)", N counted in the student's file."""
    if isinstance(exc, RecursionError):
        return "too deeply nested"
    if isinstance(exc, SyntaxError):
        return f"{exc.msg or 'invalid syntax'} (line {(exc.lineno or 1) + offset})"
    return str(exc)


def _compile_problem(node: ast.stmt) -> str | None:
    """Errors the parser lets through but the compiler does not (`return` outside a function, a bad
    `nonlocal`): found here by compiling, which runs nothing, rather than in the worker."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(ast.Module(body=[node], type_ignores=[]), "<submission>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError) as exc:
        return _syntax_message(exc)
    return None


def _parse_piecewise(lines: list[str], place: Place, notes: Notes) -> list[ast.stmt]:
    """Parse each top-level statement on its own, keeping those that parse (the last resort)."""
    body: list[ast.stmt] = []
    for first, last in _spans(lines, _statement_starts(lines)):
        piece = "\n".join(lines[first - 1 : last])
        try:
            tree = parse(piece)
        except (SyntaxError, RecursionError, ValueError) as exc:
            reason = f"statement does not parse: {_syntax_message(exc, first - 1)}"
            notes.add(place, first, reason, piece, guess_bindings(piece))
            continue
        ast.increment_lineno(tree, first - 1)
        body.extend(tree.body)
    return body


def _units(body: list[ast.stmt], lines: list[str], place: Place, notes: Notes) -> list[Unit]:
    """Pair each parsed statement with its exact source, dropping those the compiler would reject."""
    units = []
    for node in body:
        decorators = getattr(node, "decorator_list", [])
        first, col = (decorators[0].lineno, 0) if decorators else (node.lineno, node.col_offset)
        source = _slice(lines, first, col, node.end_lineno, node.end_col_offset)
        problem = _compile_problem(node)
        if problem is None:
            units.append(Unit(node, source, place, first))
        else:
            notes.add(place, first, f"statement does not compile: {problem}", source, bound_names(node))
    return units


def _slice(lines: list[str], line1: int, col1: int, line2: int, col2: int) -> str:
    """Source between two AST positions (columns are UTF-8 byte offsets, as the ast module gives them)."""
    if line1 == line2:
        return lines[line1 - 1].encode()[col1:col2].decode()
    head = lines[line1 - 1].encode()[col1:].decode()
    tail = lines[line2 - 1].encode()[:col2].decode()
    return "\n".join([head, *lines[line1 : line2 - 1], tail])


def _report(removed: list[Removed], place: Place, notes: Notes) -> None:
    """Turn what the IPython rewrite removed into notes, with the names that code would have bound."""
    for item in removed:
        binds = item.binds
        if item.code:
            try:
                binds += bound_names(parse(item.code))
            except (SyntaxError, ValueError):
                pass  # `%time` followed by something that is not Python: it binds nothing we can name
        notes.add(place, item.lineno, item.reason, item.line, binds)


def parse_cell(text: str, place: Place, notes: Notes) -> list[Unit]:
    """Top-level statements of one notebook code cell; a cell that does not parse is skipped whole."""
    translated, removed = translate(strip_leading_indent(text), notebook=True)
    _report(removed, place, notes)
    if translated is None or not translated.strip():
        return []
    try:
        tree = parse(translated)
    except (SyntaxError, RecursionError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        notes.add(place, line, f"cell does not parse: {_syntax_message(exc)}", text, guess_bindings(text))
        return []
    return _units(tree.body, translated.split("\n"), place, notes)


def parse_script(text: str, notes: Notes) -> list[Unit]:
    """Top-level statements of a .py file; statements that do not parse are cut out one at a time."""
    place = Place(0)
    translated, removed = translate(text, notebook=False)
    _report(removed, place, notes)
    lines = translated.split("\n")
    for _ in range(MAX_REPAIRS):
        try:
            tree = parse("\n".join(lines))
        except SyntaxError as exc:
            first, last = _broken_span(lines, exc)
            broken = "\n".join(lines[first - 1 : last])
            if not broken.strip():
                break  # the error is not inside any statement found: nothing narrower to cut
            reason = f"statement does not parse: {_syntax_message(exc)}"
            notes.add(place, first, reason, broken, guess_bindings(broken))
            lines[first - 1 : last] = [""] * (last - first + 1)  # blank, not delete: keep line numbers
        except (RecursionError, ValueError):
            break
        else:
            return _units(tree.body, lines, place, notes)
    return _units(_parse_piecewise(lines, place, notes), lines, place, notes)
