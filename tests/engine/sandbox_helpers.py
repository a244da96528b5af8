"""Starting sandboxes on scenario files, for the engine tests."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from graders.engine.loading import load_submission
from graders.engine.sandbox import Sandbox, SandboxConfig

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="uid drop, RLIMIT_NPROC and namespaces need root")


@contextmanager
def sandbox_for(path: Path, **config):
    """A started sandbox with the scenario file at `path` loaded (definitions only)."""
    submission = load_submission(path)
    with Sandbox({path.name: path.read_bytes()}, SandboxConfig(**config)) as sb:
        report = sb.load(submission)
        assert not report.errors, report.errors
        yield sb


def hostile(name: str) -> Path:
    return SUBMISSIONS / "hostile" / f"{name}.py"
