"""Batch regrading throughput: `nngrade batch` with 1 local worker, 2, and a Dask LocalCluster.

    python bench/batch_throughput.py [--workload hw2|small|both] [--rounds 3] [--no-write]

Two classes, each graded the way a TA types it (`nngrade batch ... --quiet`, a subprocess, a fresh
history each time):

- hw2: the course's homework, the one batch regrading is for: 32 submissions, the 16 scenario
  files (the example solution, the Colab export, every mutant in tests/submissions/hw2/) in turn,
  graded on the real MNIST digits in ../shared/data/mnist when they are there (as the course
  grades it), else on the shipped default data. The issue 6 target (2 workers at least 1.8x one)
  is checked here, beside this machine's own ceiling: the same work in plain numpy, two copies
  at once against one (hardware_ceiling).
- small: 40 computation_graph submissions (a correct solution and three mutants in turn), each
  graded in about 0.15 s. It measures the fixed costs of a batch (starting, each slot's zygote,
  drawing the report), which no number of workers divides; its speed-up is reported, not judged.

Each configuration runs --rounds times, interleaved, and its median run is shown. Reports wall
time, submissions per second, the speed-up over one worker and the CPU seconds of the process
tree. A short unmeasured batch first warms the disk cache. Appends a section to docs/performance.md.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import hw2_grade
from benchlib import (
    DEFAULT_MNIST,
    REPO,
    heading,
    load_average,
    machine,
    nngrade_command,
    one_blas_thread_env,
    publish,
    require,
    verdict,
)

from graders.engine.datasets import load_mnist
from graders.engine.errors import DataError

TARGET = 1.8


@dataclass(frozen=True)
class Workload:
    name: str
    assignment: str
    sources: tuple[Path, ...]  # submissions are copies of these, in turn
    count: int
    options: tuple[str, ...] = ()  # passed to every `nngrade batch`
    judged: bool = True  # whether the 1.8x target applies
    describe: str = ""


def hw2_workload(mnist: Path, count: int = 32) -> Workload:
    sources = sorted((REPO / "tests" / "submissions" / "hw2").glob("*.py"))
    sources += sorted((REPO / "assignments" / "hw2" / "examples").glob("*.py"))
    try:  # the grader's own reader decides what counts as MNIST (IDX, gzipped or not, npz, pkl.gz)
        load_mnist(mnist)
        have_mnist = True
    except DataError:
        have_mnist = False
    data = f"real MNIST ({mnist.name}/, 8,000/2,000 split)" if have_mnist else "the shipped default data"
    return Workload(
        "hw2",
        "hw2",
        tuple(sources),
        count,
        ("--data", str(mnist)) if have_mnist else (),
        judged=True,
        describe=f"{count} hw2 submissions ({len(sources)} scenario files in turn), graded on {data}",
    )


def small_workload(count: int = 40) -> Workload:
    folder = REPO / "tests" / "submissions" / "computation_graph"
    names = ("solution.py", "max_wrong_tie.py", "no_accumulate.py", "recursive_backward.py")
    return Workload(
        "small",
        "computation_graph",
        tuple(folder / n for n in names),
        count,
        judged=False,
        describe=f"{count} computation_graph submissions (4 scenario files in turn), about 0.15 s each",
    )


def make_class(folder: Path, workload: Workload, count: int | None = None) -> None:
    folder.mkdir()
    for i in range(workload.count if count is None else count):
        source = workload.sources[i % len(workload.sources)]
        shutil.copy(source, folder / f"student_{i:03d}{source.suffix}")


def run_batch(folder: Path, workdir: Path, workload: Workload, extra: list[str]) -> dict:
    """One batch on a fresh history: wall and CPU seconds, and the mean time one submission took."""
    db = workdir / f"{len(list(workdir.glob('*.sqlite')))}.sqlite"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [
            *nngrade_command(),
            "batch",
            workload.assignment,
            str(folder),
            "--db",
            str(db),
            "--quiet",
            *workload.options,
            *extra,
        ],
        check=True,
        cwd=workdir,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with sqlite3.connect(db) as con:
        count, mean, statuses = con.execute(
            "SELECT COUNT(*), AVG(duration), GROUP_CONCAT(DISTINCT status) FROM results"
        ).fetchone()
    # Timeouts and crashes would make a batch look fast or slow for reasons of their own.
    require(count == len(list(folder.iterdir())) and statuses == "graded", f"{count} results: {statuses}")
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "count": count,
        "mean": mean,
        "statuses": statuses,
    }


def median_runs(folder: Path, workdir: Path, workload: Workload, configurations: dict, rounds: int) -> dict:
    """Each configuration `rounds` times, interleaved (A B C A B C ...), and each one's median run.

    A shared machine drifts: interleaving gives every configuration the same share of a slow minute,
    and the median drops one run that a burst of other work slowed down.
    """
    samples: dict[str, list[dict]] = {name: [] for name in configurations}
    for _ in range(rounds):
        for name, extra in configurations.items():
            samples[name].append(run_batch(folder, workdir, workload, extra))
    return {name: sorted(runs, key=lambda r: r["wall"])[len(runs) // 2] for name, runs in samples.items()}


CONFIGURATIONS = {
    "local, 1 worker": ["--workers", "1"],
    "local, 2 workers": ["--workers", "2"],
    "Dask LocalCluster, 2 workers": ["--cluster", "local", "--workers", "2"],
}


def measure(workload: Workload, rounds: int, configurations: dict = CONFIGURATIONS) -> tuple[dict, str]:
    """Median runs of every configuration, and the load average before them."""
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp:
        work = Path(tmp)
        make_class(work / "class", workload)
        make_class(work / "warmup", workload, count=min(4, workload.count))
        run_batch(work / "warmup", work, workload, ["--workers", "1"])
        load = load_average()
        return median_runs(work / "class", work, workload, configurations, rounds), load


def hardware_ceiling(mnist: Path, rounds: int) -> dict:
    """What two cores give plain numpy work: hw2's reference loop alone, then two copies at once.

    bench/hw2_grade.py's baseline (the grader's calls and the training, done directly by the
    reference on one BLAS thread, no grader, no sandbox) is the work an hw2 grade consists of.
    Two copies side by side share the memory bus and caches; 2 x alone / paired is about the most
    any scheduler can get from two cores here. Medians of `rounds` interleaved alone/paired runs.
    """
    env, command = one_blas_thread_env(), hw2_grade.baseline_command(mnist)

    def together(copies: int) -> float:
        start = time.perf_counter()
        procs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(copies)]
        if any([p.wait() != 0 for p in procs]):  # a list: wait for every copy, even after a failure
            raise subprocess.CalledProcessError(1, command)
        return time.perf_counter() - start

    alone, paired = [], []
    for _ in range(rounds):
        alone.append(together(1))
        paired.append(together(2))
    one, two = statistics.median(alone), statistics.median(paired)
    return {"alone": one, "paired": two, "ceiling": 2 * one / two}


def speedup(runs: dict) -> float:
    return runs["local, 1 worker"]["wall"] / runs["local, 2 workers"]["wall"]


def section(workload: Workload, runs: dict, load: str, rounds: int, ceiling: dict | None = None) -> list[str]:
    base = runs["local, 1 worker"]["wall"]
    rows = [
        f"| {name} | {r['count']} ({r['statuses']}) | {r['wall']:.1f} | {r['count'] / r['wall']:.2f} "
        f"| {base / r['wall']:.2f}x | {r['cpu']:.1f} | {r['mean']:.2f} |"
        for name, r in runs.items()
    ]
    ratio = speedup(runs)
    judged = f"target >= {TARGET}x: {verdict(ratio >= TARGET)}" if workload.judged else "not judged"
    outcome = f"2 local workers against 1: {ratio:.2f}x ({judged})."
    if ceiling is not None:
        outcome += (
            f" Two copies of the same work in plain numpy (bench/hw2_grade.py's baseline) take"
            f" {ceiling['paired']:.2f} s side by side against {ceiling['alone']:.2f} s alone: this"
            f" machine's ceiling is {ceiling['ceiling']:.2f}x, and the batch reaches"
            f" {ratio / ceiling['ceiling']:.0%} of it."
        )
    return [
        f"**{workload.name}**: {workload.describe}. Load average before: {load}. Medians of {rounds} runs.",
        "",
        "| executor | submissions | wall s | submissions/s | speed-up | CPU s | mean s per submission |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        outcome,
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("hw2", "small", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each configuration (median shown)")
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="MNIST folder for the hw2 class")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = parser.parse_args()
    workloads = []
    if args.workload in ("hw2", "both"):
        workloads.append(hw2_workload(args.mnist))
    if args.workload in ("small", "both"):
        workloads.append(small_workload())
    lines = [
        heading("Batch throughput"),
        "",
        f"Machine: {machine()}. Command: `python bench/batch_throughput.py --workload {args.workload} "
        f"--rounds {args.rounds}`. Each row is the median of {args.rounds} interleaved runs of",
        "`nngrade batch ASSIGNMENT FOLDER --quiet` on a fresh history. CPU counts the process tree the",
        "batch waits for (itself, zygotes, grading processes, sandbox workers); with Dask it misses the",
        "worker processes' share, which the cluster does not hand back.",
        "",
    ]
    missed = False
    for workload in workloads:
        runs, load = measure(workload, args.rounds)
        on_mnist = workload.assignment == "hw2" and "--data" in workload.options
        ceiling = hardware_ceiling(args.mnist, args.rounds) if on_mnist else None
        lines += section(workload, runs, load, args.rounds, ceiling)
        missed |= workload.judged and speedup(runs) < TARGET
    publish("\n".join(lines).rstrip() + "\n", write=not args.no_write)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
