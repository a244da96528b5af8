"""The student kit's command line: `python -m graders check SUBMISSION`, run from the kit's folder.

A kit (made by `nngrade kit`, see kit.py) holds one assignment's visible tests and the reference's
answers recorded for them; it has no reference solution and no hidden test, so checking is all it
offers. The checks run exactly as `nngrade check` runs them: student code in the same sandbox.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from graders import __version__

EXIT_OK, EXIT_USAGE = 0, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m graders",
        description="Run an assignment's visible checks on your work, offline (nngrade's student kit).",
    )
    parser.add_argument("--version", action="version", version=f"nngrade {__version__} (student kit)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    check = sub.add_parser("check", help="run the visible checks on your notebook, script, folder or zip")
    check.add_argument("submission", help="your notebook (.ipynb), script (.py), folder or .zip")
    check.add_argument("--results", metavar="OUT", help="also write the results to OUT (Gradescope's JSON)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kit's one command; returns the process exit code."""
    args = _parser().parse_args(argv)
    if os.name != "posix" or not sys.platform.startswith("linux"):
        print(
            "python -m graders: the checks run your code in a Linux sandbox, which this computer "
            f"({sys.platform}) does not have. On Windows, run them in WSL (Ubuntu); otherwise your "
            "visible tests still run when you submit.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        from rich.console import Console

        from graders.engine.discovery import available
        from graders.engine.grading import grade  # imports pytest: only once a command runs
        from graders.engine.report import show
    except ImportError as exc:
        print(
            f"python -m graders: {exc.name or exc} is not installed. From this folder, run once: "
            "pip install -r requirements.txt",
            file=sys.stderr,
        )
        return EXIT_USAGE

    submission = Path(args.submission)
    if not submission.exists():
        print(f"python -m graders: error: {submission}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    (info,) = available()  # a kit holds exactly one assignment
    results = grade(info.name, submission, args.results, visible_only=True)
    console = Console()
    show(results, console, include_hidden=False, title=f"Visible checks for {info.name}: {submission.name}")
    console.print(
        "Hidden tests are not in this kit; they count towards your grade after you submit. The reference's "
        "answers here were recorded when the kit was made: no reference solution is in it."
    )
    return EXIT_OK


def entry_point() -> None:
    """`python -m graders` in a kit: exit with main's code."""
    raise SystemExit(main())
