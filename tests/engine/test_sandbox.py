"""The sandboxed worker on ordinary submissions: calls, errors, imports, output, restarts."""

from __future__ import annotations

import numpy as np
import pytest

from graders.engine.loading import load_source
from graders.engine.sandbox import Sandbox, SandboxConfig, SubmissionError
from tests.engine.sandbox_helpers import IS_ROOT, needs_root

SOURCE = """
import math
import numpy as np
import torch
import torchvision
from tqdm import tqdm
import matplotlib.pyplot as plt
from google.colab import drive

SCALE = 2 * 3

def double(x):
    print("doubling", np.shape(x))
    return np.asarray(x) * 2

def uses_scale(x):
    return x * SCALE

def uses_torchvision():
    return torchvision.datasets.MNIST

def uses_torch():
    return torch.ones(3, dtype=torch.float64).numpy()

def raises():
    return 1 / 0

def needs_global():
    return m + 1

def mount():
    drive.mount("/content/drive")
    return "mounted"

class Acc:
    def __init__(self):
        self.total = 0.0

m = np.load("train.npy").mean()
"""


@pytest.fixture(scope="module")
def sandbox():
    submission = load_source(SOURCE, "hw2 submission (1).py")
    with Sandbox({"hw2 submission (1).py": SOURCE.encode()}, SandboxConfig(call_timeout=10)) as sb:
        sb.report = sb.load(submission)
        yield sb


def test_load_defines_functions_and_reports_missing_imports(sandbox):
    report = sandbox.report
    for name in ("double", "uses_scale", "Acc", "SCALE", "np", "torch", "torchvision", "tqdm", "plt"):
        assert name in report.defined
    assert not report.errors
    assert any("torchvision" in p for p in report.import_problems)
    assert not any("numpy" in p for p in report.import_problems)


def test_call_round_trips_arrays_and_captures_output(sandbox):
    result = sandbox.call("double", np.arange(3.0))
    np.testing.assert_array_equal(result.value, [0.0, 2.0, 4.0])
    assert result.output.stdout == "doubling (3,)\n"
    assert result.output.stderr == ""
    assert sandbox.call("uses_scale", 7).value == 42


def test_same_call_gives_identical_values(sandbox):
    from graders.engine.codec import encode

    a = sandbox.call("double", np.linspace(0, 1, 50)).value
    b = sandbox.call("double", np.linspace(0, 1, 50)).value
    assert encode(a) == encode(b)


def test_exception_is_reported_with_the_students_line(sandbox):
    with pytest.raises(SubmissionError) as exc:
        sandbox.call("raises")
    err = exc.value
    assert err.kind == "exception"
    assert err.error_type == "ZeroDivisionError"
    assert 'hw2 submission (1).py", line 26, in raises' in err.traceback
    assert "graders" not in err.traceback  # no frames of the worker itself


def test_missing_import_fails_only_the_function_that_uses_it(sandbox):
    with pytest.raises(SubmissionError, match="`torchvision` is not available in the grader"):
        sandbox.call("uses_torchvision")
    assert sandbox.call("uses_scale", 1).value == 6


def test_lazy_torch_is_imported_on_first_use(sandbox):
    np.testing.assert_array_equal(sandbox.call("uses_torch", timeout=60).value, np.ones(3))


def test_global_set_only_by_top_level_code_is_explained(sandbox):
    with pytest.raises(SubmissionError, match="name 'm' is not defined") as exc:
        sandbox.call("needs_global")
    assert "`m` is set by top-level code the grader does not run (line 39" in exc.value.message
    assert "pass it in as an argument" in exc.value.message


def test_colab_drive_mount_is_a_harmless_stub(sandbox):
    assert sandbox.call("mount").value == "mounted"


def test_unknown_function(sandbox):
    with pytest.raises(SubmissionError, match="does not define `nope`"):
        sandbox.call("nope")


def test_unsupported_return_type_is_refused(sandbox):
    with pytest.raises(SubmissionError, match="unsupported type submission.Acc") as exc:
        sandbox.call("Acc")
    assert exc.value.kind == "unsupported"


def test_driver_runs_trusted_code_against_the_submission(sandbox):
    source = (
        "def twice_double(submission, x):\n"
        "    first = submission['double'](x)\n"
        "    return {'first': first, 'second': submission['double'](first)}\n"
    )
    sandbox.define_driver("twice_double", source)
    value = sandbox.driver("twice_double", np.ones(2)).value
    np.testing.assert_array_equal(value["second"], [4.0, 4.0])


def test_a_kept_value_reaches_every_driver_call_that_names_it(sandbox):
    data = np.arange(12.0).reshape(3, 4)
    source = "def total(submission, x, scale=1.0):\n    return float(x.sum() * scale)\n"
    sandbox.define_driver("total", source)
    stands_for = sandbox.keep("data", data)
    assert sandbox.driver("total", stands_for).value == 66.0
    assert sandbox.driver("total", stands_for, scale=2.0).value == 132.0
    assert sandbox.driver("total", x=stands_for).value == 66.0


def test_probe_reports_protections():
    with Sandbox({}, SandboxConfig()) as sb:
        sb.load(load_source("x = 1\n"))
        probe = sb.probe
    assert probe["rlimits"]["core"] == 0
    assert "fsize" in probe["rlimits"]
    if IS_ROOT:
        assert probe["user"].startswith("nngrade-sandbox-")
        assert probe["uid"] != 0
        assert probe["network_isolated"]
        assert probe["private_tmp"]
        assert probe["degraded"] == []
    else:
        assert any("uid" in d for d in probe["degraded"])


@needs_root
def test_without_a_sandbox_user_the_probe_says_degraded():
    with Sandbox({}, SandboxConfig(user=None)) as sb:
        sb.load(load_source("x = 1\n"))
        assert any("grading user" in d for d in sb.probe["degraded"])


def test_imports_that_succeed_cost_nothing_until_used():
    source = (
        "def loaded(submission):\n"
        "    import sys\n"
        "    return sorted(m for m in ('torch', 'matplotlib', 'tqdm') if m in sys.modules)\n"
    )
    with Sandbox({}, SandboxConfig()) as fresh:
        fresh.load(load_source("import torch\nimport matplotlib.pyplot as plt\nfrom tqdm import tqdm\n"))
        fresh.define_driver("loaded", source)
        assert fresh.driver("loaded").value == []


def test_worker_environment_is_allow_listed_and_stdin_closed(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-students")
    source = (
        "def probe(submission):\n"
        "    import os\n"
        "    try:\n"
        "        input()\n"
        "        stdin = 'open'\n"
        "    except EOFError:\n"
        "        stdin = 'closed'\n"
        "    threads = os.environ.get('OMP_NUM_THREADS')\n"
        "    return {'env': sorted(os.environ), 'stdin': stdin, 'threads': threads}\n"
    )
    with Sandbox({}, SandboxConfig()) as sb:
        sb.load(load_source("x = 1\n"))
        sb.define_driver("probe", source)
        seen = sb.driver("probe").value
    assert "AWS_SECRET_ACCESS_KEY" not in seen["env"]
    assert set(seen["env"]) <= {
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "TZ",
        "MPLBACKEND",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "NNGRADE_SANDBOX",
    }
    assert seen["stdin"] == "closed"
    assert seen["threads"] == "1"


def test_total_time_budget_stops_a_submission():
    source = "def slow():\n    while True:\n        pass\n\ndef fast():\n    return 1\n"
    with Sandbox({}, SandboxConfig(call_timeout=30, total_timeout=3)) as sb:
        sb.load(load_source(source))
        with pytest.raises(SubmissionError, match="total time budget ran out") as exc:
            sb.call("slow")
        assert exc.value.kind == "timeout"
        with pytest.raises(SubmissionError, match="used up its total time budget"):
            sb.call("fast")


def test_full_mode_runs_top_level_code_and_load_errors_do_not_stop_the_rest():
    source = (
        "import numpy as np\n"
        "TABLE = np.arange(4) * 2\n"
        "print('top-level ran')\n"
        "broken = 1 / 0\n"
        "def total():\n"
        "    return int(TABLE.sum())\n"
    )
    with Sandbox({}, SandboxConfig()) as sb:
        report = sb.load(load_source(source, mode="full"))
        assert [e["type"] for e in report.errors] == ["ZeroDivisionError"]
        assert report.errors[0]["origin"] == "line 4"
        assert sb.call("total").value == 12


def test_a_restart_replays_the_submission_and_the_drivers():
    source = "import os\n\ndef die():\n    os._exit(3)\n\ndef one():\n    return 1\n"
    with Sandbox({}, SandboxConfig()) as sb:
        sb.load(load_source(source))
        sb.define_driver("twice", "def twice(submission):\n    return 2 * submission['one']()\n")
        with pytest.raises(SubmissionError, match="exit code 3") as exc:
            sb.call("die")
        assert exc.value.kind == "crash"
        assert sb.driver("twice").value == 2
        assert sb.restarts == 1


def test_a_restart_replays_kept_values():
    source = "import os\n\ndef die():\n    os._exit(3)\n"
    with Sandbox({}, SandboxConfig()) as sb:
        sb.load(load_source(source))
        sb.define_driver("size", "def size(submission, x):\n    return int(x.size)\n")
        stands_for = sb.keep("data", np.zeros(1000))
        with pytest.raises(SubmissionError, match="exit code 3"):
            sb.call("die")
        assert sb.driver("size", stands_for).value == 1000
        assert sb.restarts == 1


@needs_root
def test_a_python_installed_under_tmp_stays_visible_behind_the_private_tmp():
    """CI may clone (and make its virtualenv) under /tmp, which the worker hides behind a tmpfs."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        os_tmp = Path(tmp)
        os_tmp.chmod(0o755)
        venv = os_tmp / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
        # A package only the virtualenv has: the worker must see the venv's own site-packages.
        (site_packages,) = venv.glob("lib/python3*/site-packages")
        (site_packages / "venv_only.py").write_text("VALUE = [1]\n", encoding="utf-8")
        script = (
            "from graders.engine.loading import load_source\n"
            "from graders.engine.sandbox import Sandbox\n"
            "source = 'import json, venv_only\\ndef f():\\n    return json.dumps(venv_only.VALUE)\\n'\n"
            "with Sandbox({}) as sb:\n"
            "    sb.load(load_source(source))\n"
            "    print(sb.call('f').value, sb.probe['private_tmp'], sb.probe['degraded'])\n"
        )
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", script],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[1] True []"


PURE = """
import math

def hypot(a, b):
    return math.hypot(a, b)

def numpy_loaded():
    import sys
    return "numpy" in sys.modules

def leave():
    exit(3)

def same(x):
    return x

def helped():
    return callable(help) and callable(quit)
"""


def test_a_pure_python_submission_runs_without_numpy_and_keeps_exit_and_help():
    """The worker starts with -S and loads numpy only on need; site's builtins are still there."""
    with Sandbox({"pure.py": PURE.encode()}, SandboxConfig(call_timeout=10)) as sb:
        sb.load(load_source(PURE, "pure.py"))
        assert sb.call("hypot", 3.0, 4.0).value == 5.0
        assert sb.call("numpy_loaded").value is False
        assert sb.call("helped").value is True
        with pytest.raises(SubmissionError) as exc:
            sb.call("leave")
        assert exc.value.error_type == "SystemExit"
        # An array from the grader makes the worker import numpy to decode it.
        np.testing.assert_array_equal(sb.call("same", np.arange(3.0)).value, [0.0, 1.0, 2.0])
        assert sb.call("numpy_loaded").value is True


def test_worker_takes_site_packages_and_pth_paths_but_runs_no_pth_code(tmp_path):
    import json
    import subprocess
    import sys

    from graders.engine.sandbox import ENGINE_DIR

    site_dir, marker = tmp_path / "site-packages", tmp_path / "ran"
    (site_dir / "vendored").mkdir(parents=True)
    (site_dir / "extra.pth").write_text(
        f"vendored\n# a comment\nimport os; open({str(marker)!r}, 'w').close()\nnot-there\n", encoding="utf-8"
    )
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import worker;"
        "worker._add_site_packages([sys.argv[2], sys.argv[2]]);"
        "print(json.dumps({'path': sys.path, 'exit': callable(exit), 'quit': callable(quit)}))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(ENGINE_DIR), str(site_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["path"].count(str(site_dir)) == 1
    assert str(site_dir / "vendored") in seen["path"]
    assert not any(p.endswith("not-there") for p in seen["path"])
    assert not marker.exists(), "a .pth import line ran in the worker"
    assert seen["exit"] and seen["quit"]  # site's builtins, which -S alone would leave out
