"""The README opens with the two commands, and .ci/run runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The shell lines of the README's first two fenced blocks."""
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)
    return [block.strip() for block in blocks[:2]]


def test_readme_opens_with_the_two_commands():
    head = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert head.count("```") >= 4, "the two commands should be within the README's first 40 lines"
    main_job, tests = readme_commands()
    assert "nngrade" in main_job
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = readme_commands()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines(), f"{tests!r} is not a line of .ci/run"


def test_torch_is_installed_from_the_local_wheel_before_the_package():
    _, tests = readme_commands()
    assert tests.index("pip install torch==2.13.0") < tests.index("pip install -e")
