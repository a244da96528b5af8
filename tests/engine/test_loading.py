"""The loader, on scenario submissions: what it keeps, what it reports, and that it never runs anything."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import time
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest

from graders.engine.loading import LoadedSubmission, LoadError, Note, load_source, load_submission

SCENARIOS = Path(__file__).resolve().parents[1] / "submissions" / "loader"
KINDS = {"import", "def", "class", "assign", "other"}
Q1 = ("g_w1", "g_w2", "g_x1", "g_x2")
HW2_FUNCTIONS = {
    *Q1,
    "row_logsumexp",
    "Parameters",
    "init_linear",
    "main_training",
    "linear_classifier_forward_and_backward",
    "mlp_single_hidden_forward_and_backward",
    "mlp_two_hidden_forward_and_backward",
}


R_NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "ir"}, "language_info": {"name": "R"}},
    "cells": [
        {"cell_type": "code", "source": "x <- c(1, 2)", "metadata": {}, "outputs": [], "execution_count": 1}
    ],
}


def notes_like(loaded: LoadedSubmission, reason: str, snippet: str = "*") -> list[Note]:
    """Notes whose reason and snippet match the fnmatch patterns."""
    return [n for n in loaded.notes if fnmatch(n.reason, reason) and fnmatch(n.snippet, snippet)]


def assert_well_formed(loaded: LoadedSubmission) -> None:
    """Every statement parses on its own and says what it is; the joined source parses too."""
    for statement in loaded.statements:
        ast.parse(statement.source)
        assert statement.kind in KINDS, statement
        assert statement.lineno >= 1, statement
    ast.parse(loaded.source())


# (file, names it must define, names it must not define, notes it must report as (reason, snippet))
SCENARIO_CASES = [
    pytest.param(
        "colab_export_hw2.py",
        HW2_FUNCTIONS | {"np", "plt", "torch", "F", "tqdm", "NB_FEAT", "H", "batch_size", "learning_rate"},
        {"mnist_train", "train_x", "m", "params", "best_linear", "check", "torch_loss"},
        [
            ("shell command removed", "!pip install*"),
            ("IPython magic %matplotlib removed", "%matplotlib inline"),
            ("top-level call not executed*", "drive.mount(*"),
            ("*assignment not executed*torchvision.datasets.MNIST*", "mnist_train = *download=True*"),
            ("top-level loop not executed*", "for step in range(30):"),
            ("top-level call not executed*", "plt.show()"),
            ("*assignment not executed*main_training*", "best_two_hidden = *"),
        ],
        id="colab-export",
    ),
    pytest.param(
        "vscode_cells.py",
        {"np", "softmax", "SEED", "CLASSES"},
        {"scores"},
        [
            ("IPython magic %load_ext removed", "%load_ext autoreload"),
            ("%%writefile cell not executed*", "%%writefile config.yaml"),
            ("top-level call not executed*", "print(softmax(*"),
        ],
        id="vscode-percent-cells",
    ),
    pytest.param(
        "notebook_out_of_order.ipynb",
        {"np", "plt", "g_w1", "g_x1", "install_helpers"},
        {"g_w2", "warmup", "files"},
        [
            ("cell does not parse: expected ':' (line 1)", "def g_w2(*"),
            ("%%bash cell not executed*", "%%bash"),
            ("cell magic %%time removed (its body is kept)", "%%time"),
            ("shell command removed", "!pip install -q tqdm"),
            ("`g_w1` is defined again at cell 7, line 1; the later definition is used", "def g_w1(*"),
            ("assignment from a shell command removed", "files = !ls data"),
            ("*get_ipython()*", "get_ipython().system(*"),
            ("top-level call not executed*", "g_w1(0.2, 0.4, 0.3, -0.5)"),
        ],
        id="notebook-messy",
    ),
    pytest.param(
        "nbformat3.ipynb",
        {"np", "row_logsumexp", "init_linear", "HIDDEN"},
        set(),
        [
            ("IPython magic %pylab removed", "%pylab inline"),
            ("cell does not parse: Missing parenthes*", "print *"),
        ],
        id="nbformat-3",
    ),
    pytest.param(
        "broken_middle.py",
        {"np", "g_w1", "g_x1", "g_x2"},
        {"g_w2", "learning_rate"},
        [
            ("statement does not parse: '(' was never closed*", "def g_w2(*"),
            ("statement does not parse: invalid syntax*", "learning_rate = 0.01 +"),
        ],
        id="py-broken-in-the-middle",
    ),
    pytest.param(
        "global_from_top_level.py",
        {"np", "normalise"},
        {"train_x", "m", "sd"},
        [("*assignment not executed*train_x.mean*", "m = train_x.mean()")],
        id="global-set-by-top-level-code",
    ),
    pytest.param(
        "main_guard.py",
        {"np", "row_logsumexp"},
        {"time", "scores", "started"},
        [("if __name__ == '__main__' block not executed", "if __name__ == *")],
        id="main-guard",
    ),
    pytest.param(
        "constants.py",
        {
            "NB_FEAT",
            "H",
            "NB_CLASSES",
            "CLASSES",
            "SHAPES",
            "DTYPE",
            "LABEL",
            "SQUARES",
            "lr",
            "load",
            "total",
        },
        {"data", "n_rows"},
        [
            ("*assignment not executed*calls `load`*", "data = load()"),
            ("*assignment not executed*uses `data`*", "n_rows = len(data)"),
        ],
        id="constant-expressions",
    ),
    pytest.param("windows_bom.py", {"np", "g_x2", "GREETING"}, set(), [], id="bom-and-crlf"),
]


@pytest.mark.parametrize(("file_name", "defined", "absent", "expected_notes"), SCENARIO_CASES)
def test_scenario_defines_and_reports(file_name, defined, absent, expected_notes):
    loaded = load_submission(SCENARIOS / file_name)
    assert_well_formed(loaded)
    names = loaded.defined_names()
    assert defined <= names, f"missing: {sorted(defined - names)}"
    assert not absent & names, f"should not be defined: {sorted(absent & names)}"
    for reason, snippet in expected_notes:
        assert notes_like(loaded, reason, snippet), f"no note {reason!r} on {snippet!r} in {loaded.notes}"


def test_colab_export_runs_nothing_and_says_nothing_about_prose():
    loaded = load_submission(SCENARIOS / "colab_export_hw2.py")
    executed = loaded.source()
    for work in ("drive.mount", "download=True", "= main_training(", "plt.show", "!pip", "%matplotlib"):
        assert work not in executed
    # Markdown cells became bare strings: dropped without a word.
    assert not [n for n in loaded.notes if n.snippet.startswith(('"""', "'''"))]
    assert not notes_like(loaded, "*does not parse*")
    by_name = {name: s for s in loaded.statements for name in s.names}
    assert by_name["learning_rate"].source == "learning_rate = 0.005"  # the #@param form field
    assert by_name["learning_rate"].origin == "line 223"
    assert by_name["H"].kind == "assign" and by_name["g_w1"].kind == "def"
    assert by_name["Parameters"].kind == "class" and by_name["F"].kind == "import"
    assert "def accumlate_grad" in by_name["Parameters"].source


def test_notebook_keeps_file_order_whatever_the_execution_counts():
    loaded = load_submission(SCENARIOS / "notebook_out_of_order.ipynb")
    # The cells were run in the order 12, 3, 6, 7, 1: irrelevant, file order is what runs.
    cells = [s.origin.split(",")[0] for s in loaded.statements]
    assert cells == ["cell 1", "cell 1", "cell 2", "cell 5", "cell 6", "cell 7"]
    g_w1 = [s for s in loaded.statements if s.names == ("g_w1",)]
    assert [s.origin for s in g_w1] == ["cell 2, line 1", "cell 7, line 1"]  # both run; the last wins
    assert "s * (1 - s) + w1" in g_w1[-1].source
    helper = next(s for s in loaded.statements if s.names == ("install_helpers",))
    assert helper.source.splitlines()[1:3] == ["    pass", "    pass"]  # were `!pip ...` and `%load_ext ...`
    broken = notes_like(loaded, "cell does not parse*")
    assert [(n.origin, n.binds) for n in broken] == [("cell 3, line 1", ("g_w2",))]


def test_full_mode_keeps_top_level_work_as_other():
    loaded = load_submission(SCENARIOS / "colab_export_hw2.py", mode="full")
    assert_well_formed(loaded)
    assert {"train_x", "m", "params", "best_two_hidden"} <= loaded.defined_names()
    kinds = {s.source.splitlines()[0]: s.kind for s in loaded.statements}
    assert kinds["drive.mount('/content/drive')"] == "other"
    assert kinds["import numpy as np"] == "import"
    assert "!pip" not in loaded.source() and "%matplotlib" not in loaded.source()
    assert notes_like(loaded, "shell command removed")
    assert not notes_like(loaded, "top-level call not executed*")


@pytest.mark.parametrize("mode", ["definitions", "full"])
def test_loading_never_executes_the_submission(tmp_path, monkeypatch, mode):
    monkeypatch.chdir(tmp_path)
    loaded = load_submission(SCENARIOS / "writes_marker.py", mode=mode)
    assert "leave_marker" in loaded.defined_names()
    assert list(tmp_path.iterdir()) == []  # no MARKER file or folder: nothing ran


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("corrupted.ipynb", "*corrupted*not valid notebook JSON at line *Download it again*Colab*"),
        ("not_a_notebook.ipynb", "*JSON but not a Jupyter notebook*Download it again*"),
        ("empty.py", "empty.py is empty*"),
        ("blank.py", "blank.py holds no code*"),
        ("no_such_file.py", "No file named no_such_file.py*"),
    ],
)
def test_unusable_scenario_files_raise_a_message_for_the_student(file_name, message):
    with pytest.raises(LoadError) as caught:
        load_submission(SCENARIOS / file_name)
    assert fnmatch(str(caught.value), message), str(caught.value)


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("hw2.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "*not a text file*binary*"),
        (
            "hw2.py",
            "A = 1\nx = 'caf\xe9'\n".encode("latin-1"),
            "*not UTF-8 text (the first bad byte is on line 2)*",
        ),
        ("hw2.ipynb", b"\x00" * 64, "*not a text file*"),
        ("hw2.ipynb", b"[1, 2, 3]", "*JSON but not a Jupyter notebook*"),
        ("hw2.ipynb", b'{"nbformat": 9, "cells": []}', "*not a notebook Jupyter can read*"),
        (
            "hw2.ipynb",
            b'{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {}}',
            "*no code cells*",
        ),
        ("hw2.ipynb", json.dumps(R_NOTEBOOK).encode(), "hw2.ipynb is a notebook for R;*"),
        ("hw2.pdf", b"%PDF-1.4", "hw2.pdf is a .pdf file, which cannot be graded*"),
        ("hw2", b"import numpy", "*a file without an extension*"),
    ],
)
def test_unusable_generated_files(tmp_path, file_name, content, message):
    (tmp_path / file_name).write_bytes(content)
    with pytest.raises(LoadError) as caught:
        load_submission(tmp_path / file_name)
    assert fnmatch(str(caught.value), message), str(caught.value)


def test_a_50_mb_file_is_refused_by_its_size_without_being_read(tmp_path, monkeypatch):
    big = tmp_path / "hw2.ipynb"
    with big.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: costs no disk and no time

    def no_reading(*args, **kwargs):
        raise AssertionError("the loader opened a file it should have refused by size")

    monkeypatch.setattr(Path, "open", no_reading)
    started = time.perf_counter()
    with pytest.raises(LoadError, match=r"hw2.ipynb is 50.0 MB, over the 20.0 MB limit"):
        load_submission(big)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "file_name", ["my hw2 final.py", "O'Brien's hw2.ipynb", "devoir n°2 — Élodie.py", "作业2.ipynb"]
)
def test_awkward_file_names(tmp_path, file_name):
    source = "colab_export_hw2.py" if file_name.endswith(".py") else "notebook_out_of_order.ipynb"
    path = tmp_path / file_name
    shutil.copyfile(SCENARIOS / source, path)
    loaded = load_submission(path)
    assert loaded.path == str(path)
    assert "g_w1" in loaded.defined_names()
    path.write_bytes(b"")
    with pytest.raises(LoadError, match=f"^{re.escape(file_name)} is empty"):
        load_submission(path)


def test_utf16_file_from_a_windows_editor(tmp_path):
    path = tmp_path / "hw2.py"
    path.write_bytes("import numpy as np\r\nNB_FEAT = 28 * 28\r\n".encode("utf-16"))
    assert {"np", "NB_FEAT"} <= load_submission(path).defined_names()


def test_notebook_saved_under_a_py_name_is_read_as_a_notebook(tmp_path):
    shutil.copyfile(SCENARIOS / "notebook_out_of_order.ipynb", tmp_path / "hw2.py")
    loaded = load_submission(tmp_path / "hw2.py")
    assert "g_x1" in loaded.defined_names()
    assert notes_like(loaded, "hw2.py holds a Jupyter notebook*")


# ---------------------------------------------------------------------------------------------
# Folders and zip files
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    """The folder scenario, plus the clutter a real upload carries (hidden and macOS files)."""
    root = tmp_path / "submission"
    shutil.copytree(SCENARIOS / "folder_submission", root)
    # A checkpoint that defines everything: picking it would grade a stale copy.
    (root / ".ipynb_checkpoints").mkdir()
    shutil.copyfile(
        SCENARIOS / "notebook_out_of_order.ipynb", root / ".ipynb_checkpoints" / "hw2-checkpoint.ipynb"
    )
    shutil.copyfile(SCENARIOS / "colab_export_hw2.py", root / ".hidden_copy.py")
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "._hw2_final.py").write_bytes(b"\x00\x05\x16\x07Mac OS X        \x00\x02")
    return root


def zip_of(folder: Path, destination: Path) -> Path:
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return destination


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize(
    ("required", "picked", "why"),
    [
        (Q1, "hw2_final.py", "*defines 4 of the 4 required names*"),
        (("row_logsumexp",), "utils.py", "*defines 1 of the 1 required names*"),
        ((), "scratch/attempt.ipynb", "*no names required*"),  # a tie: the notebook wins
        (("g_w1",), "scratch/attempt.ipynb", "*defines 1 of the 1*"),  # a tie with hw2_final.py too
    ],
)
def test_folder_or_zip_picks_the_file_defining_the_required_names(
    folder, tmp_path, as_zip, required, picked, why
):
    path = zip_of(folder, tmp_path / "upload.zip") if as_zip else folder
    before = sorted(tmp_path.rglob("*"))
    loaded = load_submission(path, required_names=required)
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted
    prefix = "submission/" if as_zip else ""
    assert loaded.path == prefix + picked
    choice = [n for n in loaded.notes if n.origin == "submission"]
    assert fnmatch(choice[0].reason, f"graded {prefix}{picked} from *: {why}"), choice[0]
    assert not any("checkpoint" in n.reason or "hidden" in n.reason or "MACOSX" in n.reason for n in choice)


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_folder_or_zip_without_any_notebook_or_script(tmp_path, as_zip):
    root = tmp_path / "upload"
    root.mkdir()
    (root / "report.pdf").write_bytes(b"%PDF-1.4")
    (root / ".hw2.py").write_text("def g_w1(): pass\n")
    path = zip_of(root, tmp_path / "upload.zip") if as_zip else root
    found = "upload/report.pdf" if as_zip else "report.pdf"
    with pytest.raises(LoadError, match=rf"holds no \.ipynb or \.py file \(found: {found}\)"):
        load_submission(path)


def test_zip_that_is_not_a_zip(tmp_path):
    (tmp_path / "hw2.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(LoadError, match="not a zip file that can be opened"):
        load_submission(tmp_path / "hw2.zip")


def test_zip_members_over_the_size_limit_are_refused(tmp_path):
    big = "def g_w1(x1, x2, w1, w2):\n    return 0.0\n" + "# padding\n" * 5_000
    with zipfile.ZipFile(tmp_path / "upload.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw2.py", big)  # about 50 kB inflated, a few hundred bytes deflated
        archive.writestr("scratch.py", "import numpy as np\n")
        archive.writestr("__MACOSX/._hw2.py", b"\x00\x05\x16\x07")
    loaded = load_submission(tmp_path / "upload.zip", required_names=["g_w1"], max_bytes=10_000)
    assert loaded.path == "scratch.py"
    assert notes_like(loaded, "skipped: hw2.py is 50.0 kB, over the 10.0 kB limit*")

    with zipfile.ZipFile(tmp_path / "only_big.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw2.py", big)
    with pytest.raises(
        LoadError, match=r"No usable notebook or script in only_big\.zip: hw2\.py is 50\.0 kB"
    ):
        load_submission(tmp_path / "only_big.zip", max_bytes=10_000)


def test_zip_member_whose_header_understates_its_size_is_cut_off(tmp_path):
    """A hand-made zip bomb: the headers claim 30 bytes, the data inflates to far more.

    zipfile inflates no more than the header claims, and the checksum then exposes the lie.
    """
    payload = "X = 1\n" + "#" * 200_000 + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw2.py", payload)
    data = bytearray(buffer.getvalue())
    true_size = len(payload).to_bytes(4, "little")
    for at in [i for i in range(len(data) - 3) if data[i : i + 4] == true_size]:
        data[at : at + 4] = (30).to_bytes(4, "little")  # local header and central directory both lie
    (tmp_path / "bomb.zip").write_bytes(bytes(data))
    started = time.perf_counter()
    with pytest.raises(LoadError, match=r"hw2\.py cannot be read from bomb\.zip \(Bad CRC-32"):
        load_submission(tmp_path / "bomb.zip", max_bytes=10_000)
    assert time.perf_counter() - started < 1.0


# ---------------------------------------------------------------------------------------------
# Smaller behaviours, on source text in memory
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "defined", "reason", "binds"),
    [
        ("x = !ls data\nA = 1\n", {"A"}, "assignment from a shell command removed", ("x",)),
        ("out = %sx ls\nA = 1\n", {"A"}, "assignment from an IPython magic removed", ("out",)),
        ("%time y = 3\nA = 1\n", {"A"}, "IPython magic %time removed", ("y",)),
        ("import numpy as np\nnp.dot?\n", {"np"}, "IPython help request removed", ()),
        ("!pip install \\\n    numpy\nA = 1\n", {"A"}, "shell command removed", ()),
        ("def f():\n    !echo hi\n    return 1\n", {"f"}, "shell command removed", ()),
        ("%%capture log\nA = 1\n", {"A"}, "cell magic %%capture removed*", ("log",)),
        ("%%html\n<b>hi</b>\n\nA = 1\n", {"A"}, "%%html cell not executed*", ()),
    ],
)
def test_ipython_syntax_is_removed_and_reported(source, defined, reason, binds):
    loaded = load_source(source)
    assert_well_formed(loaded)
    assert loaded.defined_names() == defined
    found = notes_like(loaded, reason)
    assert found and found[0].binds == binds and found[0].origin.startswith("line ")


def test_magic_lookalikes_inside_strings_are_left_alone():
    loaded = load_source('"""\n% of the images are noisy\n!important: run all cells\n"""\nB = 2\n')
    assert loaded.defined_names() == {"B"} and loaded.notes == ()


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("try:\n    from tqdm import tqdm\nexcept ImportError:\n    tqdm = None\n", True),
        ("try:\n    import torch\nexcept ImportError:\n    def tqdm(x):\n        return x\n", True),
        ("try:\n    import torch\nexcept ImportError:\n    print('no torch')\n", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy as np\n", True),
        ("import sys\nif sys.version_info >= (3, 11):\n    FAST = True\nelse:\n    FAST = False\n", True),
        ("import torch\nif torch.cuda.is_available():\n    device = 'cuda'\n", False),
        ("import functools\ndef f(a, b):\n    return a\ng = functools.partial(f, 1)\n", True),
        ("from functools import partial as p\ndef f(a, b):\n    return a\ng = p(f, 1)\n", True),
        ("def f(a):\n    return a\nsquare = lambda x: f(x) ** 2\n", True),
        ("A = [3, 1]\ndef f(a):\n    return a\nB = sorted(A, key=f)\n", False),
        ("A = 1\nB = (C := A + 1)\n", False),
        ("def len(x):\n    return 0\nA = len([1, 2])\n", False),
        ("A = 1\nA += 2\n", True),
        ("config = {}\nconfig['lr'] = 0.1\n", True),
        ("import numpy as np\nW: np.ndarray = np.zeros(3)\n", False),
        ("del A\n", False),
        ("assert True\n", False),
        ("global A\n", False),
    ],
)
def test_what_definitions_mode_keeps(source, kept):
    loaded = load_source(source)
    assert_well_formed(loaded)
    assert (loaded.notes == ()) is kept, loaded.notes


def test_dropped_statements_name_the_globals_they_would_set():
    loaded = load_source(
        "import torch\n"
        "if torch.cuda.is_available():\n    device = 'cuda'\nelse:\n    device = 'cpu'\n"
        "with open('w.npy', 'rb') as fh:\n    weights = fh.read()\n"
        "for epoch, (xb, yb) in enumerate([]):\n    import math\n    last = epoch\n"
    )
    binds = {n.snippet: n.binds for n in loaded.notes}
    assert binds["if torch.cuda.is_available():"] == ("device",)
    assert binds["with open('w.npy', 'rb') as fh:"] == ("fh", "weights")
    assert binds["for epoch, (xb, yb) in enumerate([]):"] == ("epoch", "xb", "yb", "math", "last")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("A = 1\nreturn A\n", "statement does not compile: 'return' outside function (line 2)"),
        ("def f():\n    nonlocal q\n", "statement does not compile: no binding for nonlocal 'q' found*"),
    ],
)
def test_statements_the_compiler_rejects_are_dropped(source, reason):
    loaded = load_source(source, mode="full")
    assert notes_like(loaded, reason), loaded.notes


def test_script_with_an_unclosed_string_keeps_what_comes_before():
    loaded = load_source('A = 1\n"""an unfinished markdown cell\n\ndef f():\n    return 2\n')
    assert loaded.defined_names() == {"A"}
    assert notes_like(loaded, "statement does not parse: unterminated triple-quoted string*")


def test_many_broken_statements_are_all_reported():
    source = "".join(f"def f{i}(:\n    pass\n\n" for i in range(60)) + "GOOD = 1\n"
    loaded = load_source(source)
    assert loaded.defined_names() == {"GOOD"}
    assert len(notes_like(loaded, "statement does not parse*")) == 60


def test_a_long_expression_is_checked_without_deep_recursion():
    loaded = load_source("A = 1\nB = " + " + ".join(["A"] * 800) + "\n")
    assert loaded.defined_names() == {"A", "B"}


def test_invalid_escape_in_a_student_string_is_not_an_error():
    assert load_source('import re\nPATTERN = "\\d+"\n').defined_names() == {"re", "PATTERN"}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: load_source("A = 1\n", mode="everything"), ValueError),
        (lambda: load_submission(SCENARIOS / "constants.py", required_names="g_w1"), TypeError),
        (lambda: load_submission(SCENARIOS / "constants.py", max_bytes=0), ValueError),
    ],
)
def test_programming_errors_are_not_load_errors(call, error):
    with pytest.raises(error):
        call()


def test_a_decorated_function_keeps_its_decorators():
    loaded = load_source(
        "import functools\n\n\n@functools.lru_cache(maxsize=None)\ndef f(x):\n    return x\n"
    )
    assert [(s.lineno, s.source.splitlines()[0]) for s in loaded.statements][1] == (
        4,
        "@functools.lru_cache(maxsize=None)",
    )


def test_source_is_the_statements_under_their_origins():
    loaded = load_source("import numpy as np\nprint('hi')\nX = np.pi\n", filename="lab.py")
    assert loaded.path == "lab.py"
    assert loaded.source() == "# line 1\nimport numpy as np\n\n# line 3\nX = np.pi\n"


def test_notebook_cells_are_numbered_over_code_cells_and_indented_cells_run(tmp_path):
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title", "id": "a"},
            {
                "cell_type": "code",
                "metadata": {},
                "source": "  A = 1\n  B = A + 1",
                "outputs": [],
                "execution_count": None,
                "id": "b",
            },  # fmt: skip
        ],
    }
    (tmp_path / "lab.ipynb").write_text(json.dumps(notebook))
    loaded = load_submission(tmp_path / "lab.ipynb")
    assert [(s.origin, s.source) for s in loaded.statements] == [
        ("cell 1, line 1", "A = 1"),
        ("cell 1, line 2", "B = A + 1"),
    ]
