"""The in-notebook view of a check: one compact HTML table (test, points, result, hint).

Every piece of text that reaches the HTML is escaped: test outputs can quote what the student's
code printed or raised, and a notebook renders whatever markup it is given. Only visible tests
are ever listed; anything else in a results dict is dropped before a row is made.
"""

from __future__ import annotations

from html import escape

VISIBLE = "visible"
HIDDEN_NOTE = "Hidden tests are not run here; they count towards your grade after you submit."
HINT_CHARS = 500  # a hint longer than this is cut; the whole message stays in the returned results
_CELL = "text-align:left;vertical-align:top;padding:2px 8px;border-bottom:1px solid #ddd"
_HINT = _CELL + ";white-space:pre-wrap;font-family:monospace;font-size:90%"
_NOTE = _HINT + ";color:#57606a"  # what a passing test has to say (an accuracy reached) is not a hint
_VERDICT = {
    "passed": ("passed", "color:#1a7f37;font-weight:bold"),
    "failed": ("FAILED", "color:#cf222e;font-weight:bold"),
}


def visible_tests(results: dict) -> list[dict]:
    """The tests a student may see, in the order they ran."""
    return [t for t in results.get("tests", []) if t.get("visibility", VISIBLE) == VISIBLE]


def totals(tests: list[dict]) -> tuple[float, float, int]:
    """(points earned, points possible, tests passed) over the given tests."""
    earned = sum(float(t.get("score", 0)) for t in tests)
    possible = sum(float(t.get("max_score", 0)) for t in tests)
    return earned, possible, sum(t.get("status") == "passed" for t in tests)


def _hint(test: dict, index: int) -> str:
    text = (test.get("output") or "").strip()
    if len(text) > HINT_CHARS:
        where = f"['tests'][{index}]['output'] of what check() returned"
        text = f"{text[:HINT_CHARS].rstrip()} ... (all of it: {where})"
    return escape(text)


def _row(test: dict, index: int) -> str:
    word, style = _VERDICT.get(test.get("status", ""), (test.get("status", "?"), ""))
    points = f"{float(test.get('score', 0)):g} / {float(test.get('max_score', 0)):g}"
    hint_style = _NOTE if test.get("status") == "passed" else _HINT
    return (
        '<tr class="nngrade-test">'
        f'<td style="{_CELL}">{escape(str(test.get("number", "")))}</td>'
        f'<td style="{_CELL}">{escape(str(test.get("name", "")))}</td>'
        f'<td style="{_CELL};text-align:right;white-space:nowrap">{escape(points)}</td>'
        f'<td style="{_CELL};{style}">{escape(word)}</td>'
        f'<td style="{hint_style}">{_hint(test, index)}</td>'
        "</tr>"
    )


def html_report(results: dict, title: str, footnote: str = "") -> str:
    """The visible tests as an HTML table, then the score, then the grader's notes folded away."""
    tests = visible_tests(results)
    earned, possible, passed = totals(tests)
    head = "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in ("#", "test", "points", "result", "hint"))
    rows = "".join(_row(test, index) for index, test in enumerate(tests))
    parts = [
        '<div class="nngrade-check">',
        f"<p><b>{escape(title)}</b></p>",
        f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead>',
        f"<tbody>{rows}</tbody></table>",
        f"<p><b>Score: {earned:g} / {possible:g}</b> on the visible tests ({passed} of {len(tests)} passed). "
        f"{escape(HIDDEN_NOTE)}</p>",
    ]
    notes = (results.get("output") or "").strip()
    if notes:
        parts.append(
            "<details><summary>What the checker read, and the code it did not run</summary>"
            f'<pre style="white-space:pre-wrap">{escape(notes)}</pre></details>'
        )
    if footnote:
        parts.append(f"<p><small>{escape(footnote)}</small></p>")
    parts.append("</div>")
    return "".join(parts)
