"""A grade runs the grader's numpy on one BLAS thread, and leaves the caller's settings as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "tests" / "submissions" / "computation_graph" / "solution.py"

# pytest.main is wrapped to look at the BLAS settings from inside the grade; `blas()` counts the
# threads of every BLAS library loaded, as threadpoolctl sees them.
SCRIPT = """
import json, os, sys
import pytest
if sys.argv[1] == "before":
    import numpy
from threadpoolctl import threadpool_info
from graders.engine.grading import grade

def blas():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

seen, real_main = {}, pytest.main
def spy(*args, **kwargs):
    import numpy
    seen["during"], seen["env_during"] = blas(), os.environ["OPENBLAS_NUM_THREADS"]
    return real_main(*args, **kwargs)
pytest.main = spy
seen["score"] = grade("computation_graph", sys.argv[2])["score"]
seen["after"], seen["env_after"] = blas(), os.environ["OPENBLAS_NUM_THREADS"]
print(json.dumps(seen))
"""


@pytest.mark.parametrize("numpy_loaded", ["before", "after"])
def test_a_grade_runs_on_one_blas_thread_and_restores_the_callers_settings(numpy_loaded):
    # Two threads asked for, as a machine with two or more cores gives by default.
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
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["score"] == 50
    assert seen["during"] and set(seen["during"]) == {1}
    assert seen["env_during"] == "1"
    assert seen["env_after"] == "2"  # processes the caller starts later get its own setting
    # A numpy loaded before the grade gets its threads back; one loaded during it keeps one.
    assert set(seen["after"]) == ({2} if numpy_loaded == "before" else {1})
