"""`nngrade batch`: grade every submission of an export into a run of the history, resumably.

A run is planned once (every submission, its submitters and a hash of its files) and then filled
in one result at a time, in whatever order the executor finishes them. Resuming a run grades only
what has no result yet, and only if the grader and the input are the ones the run was planned with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from graders.engine.batch_task import grader_fingerprint, make_task, outcome
from graders.engine.discovery import find
from graders.engine.exports import Entry, TooLarge, content_hash, entry_files, open_input
from graders.engine.history import History, Planned, Result, Run

TIMEOUT_MARGIN = 60.0  # on top of the sandbox's own limits: pytest, imports, writing results


class BatchError(Exception):
    """Options that cannot work together; the message says what to change."""


@dataclass(frozen=True)
class BatchOptions:
    assignment: str
    input: Path
    db: Path = Path("nngrade.sqlite")
    run: str | None = None  # name of the run to create, or to resume if it exists
    workers: int | None = None  # local workers, or LocalCluster workers; default: the core count
    scheduler: str | None = None  # a Dask scheduler's address, e.g. tcp://10.0.0.5:8786
    cluster: str | None = None  # "local": start a Dask LocalCluster
    data: str | None = None  # passed to the grader as --data (must exist on every worker)
    grader_dir: str | None = None  # a copy of graders/<assignment>/ whose tests replace the installed ones
    timeout: float | None = None  # seconds per submission; default: the sandbox's limits plus a margin


@dataclass
class BatchRun:
    run: Run
    resumed: bool
    executor: str
    graded_now: int
    results: list[Result] = field(default_factory=list)


def run_batch(
    options: BatchOptions,
    *,
    on_plan: Callable[[Run, int, int, str], None] | None = None,
    on_result: Callable[[dict], None] | None = None,
) -> BatchRun:
    """Grade what the run still lacks; on_plan(run, total, done, executor) once, on_result per outcome."""
    if options.scheduler and options.cluster:
        raise BatchError("give either --scheduler or --cluster, not both")
    if options.workers is not None and options.workers < 1:
        raise BatchError(f"--workers must be at least 1, got {options.workers}")
    info = find(options.assignment)
    with open_input(options.input) as source, History(options.db) as history:
        plan, too_large = _plan(source.entries)
        run, resumed = _open_run(history, options, info, source.kind, plan)
        with history.lock(run):
            done = history.done(run)
            pending = [e for e in source.entries if e.key not in done]
            executor = _executor(options) if pending else None
            where = executor.description if executor else "nothing left to grade"
            if on_plan:
                on_plan(run, len(plan), len(done), where)

            def record(result: dict) -> None:
                history.record(run, result)
                if on_result:
                    on_result(result)

            for entry in [e for e in pending if e.key in too_large]:
                record(outcome(entry.key, "invalid", message=too_large[entry.key]))
            if executor is not None:
                tasks = (_task(entry, run) for entry in pending if entry.key not in too_large)
                with executor:
                    for result in executor.run(tasks):
                        record(_checked(result, run))
            history.finish(run)
        return BatchRun(history.run(run.name), resumed, where, len(pending), history.results(run))


def _open_run(history: History, options: BatchOptions, info, kind: str, plan: list[Planned]):
    """(run, resumed): the run named --run if it exists (checked to match), else a new one."""
    existing = history.run(options.run) if options.run and history.has_run(options.run) else None
    # A resumed run keeps its grader copy unless told otherwise (a different one is then refused).
    given = options.grader_dir or (existing.options.get("grader_dir") if existing else None)
    grader_dir = _grader_dir(given, info.name)
    grader = grader_fingerprint(info.name, grader_dir)
    if existing is not None:
        _check_resume(existing, info.name, grader, options, plan, history.planned(existing))
        return existing, True
    sandbox = info.assignment.sandbox
    settings = {
        "input": str(Path(options.input).resolve()),
        "input_kind": kind,
        "timeout": float(options.timeout or sandbox.total_timeout + sandbox.start_timeout + TIMEOUT_MARGIN),
        "data": str(Path(options.data).resolve()) if options.data else None,
        "grader_dir": grader_dir,
        "assignment": info.name,
    }
    name = options.run or _new_name(history, info.name)
    return history.create_run(name, info.name, grader, settings, plan), False


def _task(entry: Entry, run: Run) -> dict:
    """The task for one submission, with the settings the run was started with."""
    settings = run.options
    return make_task(
        entry.key,
        entry_files(entry),
        is_folder=entry.is_folder,
        assignment=settings["assignment"],
        timeout=settings["timeout"],
        data=settings["data"],
        grader_dir=settings["grader_dir"],
    )


def _grader_dir(path: str | None, name: str) -> str | None:
    if path is None:
        return None
    folder = Path(path).resolve()
    if not (folder / "__init__.py").is_file() or not any(folder.glob("test_*.py")):
        raise BatchError(
            f"--grader {path}: expected a copy of graders/{name}/ (an __init__.py and test_*.py files)"
        )
    return str(folder)


def _plan(entries) -> tuple[list[Planned], dict[str, str]]:
    """What the run will grade, and the submissions too large to ship (recorded as invalid)."""
    plan, too_large = [], {}
    for entry in entries:
        try:
            digest = content_hash(entry_files(entry))
        except TooLarge as exc:
            too_large[entry.key], digest = str(exc), "too large"
        plan.append(Planned(entry.key, entry.submitters, entry.metadata, digest))
    return plan, too_large


def _check_resume(run: Run, assignment: str, grader: dict, options: BatchOptions, plan, planned) -> None:
    """BatchError unless the request matches the run: same assignment, grader, settings and input."""
    if run.assignment != assignment:
        raise BatchError(f"run {run.name!r} grades {run.assignment}, not {assignment}")
    if run.grader_hash != grader["hash"]:
        raise BatchError(
            f"run {run.name!r} was graded with grader {run.grader_hash[:12]}, but the grader is now "
            f"{grader['hash'][:12]}: a changed grader needs a new run (another --run name, or none), "
            "and `nngrade diff` compares the two"
        )
    settings = run.options
    given = {
        "timeout": float(options.timeout) if options.timeout else None,
        "data": str(Path(options.data).resolve()) if options.data else None,
    }
    for key, value in given.items():
        if value is not None and value != settings.get(key):
            raise BatchError(f"run {run.name!r} was started with {key} {settings.get(key)!r}, not {value!r}")
    before = {p.key: p.content_hash for p in planned}
    now = {p.key: p.content_hash for p in plan}
    if before != now:
        changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        raise BatchError(
            f"the input differs from the one run {run.name!r} was planned with "
            f"({len(changed)} submissions, e.g. {', '.join(changed[:3])}); grade it as a new run"
        )


def _checked(result: dict, run: Run) -> dict:
    """A result graded by a different grader (a Dask worker with another install) is not a grade."""
    worker = result.get("grader") or {}
    if worker.get("hash") == run.grader_hash:
        return result
    message = (
        f"graded by grader {str(worker.get('hash'))[:12]} instead of the run's {run.grader_hash[:12]}: "
        "install the same nngrade and graders on every worker (or the grader changed during the run)"
    )
    return outcome(result["key"], "crashed", message=message, duration=result.get("duration", 0.0))


def _new_name(history: History, assignment: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    name, n = f"{assignment}-{stamp}", 1
    while history.has_run(name):
        n += 1
        name = f"{assignment}-{stamp}-{n}"
    return name


def _executor(options: BatchOptions):
    from graders.engine.executors import DaskExecutor, LocalExecutor, default_workers

    if options.scheduler:
        return DaskExecutor(scheduler=options.scheduler)
    if options.cluster == "local":
        return DaskExecutor(workers=options.workers or default_workers())
    if options.cluster is not None:
        raise BatchError(f"--cluster {options.cluster!r}: only 'local' is known")
    return LocalExecutor(options.workers or default_workers())
