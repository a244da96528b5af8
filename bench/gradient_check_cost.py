"""What graders.engine.checks.check_gradient costs, elementwise versus along random directions.

    python bench/gradient_check_cost.py [--budget 5] [--no-write]

The loss is a realistic one: mean softmax cross-entropy of a fixed batch of 20 inputs through a
weight matrix W of shape (N / 10, 10), for N = 10 ... 1,000,000 entries, with its exact gradient.
For each N: the forward calls and seconds of check_gradient elementwise (2 N calls) and along 4
random directions (8 calls, the default). Elementwise checks whose predicted time exceeds
`--budget` seconds are not run; their seconds are extrapolated from the measured time of one
forward call at that size plus the per-entry bookkeeping measured at the largest size that did
run, and marked "~ (extrapolated)".
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import benchlib as bl
import numpy as np

from graders.engine.checks import check_gradient

SIZES = (10, 100, 1_000, 10_000, 100_000, 1_000_000)
BATCH, CLASSES, DIRECTIONS = 20, 10, 4


def problem(entries: int, seed: int = 0):
    """(loss(W), W, exact gradient) for softmax cross-entropy of a fixed batch, W of `entries` entries."""
    rng = np.random.default_rng(seed)
    features = entries // CLASSES
    x = rng.standard_normal((BATCH, features))
    y = rng.integers(0, CLASSES, BATCH)
    w = rng.standard_normal((features, CLASSES)) / np.sqrt(features)
    rows = np.arange(BATCH)

    def log_softmax(w):
        scores = x @ w
        scores = scores - scores.max(axis=1, keepdims=True)
        return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))

    def loss(w):
        return -log_softmax(w)[rows, y].mean()

    probs = np.exp(log_softmax(w))
    probs[rows, y] -= 1.0
    return loss, w, x.T @ probs / BATCH


def seconds_of(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def forward_seconds(loss, w) -> float:
    """Seconds of one call as check_gradient makes it (on a fresh copy), median of enough calls."""
    calls = max(3, min(200, int(2e7 // w.size)))
    return bl.median_seconds(lambda: loss(w.copy()), calls, warmup=0)


def measure(budget: float = 5.0) -> dict:
    """One row per size: forward-call time, directional check, and elementwise check (run or extrapolated)."""
    load_before = bl.load_average()
    rows, bookkeeping, check = [], None, None
    for n in SIZES:
        loss, w, grad = problem(n)
        call = forward_seconds(loss, w)
        along = partial(check_gradient, loss, w, grad, elementwise_limit=0, directions=DIRECTIONS)
        dir_s, dirs = seconds_of(along)
        if not dirs.ok:
            raise RuntimeError(f"N={n}: directions rejected the exact gradient: {dirs.message}")
        row = {"n": n, "shape": w.shape, "call": call, "dir_s": dir_s, "dir_calls": dirs.forward_calls}
        predicted = 2 * n * (call + (bookkeeping or 0.0))
        if predicted <= budget:
            elem_s, elem = seconds_of(partial(check_gradient, loss, w, grad, elementwise_limit=n))
            if not elem.ok:
                raise RuntimeError(f"N={n}: elementwise rejected the exact gradient: {elem.message}")
            row.update(elem_s=elem_s, elem_calls=elem.forward_calls, extrapolated=False)
            if bookkeeping is not None:
                check = (n, predicted, elem_s)  # how well the extrapolation did where it can be compared
            # what an entry costs beyond its two forward calls: nudging, the messages, the copies
            bookkeeping = max(0.0, elem_s / elem.forward_calls - call)
        else:
            row.update(elem_s=predicted, elem_calls=2 * n, extrapolated=True)
        rows.append(row)
    return {"rows": rows, "budget": budget, "check": check, "load": (load_before, bl.load_average())}


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.3g} s"


def report(m: dict) -> str:
    lines = [
        bl.heading("Gradient-check cost"),
        "",
        f"Machine: {bl.machine()}. Load average {m['load'][0]} at the start, {m['load'][1]} at the end"
        " (shared with other work). Command:"
        f" `python bench/gradient_check_cost.py --budget {m['budget']:g}`.",
        "",
        "`check_gradient` on mean softmax cross-entropy of a fixed batch of 20 through W (N/10, 10), with",
        f"the exact gradient (every check passed). Directions: {DIRECTIONS} random unit directions, the",
        "default. Elementwise: every entry nudged both ways; not run where it would take over",
        f"{m['budget']:g} s, and then extrapolated (2 N x (one forward call at that size + the per-entry",
        "bookkeeping measured at the largest size run)), marked ~.",
        "",
        "| entries N | W shape | one forward call ms | elementwise: calls | elementwise: time "
        "| directions: calls | directions: time | elementwise / directions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in m["rows"]:
        elem = ("~ " if r["extrapolated"] else "") + _duration(r["elem_s"])
        if r["extrapolated"]:
            elem += " (extrapolated)"
        shape = f"{r['shape'][0]:,} x {r['shape'][1]}"
        lines.append(
            f"| {r['n']:,} | {shape} | {r['call'] * 1e3:.3f} | {r['elem_calls']:,} | {elem} "
            f"| {r['dir_calls']} | {_duration(r['dir_s'])} | {'~' if r['extrapolated'] else ''}"
            f"{r['elem_s'] / r['dir_s']:,.0f}x |"
        )
    lines.append("")
    if m["check"]:
        n, predicted, measured = m["check"]
        lines += [
            f"The same extrapolation, made from the size below, predicted {_duration(predicted)} for",
            f"N = {n:,}, which measured {_duration(measured)}.",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=5.0, help="longest elementwise check to run, seconds")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs")
    args = parser.parse_args()
    bl.publish(report(measure(args.budget)), write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
