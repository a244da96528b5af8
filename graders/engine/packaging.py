"""Gradescope packaging: `nngrade build` makes the autograder zip, `nngrade gradescope` grades inside it.

The zip holds what grading needs and nothing else: the engine, one assignment's grader, the
reference solutions, optionally MNIST, a small config, and docker/setup.sh and
docker/run_autograder at its root. Those two scripts are read from the checkout's docker/ folder,
their only copy: a build needs a checkout anyway, since pyproject.toml, README.md and reference/
are not installed as package data. Entries are sorted and stamped 1980-01-01, so one tree always
gives the same bytes.

In the image the source tree is readable by root only. File permissions are what keep the
reference solutions from the sandbox user (the worker's import block can be undone by a
submission), so `grade_in_image` re-applies them before any student code runs.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

import graders
from graders.engine.datasets import MNIST_FILES, DataError, load_mnist
from graders.engine.errors import BuildError

CONFIG = "nngrade.json"
SCRIPTS = ("setup.sh", "run_autograder")  # executable, at the zip's root, where Gradescope looks
TOP_FILES = ("pyproject.toml", "README.md")
GRADERS_FILES = ("__init__.py", "__main__.py")  # of graders/ itself: not demo.py, which is no grader
SHARED_TREES = ("graders/engine", "reference")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can record
CHECKOUT = Path(graders.__file__).resolve().parent.parent


class LayoutError(Exception):
    """The unpacked autograder is not what `nngrade build` makes; a problem for course staff."""


@dataclass(frozen=True)
class Entry:
    """One file of the zip: its path inside the zip and its bytes."""

    name: str
    data: bytes
    executable: bool = False
    compress: bool = True


@dataclass(frozen=True)
class Build:
    """What `build` wrote: the zip, its entry names, and the bundled data files."""

    path: Path
    names: tuple[str, ...]
    size: int
    data_files: tuple[str, ...]


# --- building the zip ----------------------------------------------------------------------------


def checkout_root() -> Path:
    """The source checkout the running nngrade comes from; BuildError if this is not one."""
    needed = [*TOP_FILES, *SHARED_TREES, *(f"docker/{name}" for name in SCRIPTS)]
    missing = [name for name in needed if not (CHECKOUT / name).exists()]
    if missing:
        raise BuildError(
            f"nngrade build packs a source checkout, but {CHECKOUT} lacks {', '.join(missing)}; "
            "run it from a clone installed with `pip install -e .`"
        )
    return CHECKOUT


def runtime_requirements(pyproject: Path) -> list[str]:
    """[project.dependencies] of pyproject.toml: what setup.sh installs (no extras, hence no torch)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the installed metadata carries the same list
        requires = importlib.metadata.requires("nngrade") or []
        return [r for r in requires if "extra ==" not in r]
    with pyproject.open("rb") as fh:
        dependencies = tomllib.load(fh).get("project", {}).get("dependencies")
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise BuildError(f"{pyproject}: [project] dependencies is not a list of strings")
    return dependencies


def mnist_files(folder: Path) -> list[Path]:
    """The IDX files of every complete MNIST split in `folder`, after reading them as the grader will."""
    if not folder.is_dir():
        raise DataError(f"--data {folder}: no such folder")
    load_mnist(folder)  # a malformed or missing file fails the build, not every student's grading
    found = []
    for pair in MNIST_FILES.values():
        # Same preference as load_mnist: the plain file before the .gz one.
        paths = [next((p for p in (folder / b, folder / f"{b}.gz") if p.is_file()), None) for b in pair]
        if all(paths):
            found += paths
    return found


def _tree(folder: Path, prefix: str) -> list[Entry]:
    """Every file under `folder` except bytecode and hidden files, named `prefix/relative/path`."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or name.endswith((".pyc", ".pyo")):
                continue
            path = Path(dirpath, name)
            entries.append(Entry(f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes()))
    return entries


def collect(assignment: str, data: Path | None = None) -> list[Entry]:
    """The zip's entries for `assignment`, with the MNIST files of `data` under data/ if given."""
    from graders.engine.discovery import find

    info = find(assignment)
    root = checkout_root()
    data_paths = mnist_files(data) if data is not None else []
    requirements = runtime_requirements(root / "pyproject.toml")
    config = {
        "assignment": info.name,
        "bundled_data": bool(data_paths),
        "nngrade_version": graders.__version__,
    }
    entries = [Entry(name, (root / "docker" / name).read_bytes(), executable=True) for name in SCRIPTS]
    entries += [Entry(name, (root / name).read_bytes()) for name in TOP_FILES]
    entries += [Entry(f"graders/{name}", (root / "graders" / name).read_bytes()) for name in GRADERS_FILES]
    for tree in SHARED_TREES:
        entries += _tree(root / tree, tree)
    entries += _tree(info.folder, f"graders/{info.folder.name}")
    # Gzipped IDX files do not shrink further; storing them saves the build a pointless deflate.
    entries += [Entry(f"data/{p.name}", p.read_bytes(), compress=p.suffix != ".gz") for p in data_paths]
    entries += _warm_cache(info.assignment, data)
    entries.append(Entry("requirements.txt", "".join(f"{r}\n" for r in requirements).encode()))
    entries.append(Entry(CONFIG, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()))
    return entries


def _warm_cache(assignment, data: Path | None) -> list[Entry]:
    """cache/: what the grader would otherwise compute in every Gradescope run (see cache.py)."""
    if assignment.prepare is None:
        return []
    from graders.engine.grading import one_blas_thread  # imports pytest: only when a build is asked for

    with tempfile.TemporaryDirectory(prefix="nngrade-cache-") as tmp:
        previous = os.environ.get("NNGRADE_CACHE_DIR")
        os.environ["NNGRADE_CACHE_DIR"] = tmp
        try:
            with one_blas_thread():  # what grading would compute, computed the way grading does
                assignment.prepare(data)
        finally:
            if previous is None:
                del os.environ["NNGRADE_CACHE_DIR"]
            else:
                os.environ["NNGRADE_CACHE_DIR"] = previous
        return _tree(Path(tmp), "cache")


def write_zip(entries: list[Entry], output: Path) -> int:
    """Write the entries sorted, with fixed times and modes, replacing `output` atomically; its size."""
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        raise BuildError(f"two files would have the same name in the zip: {sorted(names)}")
    output.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp's mode 0600 is kept: the zip holds the reference solutions and hidden tests.
    fd, temp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as archive:
            for entry in sorted(entries, key=lambda e: e.name):
                info = zipfile.ZipInfo(entry.name, date_time=ZIP_EPOCH)
                info.create_system = 3  # Unix: unzip then applies the modes in external_attr
                info.external_attr = (stat.S_IFREG | (0o755 if entry.executable else 0o644)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED if entry.compress else zipfile.ZIP_STORED
                archive.writestr(info, entry.data, compresslevel=9 if entry.compress else None)
        os.replace(temp, output)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return output.stat().st_size


def build(assignment: str, output: str | os.PathLike, data: str | os.PathLike | None = None) -> Build:
    """Make the Gradescope autograder zip for `assignment` at `output`."""
    entries = collect(assignment, Path(data) if data is not None else None)
    size = write_zip(entries, Path(output))
    names = tuple(sorted(entry.name for entry in entries))
    return Build(Path(output), names, size, tuple(n for n in names if n.startswith("data/")))


# --- inside the image ----------------------------------------------------------------------------


def _root_only(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return  # chmod would act on the target; the link itself grants nothing
    # Owned by root, too: an owner may chmod a file back, whatever its mode says.
    os.chown(path, 0, 0)
    os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)


def _root_writable(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 0, 0)
    os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & ~0o022)


def protect(root: Path) -> None:
    """As root: root/source readable by root only, root and root/results writable by root only.

    Idempotent; setup.sh has done the same at image build, but the image is not ours once it is
    built, and the results folder is made per run. A submission must not read the reference, nor
    replace results.json or the folder holding it.
    """
    source = root / "source"
    if not source.is_dir():
        raise LayoutError(f"{source} is not a folder: no autograder is unpacked under {root}")
    _root_only(source)  # the folder first: from here on nothing below it can be reached
    for dirpath, dirnames, filenames in os.walk(source):
        for name in (*dirnames, *filenames):
            _root_only(Path(dirpath, name))
    _root_writable(root)
    _root_writable(root / "results")


def read_config(source: Path) -> dict:
    """nngrade.json, checked: {"assignment": str, "bundled_data": bool, "nngrade_version": str}."""
    path = source / CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LayoutError(
            f"{path}: cannot be read ({exc}); is {source} an unpacked `nngrade build` zip?"
        ) from exc
    if not isinstance(config, dict) or not isinstance(config.get("assignment"), str):
        raise LayoutError(f"{path}: needs a string 'assignment', got {config!r:.200}")
    if not isinstance(config.get("bundled_data", False), bool):
        raise LayoutError(f"{path}: 'bundled_data' must be true or false")
    return config


def grade_in_image(root: str | os.PathLike) -> dict:
    """Grade root/submission with the autograder in root/source; root/results/results.json is always written.

    Raises only when results.json itself cannot be written (ResultsError).
    """
    from graders.engine.grading import grade  # imports pytest: only when grading
    from graders.engine.results import failure_results, write_results

    start = time.monotonic()
    root = Path(root)
    out = root / "results" / "results.json"
    try:
        if os.geteuid() == 0:
            protect(root)  # before anything reads the submission, let alone runs it
        source = root / "source"
        config = read_config(source)
        data = source / "data"
        if config.get("bundled_data") and not data.is_dir():
            raise LayoutError(f"{source / CONFIG} says data is bundled, but {data} is missing")
        if (source / "cache").is_dir():  # figures `nngrade build` precomputed for this data
            os.environ["NNGRADE_CACHE_DIR"] = str(source / "cache")
        return grade(config["assignment"], root / "submission", out, data=data if data.is_dir() else None)
    except Exception:
        results = failure_results(
            "The autograder is not set up correctly; this is not a problem with your code.",
            traceback.format_exc(),
            time.monotonic() - start,
        )
        write_results(out, results)
        return results
