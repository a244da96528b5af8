"""Fixtures for the batch tests."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium (Debian's `chromium` package, which .ci/run installs).

    Skipped where it is absent, except under CI, where its absence is a failure: the HTML
    report's test must not quietly stop running there.
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install --no-install-recommends chromium)")
    return path
