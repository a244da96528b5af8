"""Grading keeps the grader's numpy on one BLAS thread, whether numpy was loaded before or after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "tests" / "submissions" / "computation_graph" / "solution.py"

SCRIPT = """
import json, sys
if sys.argv[1] == "before":
    import numpy
from graders.engine.grading import grade
score = grade("computation_graph", sys.argv[2])["score"]
import numpy
from threadpoolctl import threadpool_info
print(json.dumps([score, [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]]))
"""


@pytest.mark.parametrize("numpy_loaded", ["before", "after"])
def test_a_grade_leaves_numpy_on_one_blas_thread(numpy_loaded):
    # Asked for two threads, as a machine with two or more cores gives by default.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, numpy_loaded, str(SOLUTION)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    score, threads = json.loads(done.stdout.splitlines()[-1])
    assert score == 50
    assert threads and set(threads) == {1}
