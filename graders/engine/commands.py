"""The grading commands of the CLI: list, grade, check, validate, build, gradescope."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from graders.engine.discovery import available, find
from graders.engine.errors import UnknownAssignment
from graders.engine.grading import grade
from graders.engine.loading import LoadError, load_submission
from graders.engine.notebook_table import HIDDEN_NOTE
from graders.engine.report import show
from graders.engine.results import ResultsError, load_results

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def list_command(args: argparse.Namespace) -> int:
    from rich.table import Table

    from graders.engine.catalog import CatalogError, catalog

    table = Table(title="Assignments with a grader", title_justify="left")
    table.add_column("assignment", no_wrap=True)
    for column in ("points", "visible", "questions", "tests"):
        table.add_column(column, justify="right", no_wrap=True)
    broken, infos = [], available()
    for info in infos:
        try:
            summary = catalog(info)
        except CatalogError as exc:
            broken.append(str(exc))
            table.add_row(info.name, "?", "?", "?", "cannot collect")
            continue
        table.add_row(
            info.name,
            f"{summary.points:g}",
            f"{summary.visible_points:g}",
            str(summary.questions),
            f"{summary.tests} ({summary.hidden_tests} hidden)",
        )
    console = Console()
    console.print(table)
    for info in infos:
        console.print(f"[bold]{info.name}[/bold]: {info.title}", highlight=False)
    for message in broken:
        console.print(message, markup=False)
    return EXIT_FAILED if broken else EXIT_OK


def _check_submission(path: str) -> Path:
    submission = Path(path)
    if not submission.exists():
        raise UnknownAssignment(f"{path}: no such file or folder")
    return submission


def grade_command(args: argparse.Namespace) -> int:
    console = Console()
    submission = _check_submission(args.submission)
    info = find(args.assignment)
    results = grade(info.name, submission, args.results, data=args.data)
    show(results, console, include_hidden=True, title=f"{info.name}: {submission.name}")
    console.print(f"Results written to {args.results}")
    return EXIT_OK


def check_command(args: argparse.Namespace) -> int:
    console = Console()
    submission = _check_submission(args.submission)
    name = args.assignment or _infer(submission)
    results = grade(name, submission, data=args.data, visible_only=True)
    show(results, console, include_hidden=False, title=f"Visible checks for {name}: {submission.name}")
    console.print(HIDDEN_NOTE)
    return EXIT_OK


def _infer(submission: Path) -> str:
    """The assignment whose graded names the submission defines most of."""
    best, best_count = None, 0
    for info in available():
        try:
            defined = load_submission(submission, info.required).defined_names()
        except LoadError as exc:
            raise UnknownAssignment(str(exc)) from None
        count = len(defined & set(info.required))
        if count > best_count:
            best, best_count = info.name, count
    if best is None:
        names = ", ".join(i.name for i in available())
        raise UnknownAssignment(
            f"{submission.name} defines none of the graded functions of any assignment ({names}); "
            "pass --assignment NAME, and keep the function names from the handout."
        )
    return best


def validate_command(args: argparse.Namespace) -> int:
    try:
        results = load_results(args.results)
    except ResultsError as exc:
        print(f"{args.results}: not valid: {exc}")
        return EXIT_FAILED
    print(f"{args.results}: valid ({len(results.get('tests', []))} tests, score {results.get('score', 0):g})")
    return EXIT_OK


def build_command(args: argparse.Namespace) -> int:
    from graders.engine.packaging import build  # zipfile and friends: only for this command

    made = build(args.assignment, args.output, data=args.data)
    data = (
        f"{len(made.data_files)} MNIST files bundled"
        if made.data_files
        else "no data bundled: the grader will use scikit-learn's digits"
    )
    print(f"Wrote {made.path} ({len(made.names)} files, {made.size / 1e6:.1f} MB; {data}).")
    print("Upload it on the Gradescope assignment's Configure Autograder page.")
    return EXIT_OK


def gradescope_command(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print(
            "nngrade gradescope: not running as root, so student code runs as you and the autograder's "
            "files are not protected from it (fine for a trial run, never for grading students).",
            file=sys.stderr,
        )
    try:
        from graders.engine.packaging import grade_in_image

        results = grade_in_image(args.root)
    except ResultsError as exc:
        print(f"nngrade gradescope: could not write results: {exc}", file=sys.stderr)
        return EXIT_FAILED
    # Gradescope shows run_autograder's output to course staff only.
    show(results, Console(), include_hidden=True, title=f"Gradescope run in {args.root}")
    return EXIT_OK


def assign_command(args: argparse.Namespace) -> int:
    from graders.engine.authoring import AuthoringError, assign

    try:
        written = assign(args.master, args.output)
    except AuthoringError as exc:
        print(f"nngrade assign: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path, changed in written:
        print(f"{'wrote' if changed else 'unchanged'} {Path(args.output) / path}")
    return EXIT_OK


def kit_command(args: argparse.Namespace) -> int:
    from graders.engine.kit import build_kit  # records with the grader in this process: only when asked

    made = build_kit(args.assignment, args.output, solution=args.solution, examples=args.example)
    print(
        f"Wrote {made.path} ({len(made.names)} files, {made.recorded_calls} recorded answers of the "
        f"reference); it grades {', '.join(made.verified)} exactly as this repository does."
    )
    for function in made.kept:
        print(f"Shipped with its code, its calls into the reference replayed: {function}")
    print("Students unzip it, `pip install -r requirements.txt`, then `python -m graders check NOTEBOOK`.")
    return EXIT_OK


COMMANDS = {
    "kit": kit_command,
    "assign": assign_command,
    "list": list_command,
    "grade": grade_command,
    "check": check_command,
    "validate": validate_command,
    "build": build_command,
    "gradescope": gradescope_command,
}
