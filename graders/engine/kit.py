"""`nngrade kit ASSIGNMENT -o kit.zip`: a student kit that runs the visible tests offline, no reference in it.

The kit is the handout (notebook and README), the engine, and the assignment's grader with its
hidden tests taken out, where every question the grader asks the reference is answered from
recordings made here. Why record rather than ship "expected values" written by hand: a grader asks
the reference in many shapes (a call with plain numbers, a whole Problem built around reference
Parameters objects, a graph of reference `Value`s, a torch run), and recording the answers at the
boundary of the grader's own functions covers all of them without a line of per-assignment code,
and stays right when a grader changes. Two boundaries are recorded (kit_record.py):

- a grader function that computes from the reference (found by reading the source, kit_transform)
  is recorded whole when its arguments are plain data, and becomes a replay stub in the kit;
- where that is impossible (a test, or a helper handed the submission), the calls it makes into
  `reference` itself are recorded, and the kit's `reference` package is made of replay stubs.

A call made with the student's own results (hw2 measures dev accuracy of the weights the student's
code trained) cannot be recorded: its function declares a stand-in (kit_replay.stands_in_for) that
the kit runs instead, checked here against the original on every call. The recording runs the
visible tests on a correct submission, then again with every number from the sandbox perturbed, so
that the failure paths (which compute hints) ask their questions too. Finally the kit itself is run,
in a separate interpreter that cannot import the repository, on the solution and on every example
in assignments/<name>/examples/, and must give exactly the results the repository gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import graders
from graders.engine import kit_files
from graders.engine.grading import GraderInfo, find, grade
from graders.engine.kit_record import Recorder, RecordingError, collect, record_run
from graders.engine.kit_replay import NOT_IN_KIT, RECORDINGS, dataclasses_in, encode_recordings
from graders.engine.kit_syntax import reference_uses, source
from graders.engine.kit_transform import (
    Case,
    KitTransformError,
    Plan,
    candidates,
    parse_package,
    transform,
)
from graders.engine.packaging import CHECKOUT, BuildError, Entry, write_zip

MISS_HINT = (
    "\nA test that needs an answer the kit does not hold asks the reference about values computed from "
    "the student's own results, which no recording can cover: give the grader function that asks a "
    "stand-in (graders.engine.kit_replay.stands_in_for) that computes the same without the reference."
)
GUIDE = "CHECKING.md"
CONFIG = "nngrade-kit.json"
ENGINE = Path(__file__).resolve().parent


class KitError(BuildError):
    """The kit cannot be built, or would not match the repository's grader; the message says why."""


@dataclass(frozen=True)
class Kit:
    """What build_kit wrote: the zip, its files, and the submissions the kit was checked on."""

    path: Path
    names: tuple[str, ...]
    recorded_calls: int
    verified: tuple[str, ...]
    # Grader functions that compute from the reference but ship with their code, each with the reason
    # (a test's helper handed the submission, say): their own calls into the reference are replayed.
    kept: tuple[str, ...] = ()


def find_solution(name: str) -> Path:
    """The assignment's example solution: assignments/<name>/examples/solution*, else tests/submissions."""
    for pattern in (f"assignments/{name}/examples/solution*", f"tests/submissions/{name}/solution*"):
        found = sorted(CHECKOUT.glob(pattern))
        if found:
            return found[0]
    raise KitError(f"no example solution for {name}: pass --solution, a submission that passes every test")


def build_kit(
    assignment: str,
    output: str | os.PathLike,
    *,
    solution: str | os.PathLike | None = None,
    examples: list[str | os.PathLike] | None = None,
    verify: bool = True,
) -> Kit:
    """Record, rewrite and (unless verify=False) prove the kit of `assignment`, then write it to `output`."""
    info = find(assignment)
    handout = CHECKOUT / "assignments" / info.name
    if not sorted(handout.glob("*.ipynb")):
        raise KitError(f"{handout} holds no handout notebook to put in the kit")
    solution = Path(solution) if solution else find_solution(info.name)
    if examples is None:
        examples = [p for p in sorted((handout / "examples").glob("*")) if p.is_file() and p != solution]
    try:
        files, expected, recorded, kept = _files(info, handout, solution)
    except (RecordingError, KitTransformError) as exc:
        raise KitError(str(exc)) from exc
    verified = []
    with tempfile.TemporaryDirectory(prefix="nngrade-kit-") as tmp:
        folder = Path(tmp) / "kit"
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        if verify:
            checks = [(solution, expected)]
            checks += [(Path(e), grade(info.name, e, visible_only=True)) for e in examples]
            for submission, wanted in checks:
                got = run_kit_check(folder, submission, Path(tmp) / "results.json")
                differences = compare(wanted, got)
                if differences:
                    raise KitError(
                        f"the kit does not grade {submission.name} as the repository does:\n"
                        + "\n".join(differences[:10])
                        + (MISS_HINT if any(NOT_IN_KIT in d for d in differences) else "")
                    )
                verified.append(submission.name)
    entries = [Entry(name, data) for name, data in files.items()]
    write_zip(entries, Path(output))
    os.chmod(output, 0o644)  # unlike the autograder zip, nothing in a kit is secret
    return Kit(Path(output), tuple(sorted(files)), recorded, tuple(verified), kept)


def _files(info: GraderInfo, handout: Path, solution: Path) -> tuple[dict[str, bytes], dict, int, tuple]:
    """The kit's files (path -> bytes), the solution's results, the calls recorded, the functions kept."""
    package = f"graders.{info.folder.name}"
    cases, trees, plan, recorder, expected = _record(info, package, solution)
    calls = recorder.replayed({".".join(f) for f in plan.stubs})
    kit_trees = transform(trees, plan)
    files: dict[str, bytes] = {}
    prefix = f"graders/{info.folder.name}"
    for module, tree in kit_trees.items():
        stem = "__init__" if module == package else module.rsplit(".", 1)[1]
        files[f"{prefix}/{stem}.py"] = source(tree).encode()
    for path in sorted(info.folder.iterdir()):
        if path.is_file() and path.suffix not in (".py", ".pyc") and not path.name.startswith("."):
            files[f"{prefix}/{path.name}"] = path.read_bytes()
    for name, text in kit_files.reference_stubs(reference_uses(kit_trees)).items():
        files[name] = text.encode()
    files.update(_frame(info, handout, solution, files))
    files[RECORDINGS] = encode_recordings(calls)
    _check_hidden_names(files, cases)
    functions = {f"{m}.{n}" for m, names in candidates(trees).items() for n in names}
    kept = tuple(f"{q} ({why})" for q, why in sorted(recorder.unreplayable.items()) if q in functions)
    return files, expected, sum(len(c) for c in calls.values()), kept


def _record(info: GraderInfo, package: str, solution: Path) -> tuple[list[Case], dict, Plan, Recorder, dict]:
    """Collect the cases, record the reference's answers, and plan the rewrite from what was recorded."""
    cases = collect(info)
    trees = parse_package(info.folder, package)
    found = candidates(trees)
    stand_ins = _stand_ins(package)
    recorder = Recorder(package, found, stand_ins)
    expected = record_run(info, solution, recorder)
    _require_full_marks(expected, solution)
    record_run(info, solution, recorder, perturbed=True)
    if recorder.problems:
        raise KitError("recording the reference's answers went wrong:\n" + "\n".join(recorder.problems[:10]))
    functions = {f"{m}.{n}" for m, names in found.items() for n in names}
    for target in stand_ins:
        if target not in functions:
            raise KitError(f"a stand-in is declared for {target}, which does not compute from the reference")
    stubbed = {q for q in functions if q not in recorder.unreplayable and q not in stand_ins}
    plan = Plan(
        cases,
        stubs={tuple(q.rsplit(".", 1)) for q in stubbed},
        stand_ins={
            tuple(target.rsplit(".", 1)): (fn.__module__, fn.__name__) for target, fn in stand_ins.items()
        },
        keep=dataclasses_in(recorder.replayed(stubbed)),
    )
    return cases, trees, plan, recorder, expected


def _frame(info: GraderInfo, handout: Path, solution: Path, grader: dict[str, bytes]) -> dict[str, bytes]:
    """Everything around the grader: graders/ itself, the engine, the handout, requirements, the guide."""
    files: dict[str, bytes] = {}
    init = (CHECKOUT / "graders" / "__init__.py").read_text(encoding="utf-8")
    files["graders/__init__.py"] = init.encode()
    files["graders/__main__.py"] = (
        '"""`python -m graders` in a student kit: the kit\'s command line."""\n\n'
        "from graders.engine.kit_cli import entry_point\n\nentry_point()\n"
    ).encode()
    code = [data.decode() for name, data in {**grader, **files}.items() if name.endswith(".py")]
    for stem in kit_files.engine_modules(ENGINE, code):
        files[f"graders/engine/{stem}.py"] = (ENGINE / f"{stem}.py").read_bytes()
    for path in sorted(ENGINE.iterdir()):
        if path.suffix in (".json", ".ini"):
            files[f"graders/engine/{path.name}"] = path.read_bytes()
    files.update(_handout_files(handout, {**grader, **files}))
    code = [data.decode() for name, data in {**grader, **files}.items() if name.endswith(".py")]
    roots = set().union(*(kit_files.imported_roots(text) for text in code))
    if solution.is_file():
        roots |= kit_files.graded_imports(solution, info.required)
    files["requirements.txt"] = "".join(
        f"{r}\n" for r in kit_files.requirements(CHECKOUT / "pyproject.toml", roots)
    ).encode()
    notebooks = [p.name for p in sorted(handout.glob("*.ipynb"))]
    files[GUIDE] = _guide(info, notebooks[0]).encode()
    config = {"assignment": info.name, "nngrade_version": graders.__version__, "kit_format": 1}
    files[CONFIG] = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
    return files


def _stand_ins(package: str) -> dict[str, object]:
    """Target function -> its stand-in, from the grader's imported modules."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            for value in vars(module).values():
                target = getattr(value, "__nngrade_stands_in_for__", None)
                if isinstance(target, str) and getattr(value, "__module__", None) == name:
                    found[target] = value
    return found


def _require_full_marks(results: dict, solution: Path) -> None:
    failing = [t["name"] for t in results.get("tests", []) if t.get("score") != t.get("max_score")]
    # A session that broke writes tests worth 0 of 0, which would look like full marks.
    broken = (results.get("extra_data") or {}).get("autograder_error")
    if failing or broken or not results.get("tests"):
        raise KitError(
            f"the kit's answers are recorded on a correct submission, but {solution.name} fails "
            + (", ".join(failing[:5]) if failing else "to be graded")
        )


def _handout_files(handout: Path, taken: dict[str, bytes]) -> dict[str, bytes]:
    """The handout folder's own files (not its examples, which hold solutions), at the kit's root."""
    found = {}
    for path in sorted(handout.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            if path.name in taken or path.name in (GUIDE, CONFIG, RECORDINGS, "requirements.txt"):
                raise KitError(f"the handout's {path.name} would overwrite one of the kit's own files")
            found[path.name] = path.read_bytes()
    return found


def _check_hidden_names(files: dict[str, bytes], cases: list[Case]) -> None:
    """No file of the kit may name a hidden test (its student-facing name, function or case)."""
    visible_names = {c.name for c in cases if c.visible}
    visible_functions = {(c.module, c.function) for c in cases if c.visible}
    names = set()
    for case in cases:
        if case.visible:
            continue
        if case.name not in visible_names:
            names.add(case.name)
        if case.case_id:
            names.add(f"{case.function}[{case.case_id}]")
        if (case.module, case.function) not in visible_functions:
            names.add(case.function)
    found = sorted(f"{n!r} in {path}" for path, data in files.items() for n in names if n.encode() in data)
    if found:
        raise KitError("the kit would name hidden tests: " + "; ".join(found[:10]))


def _guide(info: GraderInfo, notebook: str) -> str:
    return f"""# Checking your work before you submit: {info.title}

This folder is the student kit of `{info.name}`: the handout ({notebook}) and what it takes to run
the assignment's visible tests on your work, offline, on your own computer. It needs Linux (on
Windows, use WSL; macOS is not tested), because your code runs in a Linux sandbox.

1. Once: `pip install -r requirements.txt` (Python 3.10 or newer).
2. From this folder: `python -m graders check {notebook}` (or your .py export, a folder or a zip).

You get the visible tests, scores and hints that the course's `nngrade check` gives. Only your
imports, functions, classes and constants run, in a sandbox. The kit holds no reference solution:
where a test compares your answer with the reference's, the reference's answer was recorded when
the kit was made, for the inputs the visible tests use. Hidden tests are not in the kit; they count
when you submit.
"""


def compare(expected: dict, got: dict) -> list[str]:
    """How two results of the same visible tests differ (test, score, status, message); empty if not."""

    def tests(results: dict) -> dict:
        return {t["name"]: t for t in results.get("tests", []) if t.get("visibility", "visible") == "visible"}

    want, have = tests(expected), tests(got)
    differences = [f"{n}: missing from the kit" for n in want if n not in have]
    differences += [f"{n}: only in the kit" for n in have if n not in want]
    for name in want.keys() & have.keys():
        for part in ("score", "status", "output"):
            if want[name].get(part) != have[name].get(part):
                kit, repository = have[name].get(part), want[name].get(part)
                differences.append(f"{name}: {part} {kit!r:.300} in the kit, {repository!r:.300} here")
    return differences


_LAUNCHER = """\
import json, runpy, sys
kit, report, *arguments = sys.argv[1:]
sys.path[:0] = [kit]
sys.path += json.loads(SITE)
sys.argv = ["graders", *arguments]
code = 0
try:
    runpy.run_module("graders", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
finally:
    if report:
        loaded = {n: getattr(m, "__file__", None) for n, m in sys.modules.items()
                  if n.split(".")[0] in ("graders", "reference")}
        with open(report, "w") as fh:
            json.dump(loaded, fh)
sys.exit(code)
"""


def run_kit_check(
    kit: Path, submission: Path, results: Path, *, modules_report: Path | None = None, timeout: float = 900
) -> dict:
    """Run `python -m graders check` of an unpacked kit in an interpreter that cannot see this repository.

    `python -I -S`: no PYTHONPATH, no current directory, no .pth files (the editable install of
    nngrade is one), so only the kit and this interpreter's site-packages (numpy, pytest, ...) are on
    the path. modules_report: where to write {module: file} of every graders/reference module loaded.
    """
    import site

    folders = [p for p in (*site.getsitepackages(), site.getusersitepackages()) if Path(p).is_dir()]
    launcher = _LAUNCHER.replace("SITE", repr(json.dumps(folders)))
    command = [sys.executable, "-I", "-S", "-c", launcher, str(kit), str(modules_report or "")]
    command += ["check", str(Path(submission).resolve()), "--results", str(results)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(kit)}
    done = subprocess.run(command, cwd=kit, env=env, capture_output=True, text=True, timeout=timeout)
    if not results.is_file():
        raise KitError(f"the kit's check wrote no results (exit {done.returncode}):\n{done.stderr[-3000:]}")
    found = json.loads(results.read_text(encoding="utf-8"))
    results.unlink()
    return found
