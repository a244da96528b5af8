"""`nngrade build` and `nngrade gradescope`: the zip's contents, and the zip at work in a /autograder layout.

The image tests lay the zip out as Gradescope does, run the real setup.sh and run_autograder as
root, and then search the whole filesystem as the sandbox user for a secret planted in the
reference solutions. They need root, as Gradescope has it.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from graders.engine.cli import main
from graders.engine.discovery import available
from graders.engine.results import load_results
from graders.engine.users import claim

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "assignments" / "hw2" / "examples" / "solution_colab_export.py"
SANDBOX_USERS = "nngrade-sandbox"  # the base name of the pool the engine runs student code as
IS_ROOT = os.geteuid() == 0
ROOT_REASON = (
    "needs root, as on Gradescope: setup.sh gives the source to root, and student code runs as another user"
)
needs_root = pytest.mark.skipif(not IS_ROOT, reason=ROOT_REASON)


def build(tmp: Path, name: str, *args: str) -> Path:
    out = tmp / name
    assert main(["build", "hw2", "-o", str(out), *args]) == 0
    return out


@pytest.fixture(scope="module")
def zips(tmp_path_factory, mnist_dir):
    """(with MNIST, the same again, without data), built from this checkout."""
    tmp = tmp_path_factory.mktemp("zips")
    data = ["--data", str(mnist_dir)]
    return build(tmp, "a.zip", *data), build(tmp, "b.zip", *data), build(tmp, "plain.zip")


def unpack(archive: Path, dest: Path) -> None:
    """What Gradescope's unzip does: the files, with the modes the zip records."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            zf.extract(info, dest)
            os.chmod(dest / info.filename, (info.external_attr >> 16) & 0o777)


def mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0o777


# --- the zip --------------------------------------------------------------------------------------


def test_zip_holds_the_scripts_at_its_root_and_only_what_grading_needs(zips, mnist_dir):
    with_data, _, plain = zips
    with zipfile.ZipFile(with_data) as zf:
        infos = {info.filename: info for info in zf.infolist()}
        config = json.loads(zf.read("nngrade.json"))
        for script in ("setup.sh", "run_autograder"):
            assert mode(infos[script]) == 0o755, script
            assert zf.read(script) == (REPO / "docker" / script).read_bytes()  # docker/ is the only copy
    names = set(infos)
    assert {"pyproject.toml", "README.md", "graders/engine/worker.py", "reference/hw2.py"} <= names
    assert {"graders/hw2/test_training.py", "graders/engine/results_schema.json"} <= names
    assert all(
        mode(info) == 0o644 for name, info in infos.items() if name not in ("setup.sh", "run_autograder")
    )
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n or n.endswith(".pyc")]
    graders_dirs = {n.split("/")[1] for n in names if n.startswith("graders/") and n.count("/") > 1}
    assert graders_dirs == {"engine", "hw2"}
    assert "graders/demo.py" not in names
    assert sorted(n for n in names if n.startswith("data/")) == sorted(
        f"data/{p.name}" for p in mnist_dir.glob("*-ubyte*")
    )
    assert config == {"assignment": "hw2", "bundled_data": True, "nngrade_version": "0.1.0"}

    with zipfile.ZipFile(plain) as zf:
        assert not [n for n in zf.namelist() if n.startswith("data/")]
        assert json.loads(zf.read("nngrade.json"))["bundled_data"] is False


def test_zip_carries_the_reference_accuracy_computed_for_its_data(zips):
    """So that no Gradescope run has to train the reference (three models) again."""
    for archive, expected_epochs in ((zips[0], 2), (zips[2], 20)):
        with zipfile.ZipFile(archive) as zf:
            cached = [n for n in zf.namelist() if n.startswith("cache/hw2-reference-accuracy/")]
            assert len(cached) == 1, archive
            entry = json.loads(zf.read(cached[0]))
        assert entry["key"]["protocol"][2] == expected_epochs
        assert set(entry["value"]) == {"linear", "single_hidden", "two_hidden"}
        assert all(0.5 < v < 1.0 for v in entry["value"].values())


def test_setup_installs_the_declared_runtime_dependencies_and_not_torch(zips):
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    with zipfile.ZipFile(zips[2]) as zf:
        requirements = zf.read("requirements.txt").decode().split()
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert requirements == declared
    assert not [r for r in requirements if r.startswith("torch")]


def test_two_builds_of_one_tree_are_the_same_bytes(zips):
    first, second, _ = zips
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_build_refuses_an_unknown_assignment_and_lists_the_known_ones(capsys, tmp_path):
    assert main(["build", "nope", "-o", str(tmp_path / "a.zip")]) == 2
    assert re.search(r"available: .*\bhw2\b", capsys.readouterr().err)
    assert not list(tmp_path.iterdir())


def test_build_refuses_a_data_folder_without_mnist(capsys, tmp_path):
    assert main(["build", "hw2", "-o", str(tmp_path / "a.zip"), "--data", str(tmp_path)]) == 2
    assert "no MNIST files" in capsys.readouterr().err


# --- nngrade gradescope on broken input ----------------------------------------------------------


def layout(tmp: Path, archive: Path) -> Path:
    root = tmp / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    unpack(archive, root / "source")
    return root


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "holds no .ipynb or .py file"), (b"{not json", "hw2.ipynb is corrupted")],
    ids=["empty", "corrupt-notebook"],
)
def test_gradescope_explains_an_unusable_submission(capsys, tmp_path, zips, content, message):
    root = layout(tmp_path, zips[2])
    if content is not None:
        (root / "submission" / "hw2.ipynb").write_bytes(content)
    assert main(["gradescope", "--root", str(root)]) == 0
    results = load_results(root / "results" / "results.json")
    assert results["score"] == 0
    assert "Your submission could not be read" in results["output"]
    assert message in results["output"]


def test_gradescope_without_a_config_writes_an_autograder_error(capsys, tmp_path):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    assert main(["gradescope", "--root", str(root)]) == 0
    results = load_results(root / "results" / "results.json")
    shown = [t for t in results["tests"] if t["visibility"] == "visible"]
    staff = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert results["score"] == 0 and results["extra_data"]["autograder_error"] is True
    assert "not a problem with your code" in shown[0]["output"]
    assert "Traceback" not in results["output"] and "Traceback" not in shown[0]["output"]
    assert "nngrade.json" in staff[0]["output"] and "Traceback" in staff[0]["output"]


def test_run_autograder_writes_a_notice_when_python_cannot_start_nngrade(tmp_path):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    shutil.copy(REPO / "docker" / "run_autograder", root / "source")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\nexit 1\n")
    (fake / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder"), str(root)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    results = load_results(root / "results" / "results.json")
    assert results["score"] == 0 and "could not start" in results["output"]


# --- the zip at work, as root ----------------------------------------------------------------------

# Run as the sandbox user: a depth-first walk from the given places, never following symlinks,
# reading the first MiB of every regular file it may open, within a time and file budget. The
# secrets arrive on stdin, so that they are in no file and no command line it could come across.
WALKER = r"""
import json, os, stat, sys, time
canary, control = (line.strip().encode() for line in sys.stdin.read().splitlines()[:2])
starts, probes, seconds, max_files = json.loads(sys.argv[1])
skip = {"/proc", "/sys", "/dev"}
deadline = time.monotonic() + seconds
report = {"files_read": 0, "bytes_read": 0, "dirs_listed": 0, "dirs_denied": [], "files_denied": 0,
          "found": [], "control_found": [], "probes_read": [], "stopped_early": False}

def read(path):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        return os.read(fd, 1 << 20)
    finally:
        os.close(fd)

for path in probes:  # the layout is public: try the known paths without listing anything
    try:
        read(path)
        report["probes_read"].append(path)
    except OSError:
        pass
seen, stack = set(), list(reversed(starts))
while stack:
    if time.monotonic() > deadline or report["files_read"] >= max_files:
        report["stopped_early"] = True
        break
    path = stack.pop()
    try:
        info = os.lstat(path)
    except OSError:
        continue
    if stat.S_ISDIR(info.st_mode):
        if path in skip or (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            names = os.listdir(path)
        except PermissionError:
            report["dirs_denied"].append(path)
            continue
        except OSError:
            continue
        report["dirs_listed"] += 1
        stack += [os.path.join(path, name) for name in sorted(names, reverse=True)]
    elif stat.S_ISREG(info.st_mode):
        try:
            data = read(path)
        except PermissionError:
            report["files_denied"] += 1
            continue
        except OSError:
            continue
        report["files_read"] += 1
        report["bytes_read"] += len(data)
        if canary in data:
            report["found"].append(path)
        if control in data:
            report["control_found"].append(path)
print(json.dumps(report))
"""


@dataclass(frozen=True)
class Image:
    base: Path  # a fresh 0755 folder under /tmp: reachable by anyone but for what setup.sh does
    root: Path  # base/autograder, laid out like Gradescope's /autograder
    canary: str  # planted in root/source/reference/hw2.py
    control: str  # planted in a world-readable file beside root
    env: dict
    run: subprocess.CompletedProcess


def image_env(cache: Path) -> dict:
    return {
        **os.environ,
        # setup.sh and run_autograder call `python3`: make it this interpreter, with its packages.
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        # setup.sh's pip step may then only confirm what is installed, never fetch anything.
        "PIP_NO_INDEX": "1",
        # The canary changes the reference's bytes, hence its cache key: keep root's cache clean.
        "NNGRADE_CACHE_DIR": str(cache),
    }


@pytest.fixture(scope="module")
def image(zips, tmp_path_factory):
    """The MNIST zip laid out in a 0755 folder in /tmp, a canary planted, setup.sh and run_autograder run."""
    if not IS_ROOT:
        pytest.skip(ROOT_REASON)
    # Not under pytest's tmp base, which is mode 0700: then the base, not setup.sh, would protect the files.
    base = Path(tempfile.mkdtemp(prefix="nngrade-image-", dir="/tmp"))
    try:
        base.chmod(0o755)
        root = base / "autograder"
        for name in ("source", "submission", "results"):
            (root / name).mkdir(parents=True, mode=0o755)
        unpack(zips[0], root / "source")
        canary, control = (f"nngrade-{what}-{secrets.token_hex(16)}" for what in ("canary", "control"))
        with (root / "source" / "reference" / "hw2.py").open("a", encoding="utf-8") as fh:
            fh.write(f"# {canary}\n")
        (base / "control.txt").write_text(f"{control}\n")
        (base / "control.txt").chmod(0o644)
        shutil.copy(SOLUTION, root / "submission")
        env = image_env(tmp_path_factory.mktemp("cache"))
        setup = subprocess.run(
            ["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True, timeout=300
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr
        run = subprocess.run(
            ["bash", str(root / "source" / "run_autograder"), str(root)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        yield Image(base, root, canary, control, env, run)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@needs_root
def test_run_autograder_grades_the_solution_from_a_root_only_source(image):
    assert image.run.returncode == 0, image.run.stdout + image.run.stderr
    results = load_results(image.root / "results" / "results.json")
    assert results["score"] == 110
    assert results["extra_data"]["protections"]["user"].startswith(SANDBOX_USERS)
    for folder, dirs, files in os.walk(image.root / "source"):
        for path in [Path(folder), *(Path(folder, n) for n in dirs + files)]:
            info = path.lstat()
            assert info.st_uid == 0 and info.st_mode & 0o077 == 0, f"{path}: {oct(info.st_mode)}"
    # The copy in the layout was graded, not the checkout that the test suite is installed from.
    where = subprocess.run(
        [sys.executable, "-c", "import graders, reference; print(graders.__file__, reference.__file__)"],
        cwd=image.root / "source",
        env={**image.env, "PYTHONPATH": str(image.root / "source")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(Path(p).is_relative_to(image.root / "source") for p in where.stdout.split())


def walk(image: Image, *, as_sandbox_user: bool, starts: list[str], seconds: float) -> dict:
    source = image.root / "source"
    probes = [
        source / "reference" / "hw2.py",
        source / "nngrade.json",
        image.root / "results" / "results.json",
    ]
    # Claimed as a grader claims one, so that no grader running meanwhile takes the same user
    # (and kills its processes, this walk among them).
    user = claim(SANDBOX_USERS) if as_sandbox_user else None
    ids = {"user": user.uid, "group": user.gid, "extra_groups": []} if user else {}
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                WALKER,
                json.dumps([starts, [str(p) for p in probes], seconds, 250_000]),
            ],
            input=f"{image.canary}\n{image.control}\n",
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            **ids,
        )
    finally:
        if user is not None:
            user.release()
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout), "user": user.name if user else "root"}


@needs_root
def test_the_sandbox_user_cannot_find_the_canary_planted_in_the_reference(image):
    # The walk itself is proved first: as root it finds the canary, so the secret is there to be found.
    assert walk(image, as_sandbox_user=False, starts=[str(image.base)], seconds=30)["found"]

    report = walk(image, as_sandbox_user=True, starts=[str(image.base), "/tmp", "/var/tmp", "/"], seconds=15)
    summary = {k: v for k, v in report.items() if k != "dirs_denied"} | {
        "dirs_denied": report["dirs_denied"][:20]
    }
    print(json.dumps(summary, indent=1))  # shown with -s or on failure: what the walk covered
    assert report["found"] == [], summary
    assert report["probes_read"] == [], summary
    # ...and it did look: it read the world-readable control file beside the layout, was turned away at
    # the source folder, and read thousands of other files on its way.
    assert report["control_found"] == [str(image.base / "control.txt")], summary
    assert str(image.root / "source") in report["dirs_denied"], summary
    assert str(image.root / "submission") not in report["dirs_denied"], summary
    assert report["files_read"] > 2_000, summary
    # Grading as root still worked on this very tree (the grader can read its own files).
    assert load_results(image.root / "results" / "results.json")["score"] == 110


@pytest.mark.slow
@pytest.mark.parametrize(
    # hw2 is graded in the root-only layout above.
    "assignment",
    sorted(info.name for info in available() if info.name != "hw2"),
)
def test_every_assignment_builds_and_grades_its_solution_in_the_gradescope_layout(tmp_path, assignment):
    """Nothing in build or the image's grading is hw2's: each assignment's solution gets full marks."""
    archive = tmp_path / f"{assignment}.zip"
    assert main(["build", assignment, "-o", str(archive)]) == 0
    root = layout(tmp_path, archive)
    solution = REPO / "tests" / "submissions" / assignment / "solution.py"
    (root / "submission" / solution.name).write_bytes(solution.read_bytes())
    assert main(["gradescope", "--root", str(root)]) == 0
    results = load_results(root / "results" / "results.json")
    declared = importlib.import_module(f"graders.{assignment}").ASSIGNMENT.total_points
    assert results["score"] == declared and declared > 0
