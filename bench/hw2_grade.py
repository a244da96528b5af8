"""A full hw2 grade against the same work done by the reference in a plain loop, in one run.

    python bench/hw2_grade.py [--mnist DIR] [--submission PATH]

Reports for `nngrade grade hw2` on a correct Colab export (as a subprocess, like a TA runs it):
wall and CPU seconds (grader + worker), peak RSS of grader and worker, and the share of wall time
spent outside student code, for a cold run (reference accuracy not yet cached) and a warm one.
The baseline is the reference itself doing the grader's calls and the same training in-process
(`plain_loop`), measured in the same run. Targets (issue 4): peak RSS <= 400 MB (grader + worker),
CPU <= 2.5x the baseline, time outside student code <= 15%. Appends a table to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from graders.engine.datasets import load_mnist, train_dev_split
from reference import hw2

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SUBMISSION = REPO / "assignments" / "hw2" / "examples" / "solution_colab_export.py"
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist"


def graded_run(submission: Path, mnist: Path, cache: Path) -> dict:
    """One `nngrade grade` in a subprocess: wall, CPU of it and its children, and results' figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "graders",
                "grade",
                "hw2",
                str(submission),
                "--results",
                str(out),
                "--data",
                str(mnist),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "NNGRADE_CACHE_DIR": str(cache)},
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        results = json.loads(out.read_text())
    figures = results["extra_data"]["resources"]
    return {
        "score": results["score"],
        "wall": wall,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "grader_rss": figures["grader_peak_rss_mb"],
        "worker_rss": figures["worker_peak_rss_mb"],
        "student": figures["student_seconds"],
    }


def plain_loop(mnist: Path) -> float:
    """CPU seconds for the grader's calls and training done directly by the reference, no sandbox."""
    from graders.hw2.problems import problem
    from graders.hw2.test_q1 import RANDOM_POINTS
    from graders.hw2.test_q3 import CASES

    start = time.process_time()
    for name in ("g_w1", "g_w2", "g_x1", "g_x2"):
        for point in [(0.2, 0.4, 0.3, -0.5), *RANDOM_POINTS]:
            getattr(hw2, name)(*point)
    hw2.q1_descent()
    for model, fn in hw2.MODELS.items():
        shapes = [c[1:5] for c in CASES] + [(7, 12, 8, "float64")] * 4
        for b, d, h, dtype in shapes:
            prob = problem(model, b, d, h, dtype, seed=99)  # a fresh problem: its creation is work too
            for grad in (True, False):
                params = hw2.Parameters()
                for key, value in prob.params.items():
                    params.set_param(key, value.copy())
                fn(prob.x, prob.y, params, grad=grad)
    images, labels = load_mnist(mnist)["test"]
    split = train_dev_split(images, labels, 8000, 2000)
    for model, fn in hw2.MODELS.items():
        params = hw2.init_params(model, 784, 392)
        hw2.main_training(params, fn, split.train_x, split.train_y, split.dev_x, split.dev_y, 50, 0.005, 2)
    return time.process_time() - start


def report(cold: dict, warm: dict, baseline: float, mnist: Path) -> str:
    def row(name, run):
        rss = run["grader_rss"] + run["worker_rss"]
        outside = (run["wall"] - run["student"]) / run["wall"]
        ratio = run["cpu"] / baseline
        cells = [
            name,
            f"{run['score']:g}",
            f"{run['wall']:.2f}",
            f"{run['cpu']:.2f}",
            f"{ratio:.2f}x {'ok' if ratio <= 2.5 else 'MISSED'}",
            f"{run['grader_rss']:.0f} + {run['worker_rss']:.0f} = {rss:.0f} "
            + ("ok" if rss <= 400 else "MISSED"),
            f"{run['student']:.2f}",
            f"{outside:.0%} {'ok' if outside <= 0.15 else 'MISSED'}",
        ]
        return "| " + " | ".join(cells) + " |"

    who = "root (uid drop, namespaces)" if os.geteuid() == 0 else "not root"
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"### Full hw2 grade, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine}, numpy {np.__version__}, {who}. Data: MNIST t10k from {mnist.name}/, split",
        "8,000/2,000, 2 training epochs per model. Command: `python bench/hw2_grade.py`. CPU counts the",
        "grader and the worker; RSS is grader + worker; 'outside' is the share of wall time not spent in",
        "student code. Baseline, the reference doing the same calls and training in a plain loop, one",
        f"BLAS thread as in the worker: {baseline:.2f} s CPU.",
        "",
        "| run | score | wall s | CPU s | CPU / baseline (<= 2.5x) | peak RSS MB (<= 400) | student s "
        "| outside (<= 15%) |",
        "|---|---|---|---|---|---|---|---|",
        row("cold (reference accuracy computed)", cold),
        row("warm (reference accuracy cached)", warm),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--submission", type=Path, default=DEFAULT_SUBMISSION)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_only:
        print(f"baseline CPU seconds {plain_loop(args.mnist)}")
        return 0
    with tempfile.TemporaryDirectory() as cache:
        cold = graded_run(args.submission, args.mnist, Path(cache))
        warm = graded_run(args.submission, args.mnist, Path(cache))
    # The baseline runs in its own interpreter with one BLAS thread, as the worker does, so that
    # extra threads' CPU time does not flatter the ratio.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    line = subprocess.run(
        [sys.executable, __file__, "--baseline-only", "--mnist", str(args.mnist)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    baseline = float(line.split()[-1])
    text = report(cold, warm, baseline, args.mnist)
    print(text)
    if not args.no_write:
        with (REPO / "docs" / "performance.md").open("a") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
