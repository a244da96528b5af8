"""Fixtures shared by the project's own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST test-set files: $NNGRADE_MNIST, else ../shared/data/mnist beside the checkout.

    Skipped where they are absent, except under CI, where their absence is a failure: CI runs
    with shared/ beside the clone, so a skip there would hide a broken path.
    """
    path = Path(os.environ.get("NNGRADE_MNIST", REPO.parent / "shared" / "data" / "mnist"))
    if not (path / "t10k-images-idx3-ubyte.gz").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"MNIST files not found at {path} (set NNGRADE_MNIST)")
        pytest.skip(f"MNIST files not found at {path} (set NNGRADE_MNIST to run this test)")
    return path
