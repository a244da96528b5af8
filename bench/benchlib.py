"""What every benchmark script shares: the machine line, load average, timing and writing to the docs.

The scripts in bench/ are run as `python bench/NAME.py`, so this folder is first on sys.path and
they import each other by bare name; bench/ is not an installed package.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "performance.md"
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist"


def nngrade_command() -> list[str]:
    """The `nngrade` console script of this interpreter (what a TA types), or `python -m graders`."""
    beside = Path(sys.executable).with_name("nngrade")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("nngrade")
    return [found] if found else [sys.executable, "-m", "graders"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GB RAM"
    except OSError:
        pass
    return "RAM unknown"


def machine() -> str:
    """One line describing this machine and who runs the benchmark."""
    who = "root (uid drop, namespaces)" if os.geteuid() == 0 else "not root (no uid drop)"
    # Without .pyc files every run compiles the graders and pytest re-rewrites their asserts.
    bytecode = ", PYTHONDONTWRITEBYTECODE set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({_cpu_model()}), {_memory_gb()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, {who}{bytecode}"
    )


def load_average() -> str:
    """The 1-minute load average now, as text (the machine is shared: it says how busy it was)."""
    return f"{os.getloadavg()[0]:.2f}"


def heading(title: str) -> str:
    return f"### {title}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"


def median_seconds(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall seconds of fn() over `repeat` runs, after `warmup` unmeasured ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class BrokenRun(RuntimeError):
    """What a benchmark timed did not do its job (a grade short of full marks, a batch that crashed):
    its time says nothing about the target, so no verdict is given."""


def require(ok: bool, what: str) -> None:
    if not ok:
        raise BrokenRun(f"the measured run is broken, so its figure would mean nothing: {what}")


def one_blas_thread_env() -> dict:
    """This environment with numpy's BLAS (and OpenMP) on one thread, as nngrade's worker runs."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def bare_python_seconds(code: str, repeat: int, isolated: bool = False) -> float:
    """Median wall seconds of `python -c code` (a fresh interpreter each time)."""
    argv = [sys.executable, *(["-I"] if isolated else []), "-c", code]
    return median_seconds(lambda: subprocess.run(argv, check=True), repeat)


def append_to_docs(text: str) -> None:
    """Append one dated section to docs/performance.md (newest last)."""
    if not DOCS.exists():
        DOCS.write_text("# Performance\n\nBenchmarks append their results here, newest last.\n\n")
    with DOCS.open("a") as fh:
        fh.write("\n" + text.rstrip("\n") + "\n")


def publish(text: str, write: bool) -> None:
    """Print the section and, unless told not to, append it to the docs."""
    print(text)
    if write:
        append_to_docs(text)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"
