"""IPython-only syntax rewritten so the text parses as plain Python, every line keeping its number.

A line that starts a statement with `!` (shell) or `%` (line magic), assigns from one
(`x = !ls`), or asks for help (`np.dot?`) becomes `pass` at the same indentation, so a
function containing one still parses. A `%%magic` on a cell's first line either goes (its body
kept: %%time, %%timeit, %%capture) or takes the whole cell with it (%%bash, %%writefile, ...).
Each removal is reported, with the names the removed code would have bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Cell magics whose body is ordinary Python that IPython runs in the notebook's namespace.
KEEP_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture"})

_ASSIGN_FROM_MAGIC = re.compile(r"\s*(?P<targets>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s*(?P<sigil>[!%])")
_HELP_REQUEST = re.compile(r"\s*(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_MAGIC = re.compile(r"\s*%{1,2}(?P<name>[\w.-]*)\s*(?P<rest>.*)$")
_CELL_MARKER = re.compile(r"\s*#\s*%%")


@dataclass(frozen=True)
class Removed:
    """IPython-only code taken out: where (1-based line), why, and what it would have bound.

    `code` is the Python a magic would have run itself (`%time x = f()` runs `x = f()`), so the
    caller, which parses, can add what that binds.
    """

    lineno: int
    reason: str
    line: str
    binds: tuple[str, ...] = ()
    code: str = ""


class LineScanner:
    """Follows strings, brackets and backslash continuations line by line, to tell where statements start.

    Written by hand rather than with `tokenize`, because the lines it reads may still hold shell
    commands such as `!echo "it's"` that the tokenizer cannot get past. brackets=False follows
    strings only, for guessing statement starts in code whose brackets do not balance.
    """

    def __init__(self, brackets: bool = True) -> None:
        self.quote = ""  # delimiter of a string still open at the end of the last line
        self.depth = 0
        self.continued = False
        self.brackets = brackets

    def at_statement_start(self) -> bool:
        """Whether the next line begins a new statement (no string, bracket or backslash left open)."""
        return not self.quote and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        """Advance over one line (without its newline)."""
        self.continued = False
        i, n = 0, len(line)
        while i < n:
            char = line[i]
            if self.quote:
                if char == "\\":
                    i += 2
                elif line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = ""
                else:
                    i += 1
                continue
            if char == "#":
                return
            if char in "'\"":
                self.quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else char
                i += len(self.quote)
                continue
            if self.brackets and char in "([{":
                self.depth += 1
            elif self.brackets and char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        escaped_newline = (len(line) - len(line.rstrip("\\"))) % 2 == 1
        if len(self.quote) == 1 and not escaped_newline:
            self.quote = ""  # an unterminated one-line string: the parser will report it; scanning goes on
        self.continued = escaped_newline and not self.quote


def strip_leading_indent(text: str) -> str:
    """Dedent a cell whose first line is indented, as IPython does before running it."""
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    prefix = first[: len(first) - len(first.lstrip())]
    if not prefix:
        return text
    return "\n".join(line[len(prefix) :] if line.startswith(prefix) else line for line in lines)


def translate(text: str, *, notebook: bool) -> tuple[str | None, list[Removed]]:
    """The text with IPython-only lines rewritten (None if the whole cell goes), and what was removed.

    In a notebook a `%%magic` counts only on the cell's first non-blank line. In a script (a Colab
    export keeps them) it may start any statement, and a dropped magic's body is taken to run to
    the next blank line or `# %%` marker, since the export no longer says where the cell ended.
    """
    lines = text.split("\n")
    removed: list[Removed] = []
    if notebook:
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is not None and lines[first].startswith("%%"):
            if not _cell_magic(lines[first], first + 1, removed):
                return None, removed
            lines[first] = ""
    scanner = LineScanner()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not (scanner.at_statement_start() and line.strip()):
            scanner.feed(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if not notebook and line.lstrip().startswith("%%"):
            keep_body = _cell_magic(line, i + 1, removed)
            lines[i] = indent + "pass"
            i += 1
            while not keep_body and i < len(lines) and lines[i].strip() and not _CELL_MARKER.match(lines[i]):
                lines[i] = ""
                i += 1
            continue
        found = _line_magic(line, i + 1)
        if found is None:
            scanner.feed(line)
            i += 1
            continue
        removed.append(found)
        lines[i] = indent + "pass"
        # IPython joins a magic that ends in a backslash with the next line: those lines go too.
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line, lines[i] = lines[i], ""
        i += 1
    return "\n".join(lines), removed


def _cell_magic(line: str, lineno: int, removed: list[Removed]) -> bool:
    """Record a `%%magic` line; True if its body is ordinary Python that stays."""
    match = _MAGIC.match(line)
    name, rest = match.group("name"), match.group("rest")
    if name not in KEEP_BODY_CELL_MAGICS:
        removed.append(Removed(lineno, f"%%{name} cell not executed by the grader", line))
        return False
    # `%%capture out` stores the captured output in `out`.
    binds = tuple(rest.split()[:1]) if name == "capture" and rest and not rest.startswith("-") else ()
    removed.append(Removed(lineno, f"cell magic %%{name} removed (its body is kept)", line, binds))
    return True


def _line_magic(line: str, lineno: int) -> Removed | None:
    """What to report if the line, found at a statement start, is IPython-only syntax."""
    stripped = line.strip()
    if stripped.startswith("!"):
        return Removed(lineno, "shell command removed", line)
    if stripped.startswith("%"):
        match = _MAGIC.match(line)
        name = match.group("name")
        code = match.group("rest") if name == "time" else ""  # `%time x = f()` would have bound x
        return Removed(lineno, f"IPython magic %{name} removed", line, (), code)
    match = _ASSIGN_FROM_MAGIC.match(line)
    if match:
        what = "a shell command" if match.group("sigil") == "!" else "an IPython magic"
        targets = tuple(re.split(r"\s*,\s*", match.group("targets")))
        return Removed(lineno, f"assignment from {what} removed", line, targets)
    if _HELP_REQUEST.match(line):
        return Removed(lineno, "IPython help request removed", line)
    return None
