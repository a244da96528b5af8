"""`from graders import check; check("hw2")`: the visible tests on the code of a live session.

Oracles: the loader's own reading of the assembled notebook (cell numbers, which definition wins,
what it leaves out), `nngrade check`'s code path (`grade(..., visible_only=True)`) on the same code
saved as a file, and a real Jupyter kernel run by nbclient, whose history is the only source.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest

from graders.engine import live_check
from graders.engine.grading import grade
from graders.engine.live_check import LiveCheckError, session_cells, session_notebook, without_own_imports
from graders.engine.loading import load_submission
from graders.engine.notebook_table import html_report

EXAMPLES = Path(__file__).resolve().parents[2] / "assignments" / "hw2" / "examples"
SINGLE = "mlp_single_hidden_forward_and_backward"


class FakeShell:
    """What check() reads of an IPython shell: the raw history, `In`, and the display publisher."""

    def __init__(self, raw=None, user_in=None):
        self.history_manager = types.SimpleNamespace(input_hist_raw=raw)
        self.user_ns = {} if user_in is None else {"In": user_in}


def assembled(tmp_path: Path, cells: list[str]):
    path = tmp_path / "session.ipynb"
    path.write_text(json.dumps(session_notebook(cells)), encoding="utf-8")
    return load_submission(path)


# ---------------------------------------------------------------------------------------------
# Source assembly, without a kernel
# ---------------------------------------------------------------------------------------------

SESSION = [
    "import numpy as np",
    "",
    "def f():\n    return 1",
    "%%time\ndef g():\n    return 2",
    "f()\nfor i in range(3):\n    print(i)",
    "def f():\n    return 3",
    "from graders import check\nresults = check('hw2')",
]


def test_cell_k_of_the_assembled_notebook_is_the_execution_count_k(tmp_path):
    loaded = assembled(tmp_path, SESSION)
    origins = {note.snippet: note.origin for note in loaded.notes}
    assert origins["f()"] == "cell 5, line 1"  # counted past the blank entry [2]
    assert origins["for i in range(3):"] == "cell 5, line 2"
    assert origins["results = check('hw2')"] == "cell 7, line 2"
    assert [s.origin for s in loaded.statements if "g" in s.names] == ["cell 4, line 2"]  # %%time body kept


def test_the_later_run_of_a_definition_wins(tmp_path):
    loaded = assembled(tmp_path, SESSION)
    assert any(
        note.origin == "cell 3, line 1" and "defined again at cell 6, line 1" in note.reason
        for note in loaded.notes
    )
    namespace: dict = {}
    for statement in loaded.statements:  # test-written code, run in order as the worker runs it
        exec(compile(statement.source, statement.origin, "exec"), namespace)
    assert namespace["f"]() == 3 and namespace["g"]() == 2


def test_nngrade_own_import_is_left_out_and_nothing_else(tmp_path):
    loaded = assembled(tmp_path, SESSION)
    assert "check" not in loaded.defined_names()
    assert not any("graders" in s.source for s in loaded.statements)
    assert {"np", "f", "g"} <= loaded.defined_names()
    kept = [
        "from graders_helpers import x",
        "import graderskit",
        "    from graders import check",  # inside a block: never run at import anyway
        "from graders import (\n    check,\n)",  # commenting one line out would break the cell
        "x = 1  # from graders import check",
    ]
    for source in kept:
        assert without_own_imports(source) == source
    commented = ("from graders import check", "import graders", "from graders.engine import live_check as c")
    for source in commented:
        assert without_own_imports(f"a = 1\n{source}  # mine\nb = 2") == f"a = 1\n# {source}  # mine\nb = 2"


def test_session_cells_prefers_the_raw_history_and_falls_back_to_in():
    raw = ["", "%%time\ndef g():\n    return 2"]
    translated = ["", "get_ipython().run_cell_magic('time', '', 'def g():\\n    return 2\\n')"]
    assert session_cells(FakeShell(raw=raw, user_in=translated)) == raw[1:]
    assert session_cells(FakeShell(raw=None, user_in=translated)) == translated[1:]
    with pytest.raises(LiveCheckError, match="nngrade check"):
        session_cells(FakeShell(raw=[], user_in=None))


# ---------------------------------------------------------------------------------------------
# What the student sees
# ---------------------------------------------------------------------------------------------


class TableRows(HTMLParser):
    """The text of each cell of the rows of class nngrade-test, and all text outside them."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_row = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr" and ("class", "nngrade-test") in attrs:
            self.in_row = True
            self.rows.append([])
        elif tag == "td" and self.in_row:
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "tr":
            self.in_row = False

    def handle_data(self, data):
        if self.in_row and self.rows[-1]:
            self.rows[-1][-1] += data
        self.text.append(data)


def parse_table(html: str) -> TableRows:
    parser = TableRows()
    parser.feed(html)
    return parser


def as_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(number, name, points, verdict) of each visible test, as the table writes them."""
    return [
        (
            t["number"],
            t["name"],
            f"{t['score']:g} / {t['max_score']:g}",
            "passed" if t["status"] == "passed" else "FAILED",
        )
        for t in results["tests"]
        if t.get("visibility", "visible") == "visible"
    ]


def test_the_table_escapes_student_text_and_never_lists_hidden_tests():
    hostile = "<script>alert(1)</script> & <b>bold</b>"
    results = {
        "tests": [
            {"name": "Q1 <i>", "number": "1.1", "score": 0, "max_score": 2, "status": "failed"},
            {"name": "secret test", "score": 0, "max_score": 5, "status": "failed", "visibility": "hidden"},
            {"name": "Q2", "number": "2", "score": 1, "max_score": 1, "status": "passed"},
        ],
        "output": "Graded file: this_notebook.ipynb\n<img src=x onerror=alert(1)>",
    }
    results["tests"][0]["output"], results["tests"][2]["output"] = hostile, "x" * 900
    html = html_report(results, "Visible checks for <hw2>")
    assert "<script>" not in html and "<img" not in html and "<i>" not in html and "<hw2>" not in html
    table = parse_table(html)
    assert [row[:4] for row in table.rows] == [
        ["1.1", "Q1 <i>", "0 / 2", "FAILED"],
        ["2", "Q2", "1 / 1", "passed"],
    ]
    assert table.rows[0][4] == hostile  # escaped, so the browser shows the text itself
    assert "secret" not in html
    cut = table.rows[1][4]
    assert len(cut) < 600 and cut.endswith("(all of it: ['tests'][1]['output'] of what check() returned)")
    assert "Score: 1 / 3" in "".join(table.text)


def test_check_results_show_as_one_line_in_ipython():
    shown = live_check.CheckResults({"tests": [{"score": 2, "max_score": 2, "status": "passed"}]})
    printed = []
    shown._repr_pretty_(types.SimpleNamespace(text=printed.append), False)
    assert printed == [
        "<nngrade check: 2 / 2 points, 1 of 1 visible tests passed; the details are in ['tests']>"
    ]


# ---------------------------------------------------------------------------------------------
# Outside a notebook
# ---------------------------------------------------------------------------------------------


def test_importing_graders_loads_neither_pytest_nor_numpy():
    code = (
        "import sys\nfrom graders import check\nimport graders.engine.live_check\n"
        "print(sorted(m for m in ('pytest', 'numpy', 'IPython', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_without_a_notebook_or_a_script_check_says_what_to_do(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # like `python -c`
    from graders import check

    with pytest.raises(LiveCheckError, match=r"nngrade check YOUR_FILE\.py --assignment NAME"):
        check("hw2")
    with pytest.raises(LiveCheckError, match="no such file or folder"):
        check("hw2", data="no/such/mnist")


def test_an_unknown_assignment_names_the_ones_that_exist(monkeypatch, tmp_path):
    shell = FakeShell(raw=["", "def g_w1(x1, x2, w1, w2):\n    return 0.0"])
    monkeypatch.setattr(live_check, "ipython_shell", lambda: shell)
    with pytest.raises(LiveCheckError, match=r"no grader for assignment 'hw9' \(available: .*hw2"):
        live_check.check("hw9")


def defs(path: Path, *names: str) -> str:
    """The source of top-level definitions in an example file, in the order given."""
    text = path.read_text(encoding="utf-8").replace("!pip install tqdm", "").replace("%matplotlib inline", "")
    nodes = {n.name: n for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return "\n\n\n".join(ast.get_source_segment(text, nodes[name]) for name in names)


GIVEN = defs(EXAMPLES / "solution_colab_export.py", "row_logsumexp", "Parameters", "init_linear")
Q1 = defs(EXAMPLES / "solution_colab_export.py", "sigmoid", "g_w1", "g_w2", "g_x1", "g_x2")
Q3_BUGGY = defs(EXAMPLES / "buggy_relu_mask.py", "linear_classifier_forward_and_backward", SINGLE)
Q3_FIXED = defs(EXAMPLES / "solution_colab_export.py", "linear_classifier_forward_and_backward", SINGLE)
Q3_TWO = defs(EXAMPLES / "solution_colab_export.py", "mlp_two_hidden_forward_and_backward")


def training_cell() -> str:
    """Top-level training, with a side effect the grader would leave behind if it ran the cell."""
    return (
        "import os\n"
        "with open(os.path.join(MARKER_DIR, 'trained-by-%d' % os.getpid()), 'w') as marker:\n"
        "    marker.write('this cell ran in this process')\n"
        "rng = np.random.RandomState(0)\n"
        "params = Parameters()\n"
        "params.set_param('w1', init_linear(NB_FEAT, 16))\n"
        "params.set_param('b1', np.zeros(16))\n"
        "params.set_param('w_sm', init_linear(16, NB_CLASS))\n"
        "for step in range(3):\n"
        f"    loss, _ = {SINGLE}(rng.randn(5, NB_FEAT), rng.randint(0, NB_CLASS, 5), params)\n"
        "    params.apply_grad(0.01)\n"
    )


def hw2_cells(marker_dir: Path, *, ipython: bool) -> list[str]:
    """A student's hw2 session: imports, constants, given code, Q1, Q3 (buggy), training, the check."""
    setup = "import math\nimport time\nimport numpy as np"
    return [
        ("!echo setting up\n" + setup) if ipython else setup,
        f"NB_FEAT = 28 * 28\nNB_CLASS = 10\nMARKER_DIR = {str(marker_dir)!r}",
        GIVEN,
        Q1,
        Q3_BUGGY + "\n\n\n" + Q3_TWO,
        training_cell(),
        "from graders import check\nresults = check('hw2')",
    ]


def test_a_script_is_graded_from_its_file(tmp_path):
    cells = hw2_cells(tmp_path, ipython=False)
    cells[-1] += "\nprint('RESULTS', json.dumps(results))"
    script = tmp_path / "my_hw2.py"
    script.write_text("import json\n" + "\n\n\n".join(cells) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown, returned = done.stdout.split("RESULTS ")
    returned = json.loads(returned)
    expected = grade("hw2", script, tmp_path / "expected.json", visible_only=True)
    assert as_rows(returned) == as_rows(expected)
    assert "Visible checks for hw2: my_hw2.py" in shown and "Hidden tests are not run here" in shown
    own_import = r"Import not available in the grader: line \d+: from graders import check"
    assert re.search(own_import, expected["output"])  # graded as is, the sandbox refuses nngrade's import
    assert "from graders import check" not in returned["output"]  # the live check leaves it out


# ---------------------------------------------------------------------------------------------
# In a real kernel
# ---------------------------------------------------------------------------------------------


def html_outputs(cell) -> list[str]:
    return [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]


@pytest.fixture
def kernel_client(tmp_path, monkeypatch):
    """An nbclient client whose kernel is this test's own Python (so it imports this nngrade)."""
    import nbclient  # installed with nbconvert; the kernel itself needs ipykernel (the dev extra)
    import nbformat

    spec = tmp_path / "jupyter" / "kernels" / "nngrade-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": "nngrade", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    work = tmp_path / "work"
    work.mkdir()

    def make(cells: list[str]):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="nngrade-test", resources={"metadata": {"path": str(work)}}
        )
        return notebook, client

    return make, work


@pytest.mark.slow
def test_check_in_a_kernel_grades_the_session_as_nngrade_check_grades_the_file(kernel_client, tmp_path):
    make, work = kernel_client
    cells = hw2_cells(work, ipython=True)
    notebook, client = make(cells)
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        first = html_outputs(notebook.cells[-1])
        # The student fixes the ReLU mask in place and re-runs that cell, then the check ([8], [9]).
        notebook.cells[4].source = Q3_FIXED + "\n\n\n" + Q3_TWO
        client.execute_cell(notebook.cells[4], 4)
        client.execute_cell(notebook.cells[-1], len(cells) - 1)
        second = html_outputs(notebook.cells[-1])
    assert len(first) == 1 and len(second) == 1  # one table per check, and no dict printed after it

    def as_file(name: str, sources: list[str]) -> dict:
        path = tmp_path / name
        path.write_text("\n\n# %%\n".join(sources).replace("!echo setting up\n", "") + "\n", encoding="utf-8")
        return grade("hw2", path, tmp_path / f"{name}.json", visible_only=True)

    before = as_file("before.py", cells)
    after = as_file("after.py", [*cells, notebook.cells[4].source, cells[-1]])
    for html, expected in ((first[0], before), (second[0], after)):
        assert [tuple(row[:4]) for row in parse_table(html).rows] == as_rows(expected)
    failed_before = {t["name"] for t in before["tests"] if t["status"] != "passed"}
    assert failed_before and all(SINGLE in t["tags"] for t in before["tests"] if t["name"] in failed_before)
    assert after["score"] == sum(t["max_score"] for t in after["tests"])  # the fixed cell is the one graded

    notes = "".join(parse_table(second[0]).text)
    assert "cell 6, line 2: with open(" in notes and "not executed" in notes  # the training cell, as [6]
    assert f"`{SINGLE}` is defined again at cell 8, line" in notes
    # The kernel ran the training cell once; the grader, given MARKER_DIR, never did.
    assert len(list(work.glob("trained-by-*"))) == 1
