"""A full hw2 grade against the same work done by the reference in a plain loop, in one run.

    python bench/hw2_grade.py [--mnist DIR] [--submission PATH] [--no-write]

Reports for `nngrade grade hw2` on a correct Colab export (as a subprocess, like a TA runs it):
wall and CPU seconds (grader + worker), peak RSS of grader and worker, the share of wall time
spent outside student code, and the time by phase (start, collection, loading the submission,
each question, training), for a cold run (reference accuracy not yet cached) and a warm one.
The baseline is the reference itself doing the grader's calls and the same training in-process
(`plain_loop`), measured in the same run. Targets (issues 4 and 7), judged on the warm run, which
is what every Gradescope run is (`nngrade build` ships the cache): peak RSS <= 400 MB (grader +
worker), CPU <= 2.5x the baseline, time outside student code <= 15%. The cold run is shown for
information. Appends a table to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

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

DEFAULT_SUBMISSION = REPO / "assignments" / "hw2" / "examples" / "solution_colab_export.py"
PHASES = ("start + exit", "collect", "load", "Q1", "Q3 checks", "training", "other")
TARGETS = {"cpu_ratio": 2.5, "outside": 0.15, "rss_mb": 400.0}


def question_of(number: str | None) -> str:
    """The phase a hw2 test belongs to, from its number: 1.x -> Q1, 3.6 -> training, 3.1-3.5 -> Q3 checks."""
    top = (number or "?").split(".")[0]
    if number == "3.6":
        return "training"
    return {"1": "Q1", "3": "Q3 checks"}.get(top, f"Q{top}")


def phases(wall: float, results: dict) -> dict[str, float]:
    """Where a grade's wall time went, from results.json's own figures.

    "start + exit" is everything outside the pytest session (interpreter, imports, writing the
    summary, exit); "load" happens inside the first test that uses the submission, so it is taken
    out of that test's question; "other" is the session's remainder (fixtures' setup and teardown
    outside test calls, stopping the worker, building results).
    """
    figures = results["extra_data"]["resources"]
    split: dict[str, float] = defaultdict(float)
    for test in results["tests"]:
        seconds = (test.get("extra_data") or {}).get("seconds")
        if isinstance(seconds, (int, float)):
            split[question_of(test.get("number"))] += seconds
    tested = sum(split.values())
    if results["tests"]:
        first = question_of(results["tests"][0].get("number"))
        split[first] = max(0.0, split[first] - figures["load_seconds"])
    split["start + exit"] = wall - figures["wall_seconds"]
    split["collect"] = figures["collect_seconds"]
    split["load"] = figures["load_seconds"]
    split["other"] = figures["wall_seconds"] - figures["collect_seconds"] - tested
    return dict(split)


def graded_run(submission: Path, mnist: Path, cache: Path) -> dict:
    """One `nngrade grade` in a subprocess: wall, CPU of it and its children, and results' figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        argv = ["grade", "hw2", str(submission), "--results", str(out), "--data", str(mnist)]
        subprocess.run(
            [*nngrade_command(), *argv],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "NNGRADE_CACHE_DIR": str(cache)},
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        results = json.loads(out.read_text())
    possible = sum(t["max_score"] for t in results["tests"])
    require(results["score"] == possible, f"{submission.name} scored {results['score']:g} of {possible:g}")
    figures = results["extra_data"]["resources"]
    return {
        "score": results["score"],
        "wall": wall,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "grader_rss": figures["grader_peak_rss_mb"],
        "worker_rss": figures["worker_peak_rss_mb"],
        "student": figures["student_seconds"],
        "outside": (wall - figures["student_seconds"]) / wall,
        "phases": phases(wall, results),
    }


def plain_loop(mnist: Path) -> float:
    """CPU seconds for the grader's calls and training done directly by the reference, no sandbox."""
    from graders.engine.datasets import load_mnist, train_dev_split
    from graders.hw2.problems import problem
    from graders.hw2.test_q1 import RANDOM_POINTS
    from graders.hw2.test_q3 import CASES
    from reference import hw2

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


def baseline_command(mnist: Path) -> list[str]:
    """plain_loop in a fresh interpreter; run it with benchlib.one_blas_thread_env(), as the worker runs."""
    return [sys.executable, __file__, "--baseline-only", "--mnist", str(mnist)]


def baseline_cpu(mnist: Path) -> float:
    """plain_loop's CPU seconds, in a fresh interpreter with one BLAS thread, as the worker has."""
    # Extra BLAS threads' CPU time would otherwise flatter the ratio.
    line = subprocess.run(
        baseline_command(mnist), check=True, capture_output=True, text=True, env=one_blas_thread_env()
    ).stdout
    return float(line.split()[-1])


def measure(submission: Path = DEFAULT_SUBMISSION, mnist: Path = DEFAULT_MNIST) -> dict:
    """A cold grade, a warm grade and the plain-loop baseline, in this order, in one run."""
    load_before = load_average()
    with tempfile.TemporaryDirectory() as cache:
        cold = graded_run(submission, mnist, Path(cache))
        warm = graded_run(submission, mnist, Path(cache))
    baseline = baseline_cpu(mnist)
    for run in (cold, warm):
        run["cpu_ratio"] = run["cpu"] / baseline
        run["rss"] = run["grader_rss"] + run["worker_rss"]
    return {"cold": cold, "warm": warm, "baseline": baseline, "load": (load_before, load_average())}


def report(m: dict, mnist: Path) -> str:
    cold, warm = m["cold"], m["warm"]

    def row(name, run, judged):
        def mark(ok):
            return verdict(ok) if judged else "(info)"

        cells = [
            name,
            f"{run['score']:g}",
            f"{run['wall']:.2f}",
            f"{run['cpu']:.2f}",
            f"{run['cpu_ratio']:.2f}x {mark(run['cpu_ratio'] <= TARGETS['cpu_ratio'])}",
            f"{run['grader_rss']:.0f} + {run['worker_rss']:.0f} = {run['rss']:.0f} "
            + mark(run["rss"] <= TARGETS["rss_mb"]),
            f"{run['student']:.2f}",
            f"{run['outside']:.0%} {mark(run['outside'] <= TARGETS['outside'])}",
        ]
        return "| " + " | ".join(cells) + " |"

    def phase_row(name, run):
        cells = [f"{run['phases'].get(p, 0.0):.2f}" for p in PHASES]
        cells += [f"{run['wall']:.2f}", f"{run['student']:.2f}", f"{run['wall'] - run['student']:.2f}"]
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = [
        heading("Full hw2 grade"),
        "",
        f"Machine: {machine()}. Load average {m['load'][0]} at the start, {m['load'][1]} at the end"
        " (shared with other work).",
        f"Data: MNIST t10k from {mnist.name}/, split 8,000/2,000, 2 training epochs per model. Command:",
        "`python bench/hw2_grade.py`. CPU counts the grader and the worker; RSS is grader + worker;",
        "'outside' is the share of wall time not spent in student code. Baseline, the reference doing the",
        "same calls and training in a plain loop, one BLAS thread as in the worker:",
        f"{m['baseline']:.2f} s CPU. The targets are judged on the warm run, which is what every",
        "Gradescope run is (`nngrade build` ships the reference's accuracy in the zip); the cold run is",
        "information.",
        "",
        "| run | score | wall s | CPU s | CPU / baseline (<= 2.5x) | peak RSS MB (<= 400) | student s "
        "| outside (<= 15%) |",
        "|---|---|---|---|---|---|---|---|",
        row("cold (reference accuracy computed)", cold, judged=False),
        row("warm (reference accuracy cached)", warm, judged=True),
        "",
        "Wall seconds by phase. 'start + exit': outside the pytest session (interpreter, imports, the",
        "summary, exit); 'collect': session start to the first test (the worker boots meanwhile); 'load':",
        "the submission loaded into the worker; Q1 (1.x), Q3 checks (3.1-3.5), training (3.6): the tests'",
        "own seconds, student code and the grader's checks together; 'other': the rest of the session",
        "(fixtures, stopping the worker, results).",
        "",
        "| run | " + " | ".join(PHASES) + " | wall | student | outside student code |",
        "|---|" + "---|" * (len(PHASES) + 3),
        phase_row("cold", cold),
        phase_row("warm", warm),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--submission", type=Path, default=DEFAULT_SUBMISSION)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs")
    parser.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_only:
        print(f"baseline CPU seconds {plain_loop(args.mnist)}")
        return 0
    publish(report(measure(args.submission, args.mnist), args.mnist), write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
