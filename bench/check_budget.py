"""The performance budget: every figure measured in one run, printed against its target.

    python bench/check_budget.py [--skip-notebook] [--mnist DIR] [--no-write]

Exits 1 when a target is missed (a figure that could not be measured counts as missed), 0 when
all hold. Each figure is a ratio or a share measured in this same run, because absolute times
on shared machines are not stable. Run it whenever a change touches a hot path; it is not part
of the test suite. The measurements are those of the other scripts in bench/ (imported, not
copied): hw2_grade (CPU, outside share, memory), q1_grade, notebook_execution and
batch_throughput. A measured run that did not do its job (a grade short of full marks, a batch
with timeouts) stops the script rather than giving its time a verdict. --skip-notebook leaves
out the notebook execution, which takes several minutes (then reported as not measured).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import batch_throughput
import benchlib as bl
import hw2_grade
import notebook_execution
import q1_grade


@dataclass
class Figure:
    name: str
    measured: str
    target: str
    ok: bool
    note: str = ""


def hw2_figures(mnist: Path) -> list[Figure]:
    """CPU against the plain loop, time outside student code and peak memory, from one cold + warm grade."""
    m = hw2_grade.measure(hw2_grade.DEFAULT_SUBMISSION, mnist)
    cold, warm = m["cold"], m["warm"]
    rss = max(cold["rss"], warm["rss"])
    which = "warm" if warm["rss"] >= cold["rss"] else "cold"
    return [
        Figure(
            "full hw2 grade CPU / the reference's plain loop (warm)",
            f"{warm['cpu_ratio']:.2f}x ({warm['cpu']:.2f} s / {m['baseline']:.2f} s)",
            "<= 2.5x",
            warm["cpu_ratio"] <= hw2_grade.TARGETS["cpu_ratio"],
            f"cold run: {cold['cpu_ratio']:.2f}x (information)",
        ),
        Figure(
            "time outside student code (warm hw2 grade)",
            f"{warm['outside']:.0%} ({warm['wall'] - warm['student']:.2f} of {warm['wall']:.2f} s)",
            "<= 15%",
            warm["outside"] <= hw2_grade.TARGETS["outside"],
            f"cold run: {cold['outside']:.0%} (information)",
        ),
        Figure(
            "peak RSS, grader + worker (hw2 grade)",
            f"{rss:.0f} MB ({which} run)",
            "<= 400 MB",
            rss <= hw2_grade.TARGETS["rss_mb"],
        ),
    ]


def q1_figure(repeat: int) -> Figure:
    m = q1_grade.measure(repeat)
    return Figure(
        'Q1-only grade / `python -c "import numpy, pytest"`',
        f"{m['ratio']:.2f}x ({m['grade']:.2f} s / {m['baseline']:.2f} s)",
        "<= 3x",
        m["ratio"] <= q1_grade.TARGET_RATIO,
        f"medians of {repeat}",
    )


def notebook_figure(mnist: Path, skip: bool) -> Figure:
    name = "hw2 notebook executed in a kernel / our grade of it (warm)"
    if skip:
        return Figure(name, "not measured (--skip-notebook)", ">= 30x", False)
    m = notebook_execution.measure(mnist)
    note = f"{m['epochs']} epochs per model"
    if m["epochs"] < notebook_execution.HANDOUT_EPOCHS:
        note += f"; with the handout's 20, about {m['full'] / m['warm']['wall']:.0f}x (estimated)"
    return Figure(
        name,
        f"{m['ratio']:.0f}x ({m['notebook']['wall']:.0f} s / {m['warm']['wall']:.2f} s)",
        ">= 30x",
        m["ratio"] >= notebook_execution.TARGET_RATIO,
        note,
    )


def batch_figure(mnist: Path) -> Figure:
    """2 local workers against 1 on a class of hw2 submissions, with bench/batch_throughput.py."""
    name = "batch throughput, 2 workers / 1 worker"
    module = batch_throughput
    workload = module.hw2_workload(mnist)
    local = {k: module.CONFIGURATIONS[k] for k in ("local, 1 worker", "local, 2 workers")}
    try:
        runs, _ = module.measure(workload, 3, local)
    except subprocess.CalledProcessError as exc:
        return Figure(name, f"not measured (nngrade batch failed: exit {exc.returncode})", ">= 1.8x", False)
    one, two = runs["local, 1 worker"], runs["local, 2 workers"]
    ratio = module.speedup(runs)
    return Figure(
        name,
        f"{ratio:.2f}x ({one['wall']:.1f} s / {two['wall']:.1f} s)",
        ">= 1.8x",
        ratio >= module.TARGET,
        f"{workload.describe}; medians of 3 interleaved runs each",
    )


def report(figures: list[Figure], args: argparse.Namespace, load: tuple[str, str], seconds: float) -> str:
    command = "python bench/check_budget.py" + (" --skip-notebook" if args.skip_notebook else "")
    missed = [f for f in figures if not f.ok]
    lines = [
        bl.heading("Performance budget"),
        "",
        f"Machine: {bl.machine()}. Load average {load[0]} at the start, {load[1]} at the end (shared"
        f" with other work). Command: `{command}` ({seconds / 60:.1f} min). Every figure is measured in"
        " this one run; see the sections of each script for how.",
        "",
        "| figure | measured | target | verdict | note |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {f.name} | {f.measured} | {f.target} | {bl.verdict(f.ok)} | {f.note} |" for f in figures]
    lines += [
        "",
        f"{len(figures) - len(missed)} of {len(figures)} targets hold"
        + (f"; missed: {', '.join(f.name for f in missed)}." if missed else "."),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-notebook", action="store_true", help="leave out the notebook execution")
    parser.add_argument("--mnist", type=Path, default=bl.DEFAULT_MNIST)
    parser.add_argument("--repeat", type=int, default=5, help="runs for the Q1-only medians")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs")
    args = parser.parse_args()
    start, load_before = time.perf_counter(), bl.load_average()
    figures = [*hw2_figures(args.mnist), q1_figure(args.repeat)]
    figures.append(notebook_figure(args.mnist, args.skip_notebook))
    figures.append(batch_figure(args.mnist))
    load = (load_before, bl.load_average())
    bl.publish(report(figures, args, load, time.perf_counter() - start), write=not args.no_write)
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
