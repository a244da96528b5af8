"""Per-call cost of the sandbox boundary and a worker's cold start, as ratios measured in one run.

    python bench/sandbox_overhead.py [--repeat N]

Appends a dated table to docs/performance.md. Absolute times on shared machines are noisy, so
each figure is set against a baseline measured in the same run:
- codec round trip of a 1 MB float64 array vs pickle's round trip of the same array (in-process);
- a sandboxed call echoing that array vs a direct in-process call (what isolation costs per call);
- a worker's cold start (start, confine, load a small submission) vs `python -I -c "import numpy"`.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from graders.engine import codec
from graders.engine.loading import load_source
from graders.engine.sandbox import Sandbox, SandboxConfig

REPO = Path(__file__).resolve().parents[1]
SUBMISSION = "import numpy as np\n\ndef echo(x):\n    return x\n\ndef tiny():\n    return 1.0\n"


def timed(fn, repeat: int) -> float:
    """Median wall seconds of fn() over `repeat` runs, after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(repeat: int) -> list[tuple[str, float, str, float]]:
    array = np.random.default_rng(0).normal(size=131_072)  # 1 MiB of float64
    codec_rt = timed(lambda: codec.decode(codec.encode(array)), repeat * 10)
    pickle_rt = timed(lambda: pickle.loads(pickle.dumps(array, protocol=5)), repeat * 10)

    def echo(x):
        return x

    direct = timed(lambda: echo(array.copy()), repeat * 10)
    with Sandbox({}, SandboxConfig()) as sb:
        sb.load(load_source(SUBMISSION))
        call_1mb = timed(lambda: sb.call("echo", array), repeat * 5)
        call_tiny = timed(lambda: sb.call("tiny"), repeat * 5)

    def cold_start():
        with Sandbox({}, SandboxConfig()) as sb:
            sb.load(load_source(SUBMISSION))

    cold = timed(cold_start, repeat)
    bare = timed(lambda: subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True), repeat)
    return [
        ("codec round trip, 1 MB array", codec_rt, "pickle round trip, same array", pickle_rt),
        ("sandboxed call echoing 1 MB", call_1mb, "direct call (with a copy)", direct),
        ("sandboxed call, tiny value", call_tiny, "direct call (with a copy)", direct),
        ("worker cold start + load", cold, 'python -I -c "import numpy"', bare),
    ]


def report(rows: list[tuple[str, float, str, float]], repeat: int) -> str:
    user = "root: uid drop, namespaces" if os.geteuid() == 0 else "not root: no uid drop"
    lines = [
        f"### Sandbox overhead, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, {user}. Command: `python bench/sandbox_overhead.py --repeat {repeat}` "
        "(medians).",
        "",
        "| measured | ms | baseline | ms | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, value, base_name, base in rows:
        lines.append(f"| {name} | {value * 1e3:.3f} | {base_name} | {base * 1e3:.3f} | {value / base:.1f}x |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs")
    args = parser.parse_args()
    text = report(measure(args.repeat), args.repeat)
    print(text)
    if not args.no_write:
        path = REPO / "docs" / "performance.md"
        if not path.exists():
            path.write_text("# Performance\n\nBenchmarks append their results here, newest last.\n\n")
        with path.open("a") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
