"""Batch regrading throughput: `nngrade batch` on 40 computation_graph submissions, three ways.

    python bench/batch_throughput.py [--submissions 40] [--no-write]

Runs `nngrade batch computation_graph FOLDER --quiet` as a subprocess (what a TA types), on a fresh
history each time: with 1 local worker, with 2, and on a Dask LocalCluster of 2 workers. The
submissions are the correct solution and the three mutants from tests/submissions/, in turn, so
every one is graded to the end. Reports wall time, submissions per second, the speed-up over one
worker (target, issue 6: at least 1.8x with 2 workers) and the CPU seconds of the whole process
tree. A short unmeasured batch first warms the disk cache. Appends a table to docs/performance.md.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import REPO, heading, load_average, machine, nngrade_command, publish, verdict

SOURCES = REPO / "tests" / "submissions" / "computation_graph"
SCENARIOS = ("solution.py", "max_wrong_tie.py", "no_accumulate.py", "recursive_backward.py")
TARGET = 1.8


def make_class(folder: Path, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        shutil.copy(SOURCES / SCENARIOS[i % len(SCENARIOS)], folder / f"student_{i:03d}.py")


def run_batch(folder: Path, workdir: Path, extra: list[str]) -> dict:
    """One batch on a fresh history: wall and CPU seconds, and the mean time one submission took."""
    db = workdir / f"{len(list(workdir.glob('*.sqlite')))}.sqlite"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*nngrade_command(), "batch", "computation_graph", str(folder), "--db", str(db), "--quiet", *extra],
        check=True,
        cwd=workdir,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with sqlite3.connect(db) as con:
        count, mean, statuses = con.execute(
            "SELECT COUNT(*), AVG(duration), GROUP_CONCAT(DISTINCT status) FROM results"
        ).fetchone()
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "count": count,
        "mean": mean,
        "statuses": statuses,
    }


def median_runs(folder: Path, workdir: Path, configurations: dict[str, list[str]], rounds: int) -> dict:
    """Each configuration `rounds` times, interleaved (A B C A B C ...), and each one's median run.

    A shared machine drifts: interleaving gives every configuration the same share of a slow minute,
    and the median drops one run that a burst of other work slowed down.
    """
    samples: dict[str, list[dict]] = {name: [] for name in configurations}
    for _ in range(rounds):
        for name, extra in configurations.items():
            samples[name].append(run_batch(folder, workdir, extra))
    return {name: sorted(runs, key=lambda r: r["wall"])[len(runs) // 2] for name, runs in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each configuration (median shown)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp:
        work = Path(tmp)
        make_class(work / "class", args.submissions)
        make_class(work / "warmup", 4)
        run_batch(work / "warmup", work, ["--workers", "1"])
        load = load_average()
        configurations = {
            "local, 1 worker": ["--workers", "1"],
            "local, 2 workers": ["--workers", "2"],
            "Dask LocalCluster, 2 workers": ["--cluster", "local", "--workers", "2"],
        }
        runs = median_runs(work / "class", work, configurations, args.rounds)
    base = runs["local, 1 worker"]["wall"]
    rows = [
        f"| {name} | {r['count']} ({r['statuses']}) | {r['wall']:.1f} | {r['count'] / r['wall']:.2f} "
        f"| {base / r['wall']:.2f}x | {r['cpu']:.1f} | {r['mean']:.2f} |"
        for name, r in runs.items()
    ]
    speedup = base / runs["local, 2 workers"]["wall"]
    text = "\n".join(
        [
            heading("Batch throughput"),
            "",
            f"Machine: {machine()}. Load average before the measured runs: {load} (the machine is shared).",
            f"Command: `python bench/batch_throughput.py --submissions {args.submissions} --rounds "
            f"{args.rounds}`; each row is the median of {args.rounds} runs, interleaved, of",
            "`nngrade batch computation_graph FOLDER --quiet` on a fresh history. CPU counts the process",
            "tree the batch waits for (itself, zygotes, grading processes, sandbox workers); with Dask it",
            "misses the worker processes' share, which the cluster does not hand back.",
            "",
            "| executor | submissions | wall s | submissions/s | speed-up | CPU s | mean s per submission |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"2 local workers against 1: {speedup:.2f}x (target >= {TARGET}x: {verdict(speedup >= TARGET)}).",
        ]
    )
    publish(text, write=not args.no_write)


if __name__ == "__main__":
    main()
