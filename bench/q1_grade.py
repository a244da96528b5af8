"""A Q1-only hw2 grade against starting Python with numpy and pytest, measured in one run.

    python bench/q1_grade.py [--repeat 5] [--no-write]

A small submission defining only hw2's four Q1 functions (g_w1, g_w2, g_x1, g_x2) is graded with
`nngrade grade hw2` in a subprocess, the way a TA (or Gradescope) runs it: the Q3 tests find their
functions missing and fail at once, without reading digits or training anything. Its median wall
time is set against that of `python -c "import numpy, pytest"`, the least any pytest-based grader
written in Python can cost (target: <= 3x).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import benchlib as bl

TARGET_RATIO = 3.0
Q1_SUBMISSION = '''"""hw2 Q1 only: partial derivatives of f = sigmoid(w1 x1 + w2 x2) + (w1^2 + w2^2) / 2."""

import math


def _slope(u):
    s = 1.0 / (1.0 + math.exp(-u))
    return s * (1.0 - s)


def g_w1(x1, x2, w1, w2):
    return x1 * _slope(w1 * x1 + w2 * x2) + w1


def g_w2(x1, x2, w1, w2):
    return x2 * _slope(w1 * x1 + w2 * x2) + w2


def g_x1(x1, x2, w1, w2):
    return w1 * _slope(w1 * x1 + w2 * x2)


def g_x2(x1, x2, w1, w2):
    return w2 * _slope(w1 * x1 + w2 * x2)
'''


def measure(repeat: int = 5) -> dict:
    """Median wall seconds of a Q1-only grade and of `python -c "import numpy, pytest"`, one warm-up each."""
    load_before = bl.load_average()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        submission, results = folder / "q1_only.py", folder / "results.json"
        submission.write_text(Q1_SUBMISSION)
        argv = [*bl.nngrade_command(), "grade", "hw2", str(submission), "--results", str(results)]

        def grade():
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

        grade_wall = bl.median_seconds(grade, repeat)
        graded = json.loads(results.read_text())
    baseline = bl.bare_python_seconds("import numpy, pytest", repeat)
    q1 = [t for t in graded["tests"] if str(t.get("number", "")).startswith("1.")]
    earned, possible = sum(t["score"] for t in q1), sum(t["max_score"] for t in q1)
    bl.require(bool(q1) and earned == possible, f"the Q1-only submission scored {earned:g} of {possible:g}")
    return {
        "grade": grade_wall,
        "baseline": baseline,
        "ratio": grade_wall / baseline,
        "q1_score": earned,
        "q1_max": possible,
        "session": graded["extra_data"]["resources"]["wall_seconds"],
        "repeat": repeat,
        "load": (load_before, bl.load_average()),
    }


def report(m: dict) -> str:
    lines = [
        bl.heading("Q1-only hw2 grade"),
        "",
        f"Machine: {bl.machine()}. Load average {m['load'][0]} at the start, {m['load'][1]} at the end"
        f" (shared with other work). Command: `python bench/q1_grade.py --repeat {m['repeat']}`"
        f" (medians of {m['repeat']} after one warm-up).",
        "",
        "A .py submission defining only g_w1, g_w2, g_x1 and g_x2, graded with `nngrade grade hw2`",
        f"in a subprocess (Q1 scored {m['q1_score']:g} / {m['q1_max']:g}; the Q3 tests fail at once on the",
        "missing functions).",
        "",
        "| measured | wall s | baseline | wall s | ratio (<= 3x) |",
        "|---|---|---|---|---|",
        f"| Q1-only grade (pytest session {m['session']:.2f} s of it) | {m['grade']:.2f} "
        f'| `python -c "import numpy, pytest"` | {m["baseline"]:.2f} '
        f"| {m['ratio']:.2f}x {bl.verdict(m['ratio'] <= TARGET_RATIO)} |",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    bl.publish(report(measure(args.repeat)), write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
