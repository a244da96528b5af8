"""The terminal view of a results.json: a table per test and the messages that say what to fix."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text


def show(results: dict, console: Console, *, include_hidden: bool, title: str) -> None:
    """Print the graded tests (hidden ones only for staff), then the failure messages."""
    tests = [
        t for t in results.get("tests", []) if include_hidden or t.get("visibility", "visible") == "visible"
    ]
    table = Table(title=title, show_lines=False)
    for heading, justify in (("#", "right"), ("test", "left"), ("score", "right"), ("", "left")):
        table.add_column(heading, justify=justify)
    for test in tests:
        ok = test.get("status") == "passed"
        mark = Text("ok", style="green") if ok else Text("FAIL", style="bold red")
        hidden = "" if test.get("visibility", "visible") == "visible" else f" ({test['visibility']})"
        table.add_row(
            test.get("number", ""), test["name"] + hidden, f"{test['score']:g} / {test['max_score']:g}", mark
        )
    console.print(table)
    for test in tests:
        if test.get("status") != "passed" and test.get("output"):
            console.print(Text(f"\n{test.get('number', '')} {test['name']}", style="bold"))
            console.print(Text(test["output"]))
    if results.get("output"):
        console.print(Text("\n" + results["output"].rstrip()))
    total = sum(t["max_score"] for t in tests)
    console.print(Text(f"\nScore: {sum(t['score'] for t in tests):g} / {total:g}", style="bold"))
