"""Per-call cost of the sandbox boundary and a worker's cold start, as ratios measured in one run.

    python bench/sandbox_overhead.py [--repeat N] [--no-write]

Appends a dated table to docs/performance.md. Absolute times on shared machines are noisy, so
each figure is set against a baseline measured in the same run:
- codec round trip (encode, then decode) of float64 arrays of 1 KB, 1 MB, 10 MB and 100 MB
  (KiB and MiB) vs pickle's in-process round trip of the same array;
- a sandboxed call echoing that array (parent encodes, worker decodes and re-encodes, parent
  decodes, over pipes) vs a direct in-process call that copies it;
- a sandboxed call with a tiny value, the fixed cost of one call;
- a worker's cold start (start, confine, load a small submission) vs `python -I -c "import numpy"`.
"""

from __future__ import annotations

import argparse
import pickle

import benchlib as bl
import numpy as np

from graders.engine import codec
from graders.engine.loading import load_source
from graders.engine.sandbox import Sandbox, SandboxConfig

SUBMISSION = "import numpy as np\n\ndef echo(x):\n    return x\n\ndef tiny():\n    return 1.0\n"
SIZES = (("1 KB", 1 << 10), ("1 MB", 1 << 20), ("10 MB", 10 << 20), ("100 MB", 100 << 20))
# 100 MB crosses the pipe twice and is encoded and decoded twice: allow it more than the default 5 s.
CONFIG = SandboxConfig(call_timeout=120.0)


def _echo(x):
    return x


def measure(repeat: int) -> list[tuple[str, float, str, float]]:
    """(what, seconds, baseline, seconds) rows: codec and echo per size, a tiny call, a cold start."""
    arrays = {label: np.random.default_rng(0).normal(size=nbytes // 8) for label, nbytes in SIZES}

    def runs(nbytes: int, base: int) -> int:
        # fewer repetitions for big arrays: 100 MB takes a good fraction of a second each way
        return max(3, base if nbytes <= 1 << 20 else base * (1 << 20) // nbytes * 4)

    rows = []
    for label, nbytes in SIZES:
        a = arrays[label]
        n = runs(nbytes, repeat * 10)
        codec_rt = bl.median_seconds(lambda a=a: codec.decode(codec.encode(a)), n)
        pickle_rt = bl.median_seconds(lambda a=a: pickle.loads(pickle.dumps(a, protocol=5)), n)
        rows.append((f"codec round trip, {label} array", codec_rt, "pickle round trip, same", pickle_rt))
    with Sandbox({}, CONFIG) as sb:
        sb.load(load_source(SUBMISSION))
        for label, nbytes in SIZES:
            a = arrays[label]
            n = runs(nbytes, repeat * 5)
            call = bl.median_seconds(lambda a=a: sb.call("echo", a), n)
            direct = bl.median_seconds(lambda a=a: _echo(a.copy()), n)
            rows.append((f"sandboxed call echoing {label}", call, "direct call (with a copy)", direct))
        tiny = bl.median_seconds(lambda: sb.call("tiny"), repeat * 5)
        direct_tiny = bl.median_seconds(lambda: _echo(1.0), repeat * 5)
        rows.append(("sandboxed call, tiny value", tiny, "direct call", direct_tiny))

    def cold_start():
        with Sandbox({}, CONFIG) as sb:
            sb.load(load_source(SUBMISSION))

    cold = bl.median_seconds(cold_start, repeat)
    bare = bl.bare_python_seconds("import numpy", repeat, isolated=True)
    rows.append(("worker cold start + load", cold, 'python -I -c "import numpy"', bare))
    return rows


def report(rows: list[tuple[str, float, str, float]], repeat: int, load: tuple[str, str]) -> str:
    lines = [
        bl.heading("Sandbox overhead"),
        "",
        f"Machine: {bl.machine()}. Load average {load[0]} at the start, {load[1]} at the end (shared with"
        f" other work). Command: `python bench/sandbox_overhead.py --repeat {repeat}` (medians; fewer"
        " repetitions for the 10 and 100 MB arrays). Arrays are float64; KB and MB mean KiB and MiB.",
        "",
        "| measured | ms | baseline | ms | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, value, base_name, base in rows:
        lines.append(f"| {name} | {value * 1e3:.4g} | {base_name} | {base * 1e3:.4g} | {value / base:.1f}x |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    before = bl.load_average()
    rows = measure(args.repeat)
    bl.publish(report(rows, args.repeat, (before, bl.load_average())), write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
