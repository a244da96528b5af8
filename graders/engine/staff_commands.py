"""The course-staff commands of the CLI: batch, runs, diff, report."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from graders.engine.batch import BatchError, BatchOptions, run_batch
from graders.engine.batch_report import summary, write_csv, write_html
from graders.engine.batch_task import STATUSES
from graders.engine.cli import UsageError
from graders.engine.diffing import diff_runs, show_diff
from graders.engine.exports import InputError
from graders.engine.history import History, HistoryError

EXIT_OK, EXIT_CRASHED, EXIT_INTERRUPTED = 0, 1, 130


@contextlib.contextmanager
def _usage_errors() -> Iterator[None]:
    """Problems with the request (a missing run, a changed grader) are the user's to fix: exit 2."""
    try:
        yield
    except (BatchError, HistoryError, InputError) as exc:
        raise UsageError(str(exc)) from None


class _Progress:
    """A rich progress bar with ETA and a tally per status, on stderr; nothing at all when quiet."""

    def __init__(self, quiet: bool) -> None:
        self.tally = dict.fromkeys(STATUSES, 0)
        self.bar = None
        if not quiet:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[tally]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
        self.task = None
        self.run: str | None = None

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.stop()

    def _tally(self) -> str:
        return " ".join(f"{n} {s}" for s, n in self.tally.items() if n)

    def planned(self, run, total: int, done: int, where: str) -> None:
        self.run = run.name
        if self.bar is None:
            return
        if done == total:
            self.bar.console.print(f"Run [bold]{run.name}[/bold] is complete: nothing left to grade")
        else:
            self.bar.console.print(
                f"{'Resuming' if done else 'Starting'} run [bold]{run.name}[/bold]: {total - done} of "
                f"{total} submissions to grade on {where} (resume with --run {run.name})"
            )
        self.task = self.bar.add_task("grading", total=total, completed=done, tally="")

    def graded(self, outcome: dict) -> None:
        self.tally[outcome["status"]] += 1
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=1, tally=self._tally())


def batch_command(args: argparse.Namespace) -> int:
    options = BatchOptions(
        assignment=args.assignment,
        input=Path(args.input),
        db=Path(args.db),
        run=args.run,
        workers=args.workers,
        scheduler=args.scheduler,
        cluster=args.cluster,
        data=args.data,
        grader_dir=args.grader,
        timeout=args.timeout,
    )
    # The report needs matplotlib, whose import (0.5 s) would otherwise be a serial step after the
    # last grade: it happens on a thread while the workers grade.
    threading.Thread(target=importlib.import_module, args=("matplotlib.figure",), daemon=True).start()
    with _usage_errors(), _Progress(args.quiet) as progress:
        try:
            done = run_batch(options, on_plan=progress.planned, on_result=progress.graded)
        except KeyboardInterrupt:
            if progress.run is None:
                raise
            print(f"Interrupted: resume with --run {progress.run}", file=sys.stderr)
            return EXIT_INTERRUPTED
    html = args.report or Path(args.db).parent / (re.sub(r"[^\w.-]", "_", done.run.name) + ".html")
    written = _write(done.run, done.results, args.csv, html)
    if not args.quiet:
        console = Console()
        summary(done.run, done.results, console)
        for path in written:
            console.print(f"Wrote {path}")
    return EXIT_CRASHED if any(r.status == "crashed" for r in done.results) else EXIT_OK


def _write(run, results, csv_path, html_path) -> list[Path]:
    written = []
    if csv_path:
        written.append(write_csv(results, csv_path))
    if html_path:
        written.append(write_html(run, results, html_path))
    return written


def runs_command(args: argparse.Namespace) -> int:
    with _usage_errors(), History(args.db, create=False) as history:
        found = history.runs()
    table = Table(title=f"Runs in {args.db}", title_justify="left")
    for column in ("run", "assignment", "grader", "started", "state", "results", "mean score"):
        table.add_column(column)
    for run, planned, statuses, mean in found:
        count = sum(statuses.values())
        state = "complete" if run.finished_at else f"incomplete: {count} of {planned} (resume with --run)"
        table.add_row(
            run.name,
            run.assignment,
            f"{run.grader_version} {run.grader_hash[:12]}",
            run.created_at,
            state,
            ", ".join(f"{statuses[s]} {s}" for s in STATUSES if statuses.get(s)),
            "" if mean is None else f"{mean:.2f}",
        )
    Console().print(table)
    return EXIT_OK


def diff_command(args: argparse.Namespace) -> int:
    with _usage_errors(), History(args.db, create=False) as history:
        diff = diff_runs(history, args.run_a, args.run_b)
    show_diff(diff, Console())
    return EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    with _usage_errors(), History(args.db, create=False) as history:
        run = history.run(args.run)
        results = history.results(run)
    console = Console()
    summary(run, results, console)
    for path in _write(run, results, args.csv, args.report):
        console.print(f"Wrote {path}")
    return EXIT_OK


COMMANDS = {"batch": batch_command, "runs": runs_command, "diff": diff_command, "report": report_command}
