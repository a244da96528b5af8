"""`nngrade diff RUN_A RUN_B`: which submissions changed between two runs, by how much, on which tests.

A submission has changed when its status, its total or any test's score differs. A test whose
points changed (its max_score) is reported once for the run, not for every submission, so that
"this test is now worth 3 points" does not bury the students whose score it actually moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from graders.engine.history import History, HistoryError, Result, Run

PLACES = 6  # scores are rounded like results.json's total before comparing


@dataclass(frozen=True)
class TestChange:
    __test__ = False  # not a pytest test class

    name: str
    before: float | None  # None: the test did not exist (or did not run) in that run
    after: float | None


@dataclass(frozen=True)
class Change:
    key: str
    names: str
    status_before: str
    status_after: str
    score_before: float
    score_after: float
    tests: tuple[TestChange, ...]

    @property
    def delta(self) -> float:
        return round(self.score_after - self.score_before, PLACES)


@dataclass
class RunDiff:
    before: Run
    after: Run
    compared: int
    changed: list[Change] = field(default_factory=list)
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)
    points: list[tuple[str, float | None, float | None]] = field(default_factory=list)


def _scores(result: Result) -> dict[str, float]:
    return {t["name"]: round(t["score"], PLACES) for t in result.tests}


def _points(results: list[Result]) -> dict[str, float]:
    found: dict[str, float] = {}
    for result in results:
        for test in result.tests:
            found.setdefault(test["name"], test["max_score"])
    return found


def diff_runs(history: History, name_before: str, name_after: str) -> RunDiff:
    """Compare two runs of the same assignment, submission by submission."""
    before, after = history.run(name_before), history.run(name_after)
    if before.assignment != after.assignment:
        raise HistoryError(f"{before.name} grades {before.assignment} but {after.name} {after.assignment}")
    old = {r.key: r for r in history.results(before)}
    new = {r.key: r for r in history.results(after)}
    common = sorted(old.keys() & new.keys())
    diff = RunDiff(before, after, len(common))
    diff.only_before = sorted(old.keys() - new.keys())
    diff.only_after = sorted(new.keys() - old.keys())
    for key in common:
        a, b = old[key], new[key]
        sa, sb = _scores(a), _scores(b)
        tests = tuple(
            TestChange(name, sa.get(name), sb.get(name))
            for name in [*sa, *(n for n in sb if n not in sa)]
            if sa.get(name) != sb.get(name)
        )
        moved = round(a.score, PLACES) != round(b.score, PLACES)
        if tests or moved or a.status != b.status:
            names = "; ".join(s.get("name", "") for s in b.submitters)
            diff.changed.append(Change(key, names, a.status, b.status, a.score, b.score, tests))
    pa, pb = _points(list(old.values())), _points(list(new.values()))
    diff.points = [
        (name, pa.get(name), pb.get(name))
        for name in [*pa, *(n for n in pb if n not in pa)]
        if pa.get(name) != pb.get(name)
    ]
    return diff


def _value(score: float | None) -> str:
    return "-" if score is None else f"{score:g}"


def show_diff(diff: RunDiff, console: Console) -> None:
    """Print the diff: the grader change, the tests whose points changed, each changed submission."""
    console.print(
        f"[bold]{diff.before.name}[/bold] (grader {diff.before.grader_hash[:12]}) -> "
        f"[bold]{diff.after.name}[/bold] (grader {diff.after.grader_hash[:12]}): "
        f"{len(diff.changed)} of {diff.compared} submissions changed",
        soft_wrap=True,
    )
    for name, a, b in diff.points:
        console.print(f"  points of {name!r}: {_value(a)} -> {_value(b)}", soft_wrap=True)
    for label, keys in (("only in", diff.only_before), ("only in", diff.only_after)):
        if keys:
            run = diff.before.name if keys is diff.only_before else diff.after.name
            more = " ..." if len(keys) > 10 else ""
            console.print(f"  {len(keys)} {label} {run}: {', '.join(keys[:10])}{more}", soft_wrap=True)
    if not diff.changed:
        return
    table = Table()
    for column, justify in (("submission", "left"), ("who", "left"), ("before", "right"), ("after", "right")):
        table.add_column(column, justify=justify)
    table.add_column("change", justify="right")
    table.add_column("tests that changed")
    for change in diff.changed:
        status = ""
        if change.status_before != change.status_after:
            status = f" ({change.status_before} -> {change.status_after})"
        tests = "\n".join(f"{t.name}: {_value(t.before)} -> {_value(t.after)}" for t in change.tests)
        table.add_row(
            change.key,
            change.names,
            f"{change.score_before:g}",
            f"{change.score_after:g}",
            f"{change.delta:+g}{status}",
            tests,
        )
    console.print(table)
