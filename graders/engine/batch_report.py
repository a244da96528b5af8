"""A run's results for people: the terminal summary, the CSV, and a self-contained HTML report.

The HTML file carries its two charts (score histogram, each test's pass rate) as SVG data drawn
by matplotlib, so it can be mailed or archived as one file. Everything from a submission (names,
messages) is escaped: it is untrusted text.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.engine.batch_task import STATUSES
from graders.engine.history import Result, Run

HISTOGRAM_COLOR = "#1f77b4"
PASS_RATE_COLOR = "#2ca02c"
SCORED = ("graded", "invalid")  # statuses whose score is a real grade (an unreadable hand-in scores 0)


def ordered_tests(results: Sequence[Result]) -> list[str]:
    """Every test name in the grader's order (taken from the fullest graded result first)."""
    names: list[str] = []
    for result in sorted(results, key=lambda r: (r.status != "graded", -len(r.tests))):
        for test in result.tests:
            if test["name"] not in names:
                names.append(test["name"])
    return names


def pass_rates(results: Sequence[Result]) -> list[tuple[str, float, float, int]]:
    """(test, share of graded submissions passing it, its points, how many were graded on it)."""
    rates = []
    for name in ordered_tests(results):
        runs = [t for r in results if r.status == "graded" for t in r.tests if t["name"] == name]
        if runs:
            passed = sum(t.get("status") == "passed" for t in runs)
            rates.append((name, passed / len(runs), max(t.get("max_score", 0.0) for t in runs), len(runs)))
    return rates


def _number(value: float) -> str:
    return f"{value:.10g}"


def _people(result: Result, field: str) -> str:
    return "; ".join(str(s.get(field, "")) for s in result.submitters)


def write_csv(results: Sequence[Result], path: str | os.PathLike) -> Path:
    """One row per submission: ids, names, emails, status, total, then each test's score (atomic write)."""
    names = ordered_tests(results)
    header = ["submission", "name", "sid", "email", "submitted_at", "status", "score", "max_score", *names]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with open(handle, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for r in results:
            scores = {t["name"]: _number(t["score"]) for t in r.tests}
            writer.writerow(
                [
                    r.key,
                    _people(r, "name"),
                    _people(r, "sid"),
                    _people(r, "email"),
                    r.metadata.get("created_at", ""),
                    r.status,
                    _number(r.score),
                    _number(r.max_score),
                    *(scores.get(n, "") for n in names),
                ]
            )
    os.chmod(partial, 0o600)  # grades are personal data
    os.replace(partial, target)
    return target


def summary(run: Run, results: Sequence[Result], console: Console) -> None:
    """The terminal view: counts per status, the score spread, the hardest tests, what was not graded."""
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    scored = [r.score for r in results if r.status in SCORED]
    possible = max((r.max_score for r in results), default=0.0)
    console.print(
        f"[bold]{run.name}[/bold]: {len(results)} submissions of {run.assignment} "
        f"(grader {run.grader_version}, {run.grader_hash[:12]})"
    )
    console.print("  " + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    if scored:
        console.print(
            f"  score: mean {statistics.fmean(scored):.2f}, median {statistics.median(scored):g}, "
            f"min {min(scored):g}, max {max(scored):g} (of {possible:g})"
        )
    rates = sorted((item for item in pass_rates(results) if item[1] < 1), key=lambda item: item[1])
    if rates:
        table = Table(title="Tests failed most often (share of graded submissions passing)")
        table.add_column("test")
        table.add_column("points", justify="right")
        table.add_column("passed", justify="right")
        for name, rate, points, _ in rates[:10]:
            table.add_row(name, f"{points:g}", f"{rate:.0%}")
        console.print(table)
    problems = [r for r in results if r.status != "graded"]
    if problems:
        table = Table(title="Not graded normally", title_justify="left")
        for column in ("submission", "who", "status", "why"):
            table.add_column(column)
        for r in problems[:20]:
            table.add_row(r.key, _people(r, "name"), r.status, (r.message.splitlines() or [""])[0][:100])
        console.print(table)
        if len(problems) > 20:
            console.print(f"  ... and {len(problems) - 20} more (see the CSV or the HTML report)")


def _svg(figure) -> str:
    import matplotlib

    # SVG with text left as text: the browser sets the labels. Rasterising a PNG took twice as long
    # (0.45 s against 0.25 s for both charts), a wait after the last submission is graded.
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "nngrade"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(results: Sequence[Result]) -> tuple[str, str]:
    """(histogram, pass rates) as base64 SVG."""
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend

    scores = [r.score for r in results if r.status in SCORED]
    possible = max((r.max_score for r in results), default=0.0) or max(scores, default=1.0) or 1.0
    histogram = Figure(figsize=(6, 3.6))
    axes = histogram.add_subplot()
    bins = int(possible) + 1 if possible <= 60 else 30
    axes.hist(scores, bins=bins, range=(0, possible + (1 if possible <= 60 else 0)), color=HISTOGRAM_COLOR)
    axes.set_xlabel(f"score (of {possible:g})")
    axes.set_ylabel("submissions")
    unscored = sum(r.status not in SCORED for r in results)
    left_out = f" ({unscored} timed out or crashed)" if unscored else ""
    axes.set_title(f"Scores of {len(scores)} submissions{left_out}")
    rates = pass_rates(results)
    passing = Figure(figsize=(6, 1.0 + 0.28 * max(len(rates), 1)))
    axes = passing.add_subplot()
    # Long names keep their end: parametrized tests differ only in their [id].
    labels = [name if len(name) <= 50 else f"{name[:32]}...{name[-15:]}" for name, *_ in rates]
    axes.barh(range(len(rates)), [rate * 100 for _, rate, *_ in rates], color=PASS_RATE_COLOR)
    axes.set_yticks(range(len(rates)), labels, fontsize=7)
    axes.invert_yaxis()  # the grader's first test on top
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of graded submissions passing")
    axes.set_title("Pass rate per test")
    return _svg(histogram), _svg(passing)


def write_html(run: Run, results: Sequence[Result], path: str | os.PathLike) -> Path:
    """A self-contained HTML report: run details, both charts, the tests and every submission."""
    histogram, passing = charts(results)
    e = html.escape
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    details = [
        ("assignment", run.assignment),
        ("grader", f"nngrade {run.grader_version}, content {run.grader_hash[:16]}"),
        ("input", run.options.get("input", "")),
        ("started", run.created_at),
        ("finished", run.finished_at or "not finished (resume with --run)"),
        ("submissions", ", ".join(f"{counts[s]} {s}" for s in STATUSES)),
    ]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in details)
    tests = "".join(
        f"<tr><td>{e(name)}</td><td>{points:g}</td><td>{rate:.0%}</td><td>{n}</td></tr>"
        for name, rate, points, n in pass_rates(results)
    )
    subs = "".join(
        f"<tr class='{e(r.status)}'><td>{e(r.key)}</td><td>{e(_people(r, 'name'))}</td>"
        f"<td>{e(_people(r, 'email'))}</td><td>{e(r.status)}</td><td>{r.score:g} / {r.max_score:g}</td>"
        f"<td>{e(r.message[:300])}</td></tr>"
        for r in results
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(run.name)}: batch report</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
.charts img {{ max-width: 48vw; }}
tr.timeout, tr.crashed {{ background: #fde8e8; }} tr.invalid {{ background: #fff6d8; }}
</style></head><body>
<h1>{e(run.name)}</h1>
<table>{rows}</table>
<div class="charts">
<img id="histogram" alt="Histogram of scores" src="data:image/svg+xml;base64,{histogram}">
<img id="pass-rates" alt="Pass rate of each test" src="data:image/svg+xml;base64,{passing}">
</div>
<h2>Tests</h2>
<table><tr><th>test</th><th>points</th><th>passed</th><th>graded</th></tr>{tests}</table>
<h2>Submissions</h2>
<table><tr><th>submission</th><th>name</th><th>email</th><th>status</th><th>score</th><th>note</th></tr>
{subs}</table>
</body></html>
"""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with open(handle, "w", encoding="utf-8") as out:
        out.write(page)
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    return target
