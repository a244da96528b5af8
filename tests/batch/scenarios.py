"""A Gradescope-style export of 41 computation_graph submissions, built from the scenario files.

Each submission is one scenario: the correct solution (as a .py under several names, as a
notebook, in a folder with other files), the three mutants and the handout's stubs, hostile code
from tests/submissions/hostile/ wired into the graded names, and unloadable files from
tests/submissions/loader/. `Scenario.source` is the file a direct `grade()` can check it against.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
GRAPH = SUBMISSIONS / "computation_graph"
HOSTILE = SUBMISSIONS / "hostile"
LOADER = SUBMISSIONS / "loader"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _solution_with(hostile: str, wiring: str) -> str:
    """The correct solution, a hostile scenario file, and lines that make graded code run the attack."""
    return f"{_text(GRAPH / 'solution.py')}\n\n{_text(HOSTILE / hostile)}\n\n{wiring}\n"


# name: (hostile scenario file, lines that make graded code run it); each is graded to the end.
HOSTILE_CASES = {
    # maximum() leaves the process: the worker dies, is restarted, and only maximum's tests fail.
    "exits": ("exits.py", "def maximum(a, b):\n    with_os_exit()\n"),
    "segfaults": ("resources.py", "def maximum(a, b):\n    return segfault()\n"),
    # Attacks run while the file loads (class bodies run in definitions mode), then grading goes on.
    "writes_results": ("writes_results_json.py", "class _Attack:\n    hits = attack(['/tmp'])\n"),
    "fake_score": ("prints_fake_score.py", "class _Attack:\n    value = attack()\n"),
    "fork_bomb": ("processes.py", "class _Attack:\n    made = fork_bomb(30)\n"),
    "memory_bomb": ("resources.py", "class _Attack:\n    size = memory_bomb(8)\n"),
}
# Hangs while loading, so grading can only end at the batch's time limit.
HANG = f"{_text(HOSTILE / 'hangs.py')}\n\nclass Value:\n    busy()\n"


@dataclass(frozen=True)
class Scenario:
    key: str
    kind: str  # solution, mutant, stubs, hostile, hang, unloadable, missing
    source: Path | None  # what to grade directly for the oracle (None: nothing to grade)
    status: str  # the batch status it must get
    name: str = ""  # the submitter the metadata names ("" when the metadata does not list it)
    email: str = ""


def _notebook(code: str) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("My tutorial 1"), nbformat.v4.new_code_cell(code)]
    return nbformat.writes(notebook)


def build_export(root: Path) -> tuple[Path, list[Scenario]]:
    """Write sources and the export zip under root; returns the zip and every scenario, by key."""
    sources = root / "sources"
    sources.mkdir()
    export = root / "assignment_4711_export"
    export.mkdir()
    scenarios: list[Scenario] = []
    metadata: list[str] = []
    number = iter(range(100100, 100200))

    def add(kind: str, files: dict[str, str], source: Path | None, status: str, listed: bool = True) -> None:
        key = f"submission_{next(number)}"
        folder = export / key
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        index = len(scenarios) + 1
        name, email = (f"Student {index}", f"student{index}@example.edu") if listed else ("", "")
        scenarios.append(Scenario(key, kind, source, status, name, email))
        if listed:
            metadata.append(
                f"{key}:\n  :submitters:\n  - :name: {name}\n    :sid: '{9000 + index}'\n"
                f"    :email: {email}\n"
                f"  :created_at: 2025-10-0{1 + index % 9} 23:{index:02d}:00.000000000 -07:00\n"
                # Ruby's dump of a BigDecimal score, as a Rails app may write it.
                f"  :score: !ruby/object:BigDecimal 18:0.{index}e2\n"
            )

    # First, so that the slowest task starts first and overlaps the others.
    hang = sources / "hang.py"
    hang.write_text(HANG, encoding="utf-8")
    add("hang", {"graph.py": HANG}, None, "timeout")
    solution = _text(GRAPH / "solution.py")
    for i in range(12):
        name = ("tutorial1.py", "graph.py", "my_value.py")[i % 3]
        add("solution", {name: solution}, GRAPH / "solution.py", "graded")
    notebook = sources / "solution.ipynb"
    notebook.write_text(_notebook(solution), encoding="utf-8")
    add("solution", {"Tutorial1.ipynb": _text(notebook)}, notebook, "graded")
    add("solution", {"graph.py": solution, "notes.txt": "I worked alone.\n"}, GRAPH / "solution.py", "graded")
    for mutant in ("max_wrong_tie.py", "no_accumulate.py", "recursive_backward.py"):
        for _ in range(4):
            add("mutant", {"graph.py": _text(GRAPH / mutant)}, GRAPH / mutant, "graded")
    stubs = GRAPH / "stubs.ipynb"
    for _ in range(2):
        add("stubs", {"computation_graph.ipynb": _text(stubs)}, stubs, "graded")
    for name, (hostile, wiring) in HOSTILE_CASES.items():
        path = sources / f"{name}.py"
        path.write_text(_solution_with(hostile, wiring), encoding="utf-8")
        add("hostile", {"graph.py": _text(path)}, path, "graded")
    for name in ("empty.py", "blank.py", "corrupted.ipynb", "not_a_notebook.ipynb"):
        add("unloadable", {name: _text(LOADER / name)}, LOADER / name, "invalid")
    # A folder Gradescope's metadata does not list is graded all the same, with no submitter.
    add("solution", {"graph.py": solution}, GRAPH / "solution.py", "graded", listed=False)
    # Listed in the metadata, but its folder is missing from the export.
    key = f"submission_{next(number)}"
    scenarios.append(Scenario(key, "missing", None, "invalid", "Nobody", "n@example.edu"))
    metadata.append(f"{key}:\n  :submitters:\n  - :name: Nobody\n    :sid: '1'\n    :email: n@example.edu\n")
    (export / "submission_metadata.yml").write_text("".join(metadata), encoding="utf-8")
    archive = root / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(export.rglob("*")):
            out.write(path, path.relative_to(root).as_posix())
    return archive, scenarios
