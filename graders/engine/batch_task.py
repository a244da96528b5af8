"""One submission of a batch, graded by `grading.grade` in a process of its own.

`grade_task(task)` is what every executor runs, on this machine or on a Dask worker: it writes
the submission's files to a private folder, has a zygote (zygote.py) fork a grading process for
them, and turns what comes back into an outcome with one of four statuses:

- graded: the grader ran to the end (failed tests, hung functions and crashed workers included);
- invalid: the submission could not be read at all (the loader refused it; it is still graded,
  so its results say why, and every test scores 0);
- timeout: grading took longer than the batch's limit and was stopped;
- crashed: grading itself broke (an autograder error, or the grading process died).

A process per submission because grade() runs pytest.main in-process: grader modules stay cached
in sys.modules between runs (a changed test module would not be reloaded), and peak-memory figures
are per process. The grading process stops its sandbox on SIGTERM, which it gets at the time limit
and when the batch dies (even by SIGKILL), and on Ctrl-C.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import os
import signal
import tempfile
import threading
import time
import traceback
from pathlib import Path

import graders
from graders.engine.files import safe_relative
from graders.engine.zygote import Zygote

STATUSES = ("graded", "timeout", "crashed", "invalid")
STAFF_DETAIL_CHARS = 4000
TEST_FIELDS = ("name", "number", "score", "max_score", "status", "visibility", "tags", "output")


def grader_fingerprint(assignment: str, grader_dir: str | None = None) -> dict:
    """nngrade's version and a sha256 over the files that decide a score: the grader and its reference.

    The grader is its package (and the --grader copy, if any) plus every `reference` module it
    imports. The engine is covered by the version: hashing it too would make a run unresumable
    after any edit to the harness.
    """
    from graders.engine.discovery import find

    folders = [find(assignment).folder] + ([Path(grader_dir).resolve()] if grader_dir else [])
    files = tuple(
        p
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.relative_to(folder).parts
    )
    # A batch asks once per submission (11 ms of reading and parsing each time): the hash is worked
    # out again only when a file that could be in it changes size or modification time.
    root = _reference_root()
    watched = files + (tuple(sorted(root.rglob("*.py"))) if root else ())
    stamp = tuple((str(p), st.st_mtime_ns, st.st_size) for p in watched for st in [p.stat()])
    return {"version": graders.__version__, "hash": _content_hash(files, stamp)}


@functools.lru_cache(maxsize=16)
def _content_hash(files: tuple[Path, ...], stamp: tuple) -> str:
    """sha256 over the grader's files and the reference modules they import; `stamp` is the cache key."""
    digest = hashlib.sha256()
    for path in [*files, *_reference_files([p for p in files if p.suffix == ".py"])]:
        digest.update(f"{path.name}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _reference_root() -> Path | None:
    spec = importlib.util.find_spec("reference")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _reference_files(sources: list[Path]) -> list[Path]:
    """The `reference` modules these grader files import (found on disk, never imported here)."""
    root = _reference_root()
    if root is None:
        return []
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_bytes())):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    found = {root / "__init__.py"}
    for name in names:
        parts = name.split(".")
        if parts[0] == "reference" and len(parts) > 1:
            module = root.joinpath(*parts[1:])
            found.update(c for c in (module.with_suffix(".py"), module / "__init__.py") if c.is_file())
    return sorted(p for p in found if p.is_file())


def make_task(
    key: str,
    files: dict[str, bytes],
    *,
    is_folder: bool,
    assignment: str,
    timeout: float,
    data: str | None = None,
    grader_dir: str | None = None,
) -> dict:
    """A task is plain data (so Dask can ship it): the submission's bytes and how to grade them."""
    return {
        "key": key,
        "files": files,
        "is_folder": is_folder,
        "assignment": assignment,
        "timeout": float(timeout),
        "data": data,
        "grader_dir": grader_dir,
    }


def outcome(key: str, status: str, *, message: str = "", results: dict | None = None, duration=0.0) -> dict:
    """The record of one submission the history stores, from a results.json (or none)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    results = results or {}
    tests = [{f: t[f] for f in TEST_FIELDS if f in t} for t in results.get("tests", [])]
    return {
        "key": key,
        "status": status,
        "score": float(results.get("score", 0.0)),
        "max_score": float(sum(t.get("max_score", 0.0) for t in tests)),
        "tests": tests,
        "output": results.get("output", ""),
        "extra": results.get("extra_data", {}),
        "message": message,
        "duration": round(duration, 3),
        "grader": None,
    }


class _Zygotes(threading.local):
    """One zygote per thread that grades and per assignment (a Dask worker's threads use these).

    They live as long as the process: each ends when its stdin closes, at the latest when this
    process exits.
    """

    def __init__(self) -> None:
        self.by_assignment: dict[str, Zygote] = {}

    def get(self, assignment: str) -> Zygote:
        if assignment not in self.by_assignment:
            self.by_assignment[assignment] = Zygote(assignment)
        return self.by_assignment[assignment]


_ZYGOTES = _Zygotes()


def grade_task(task: dict, stop: threading.Event | None = None, zygote: Zygote | None = None) -> dict:
    """Grade one task in a process of its own; never raises (a failure here is a `crashed` outcome)."""
    start = time.monotonic()
    try:
        result = _grade(task, start, stop, zygote or _ZYGOTES.get(task["assignment"]))
    except Exception:
        result = outcome(task["key"], "crashed", message=traceback.format_exc()[-STAFF_DETAIL_CHARS:])
    result["duration"] = round(time.monotonic() - start, 3)
    try:
        result["grader"] = grader_fingerprint(task["assignment"], task.get("grader_dir"))
    except Exception:
        result["grader"] = None  # the driver then records a mismatch, never a silent difference
    return result


def _grade(task: dict, start: float, stop: threading.Event | None, zygote: Zygote) -> dict:
    key = task["key"]
    with tempfile.TemporaryDirectory(prefix="nngrade-batch-") as tmp:
        tmp = Path(tmp)
        submission = _place(task, tmp / "in")
        request = {
            "assignment": task["assignment"],
            "submission": str(submission),
            "results": str(tmp / "results.json"),
            "outcome": str(tmp / "outcome.json"),
            "data": task.get("data"),
            "grader_dir": task.get("grader_dir"),
        }
        (tmp / "request.json").write_text(json.dumps(request), encoding="utf-8")
        ended, code = zygote.grade(tmp / "request.json", start + task["timeout"], stop)
        if ended == "timeout":
            limit = f"grading took longer than {task['timeout']:g} s and was stopped"
            return outcome(key, "timeout", message=limit)
        if ended == "stopped":
            return outcome(key, "crashed", message="the batch was interrupted while grading this submission")
        try:
            reply = json.loads((tmp / "outcome.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log_tail = (tmp / "log").read_bytes()[-STAFF_DETAIL_CHARS:].decode("utf-8", "replace")
            return outcome(key, "crashed", message=f"the grading process exited with {code}:\n{log_tail}")
        return outcome(key, reply["status"], message=reply["message"], results=reply["results"])


def _place(task: dict, folder: Path) -> Path:
    """Write the submission's files; the path to grade is the file itself or the folder holding them."""
    # A folder keeps its name (the loader's messages name it); a single file is graded as itself.
    single = not task["is_folder"] and len(task["files"]) == 1
    target = folder if single else folder / (safe_relative(task["key"]) or "submission").replace("/", "_")
    target.mkdir(parents=True)
    for name, data in task["files"].items():
        relative = safe_relative(name)
        if relative is None:
            raise ValueError(f"refusing to write {name!r} outside the submission's folder")
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(data)
    return target / safe_relative(next(iter(task["files"]))) if single else target


# --- the grading process ------------------------------------------------------------------------


class _Interrupted:
    """Set by SIGTERM or SIGINT; a grade that was interrupted never reports an outcome."""

    happened = False


def _on_stop(signum, frame) -> None:
    _Interrupted.happened = True
    raise KeyboardInterrupt


def _child(request: dict) -> dict:
    from graders.engine import grading  # pytest and the sandbox: only in the grading process
    from graders.engine.loading import LoadError, load_submission
    from graders.engine.plugin import GRADER_ERROR_TEST

    info = grading.find(request["assignment"])
    status, message = "graded", ""
    assignment = info.assignment
    try:
        load_submission(request["submission"], assignment.required, assignment.mode, assignment.max_bytes)
    except LoadError as exc:
        status, message = "invalid", str(exc)
    results = grading.grade(
        request["assignment"],
        request["submission"],
        request["results"],
        data=request["data"],
        grader_folder=request.get("grader_dir") or None,
    )
    if (results.get("extra_data") or {}).get("autograder_error"):
        detail = [t.get("output", "") for t in results.get("tests", []) if t.get("visibility") == "hidden"]
        status, message = "crashed", "\n".join(detail)[-STAFF_DETAIL_CHARS:]
    elif status == "graded":
        tests = results.get("tests", [])
        broken = [t for t in tests if t.get("name") == GRADER_ERROR_TEST]
        if broken:
            message = "the grader raised an internal error in a test:\n" + broken[0].get("output", "")
            message = message[:STAFF_DETAIL_CHARS]
    return {"status": status, "message": message, "results": results}


def run_request(path: str, ignore_sigint: bool = False) -> int:
    """In a grading process: grade what the request file describes, and write its outcome atomically."""
    # Raised as KeyboardInterrupt, which pytest turns into an orderly end: the plugin stops the sandbox.
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_sigint else _on_stop)
    os.chdir(Path(path).parent)
    request = json.loads(Path(path).read_text(encoding="utf-8"))
    reply = _child(request)
    if _Interrupted.happened:
        return 130
    target = Path(request["outcome"])
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(reply), encoding="utf-8")
    os.replace(partial, target)
    return 0
