"""The `nngrade` command line: `main(argv) -> int`, so tests can call it without a subprocess."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from graders import __version__
from graders.engine.errors import BuildError, DataError, UnknownAssignment

EXIT_OK = 0
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the person at the keyboard; the message says what to do instead."""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade",
        description="Grade neural-network coursework in a sandbox and write Gradescope results.",
    )
    parser.add_argument("--version", action="version", version=f"nngrade {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="work the seed exercises with the reference solutions and train the hw2 models",
        description=(
            "Prints answers of each by-hand seed exercise as the reference computes them, hw2 Q1 at "
            "the handout point, then trains the three hw2 models at the handout setting. Uses MNIST from "
            "--mnist if given, otherwise the handwritten digits bundled with scikit-learn (offline)."
        ),
    )
    demo.add_argument(
        "--mnist", metavar="DIR", help="directory holding MNIST IDX files (t10k-*/train-*, .gz or not)"
    )
    demo.add_argument(
        "--epochs", type=int, default=20, help="training epochs per model (default: 20, the handout's)"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("list", help="list the assignments that have a grader")

    grade = sub.add_parser("grade", help="grade one submission (all tests) and write results.json")
    grade.add_argument("assignment", help="assignment name, e.g. hw2 (see `nngrade list`)")
    grade.add_argument("submission", help="the student's .ipynb, .py, folder or .zip")
    grade.add_argument("--results", metavar="OUT", default="results.json", help="where to write results.json")
    grade.add_argument("--data", metavar="PATH", help="data for the grader, e.g. a folder of MNIST files")

    check = sub.add_parser("check", help="students: run the visible checks on your work, offline")
    check.add_argument("submission", help="your notebook (.ipynb), script (.py), folder or .zip")
    check.add_argument("--assignment", help="which assignment (inferred from your function names if omitted)")
    check.add_argument("--data", metavar="PATH", help="a folder of MNIST files, if you have one")

    validate = sub.add_parser("validate", help="check that a results.json follows Gradescope's format")
    validate.add_argument("results", help="path to results.json")

    build = sub.add_parser("build", help="course staff: make an assignment's Gradescope autograder zip")
    build.add_argument("assignment", help="assignment name, e.g. hw2 (see `nngrade list`)")
    build.add_argument(
        "-o", "--output", metavar="ZIP", default="autograder.zip", help="where to write the zip"
    )
    build.add_argument(
        "--data",
        metavar="DIR",
        help="a folder of MNIST IDX files to bundle (without it the grader uses scikit-learn's digits)",
    )

    kit = sub.add_parser(
        "kit", help="course staff: make the student kit, the visible tests without the reference, as a zip"
    )
    kit.add_argument("assignment", help="assignment name, e.g. hw2 (see `nngrade list`)")
    kit.add_argument("-o", "--output", metavar="ZIP", default="kit.zip", help="where to write the zip")
    kit.add_argument(
        "--solution", metavar="PATH", help="a correct submission to record the reference's answers with"
    )
    kit.add_argument(
        "--example",
        metavar="PATH",
        action="append",
        help="also prove the kit grades this submission as this repository does (default: examples/)",
    )

    gradescope = sub.add_parser(
        "gradescope",
        help="inside the Gradescope image: grade ROOT/submission into ROOT/results (run_autograder's job)",
    )
    gradescope.add_argument(
        "--root", metavar="DIR", default="/autograder", help="Gradescope's folder (default: /autograder)"
    )

    assign = sub.add_parser(
        "assign", help="authors: write the student notebook, grader and reference from a master notebook"
    )
    assign.add_argument("master", help="the master notebook (solutions between markers, tagged test cells)")
    assign.add_argument(
        "-o", "--output", metavar="DIR", default=".", help="the repository to write into (default: .)"
    )
    _add_staff_parsers(sub)
    return parser


def _add_staff_parsers(sub) -> None:
    """batch, runs, diff and report: course staff regrading whole classes (see staff_commands.py)."""
    batch = sub.add_parser(
        "batch",
        help="course staff: grade a Gradescope export or a folder of submissions, in parallel, into a run",
    )
    batch.add_argument("assignment", help="assignment name, e.g. hw2 (see `nngrade list`)")
    batch.add_argument("input", help="a Gradescope 'Export Submissions' zip or folder, or a folder")
    batch.add_argument("--workers", type=int, metavar="N", help="grading processes at once (default: cores)")
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask scheduler")
    where.add_argument("--cluster", choices=["local"], help="start a Dask LocalCluster (--workers workers)")
    batch.add_argument("--run", metavar="NAME", help="name of the run; an existing run is resumed")
    batch.add_argument("--csv", metavar="PATH", help="also write one CSV row per submission")
    batch.add_argument("--report", metavar="PATH", help="the HTML report (default: RUN.html beside --db)")
    batch.add_argument("--data", metavar="PATH", help="data for the grader (must exist on every worker)")
    batch.add_argument("--grader", metavar="DIR", help="grade with the tests of this copy of graders/<name>/")
    batch.add_argument("--timeout", type=float, metavar="S", help="seconds per submission (default: derived)")
    batch.add_argument("--quiet", action="store_true", help="no progress bar and no summary (for scripts)")
    runs = sub.add_parser("runs", help="course staff: list the batch runs in the history")
    diff = sub.add_parser("diff", help="course staff: which submissions changed between two runs")
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    report = sub.add_parser("report", help="course staff: summary, CSV and HTML report of a run")
    report.add_argument("run", metavar="RUN")
    report.add_argument("--csv", metavar="PATH", help="write one CSV row per submission")
    report.add_argument("--report", metavar="PATH", help="write the HTML report")
    for command in (batch, runs, diff, report):
        command.add_argument("--db", default="nngrade.sqlite", help="the history (default: ./nngrade.sqlite)")


def _run(args: argparse.Namespace) -> int:
    if args.command in ("list", "grade", "check", "validate", "build", "gradescope", "assign", "kit"):
        from graders.engine.commands import COMMANDS  # imports pytest and the sandbox: only when needed

        return COMMANDS[args.command](args)
    if args.command in ("batch", "runs", "diff", "report"):
        from graders.engine.staff_commands import COMMANDS as STAFF  # Dask and matplotlib load lazily too

        return STAFF[args.command](args)
    if args.command == "demo":
        if args.epochs < 1:
            raise UsageError(f"--epochs must be at least 1, got {args.epochs}")
        # Loaded by name: the engine never imports reference code itself.
        demo = importlib.import_module("graders.demo")
        return demo.run(mnist=args.mnist, epochs=args.epochs, quiet=args.quiet)
    raise UsageError(f"unknown command {args.command!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one nngrade command; returns the process exit code."""
    return _execute(_build_parser().parse_args(argv))


def _execute(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (UsageError, DataError, UnknownAssignment, BuildError) as exc:
        print(f"nngrade: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


# Commands that leave nothing for interpreter shutdown to do (their files are written and closed,
# their workers stopped): they exit at once. Tearing down pytest, numpy and rich took 80-90 ms,
# an eighth of a small grade. Not batch: Dask's clean-up runs at exit.
FAST_EXIT = ("grade", "check", "validate", "list")


def entry_point() -> None:
    """Console-script entry: exit with the command's code."""
    args = _build_parser().parse_args()
    code = _execute(args)
    if args.command in FAST_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
