"""Reading the scenario files under tests/submissions/<assignment>/."""

from __future__ import annotations

import re
from pathlib import Path


def mutant_name(path: Path) -> str:
    """The name on a mutant's first line: `# mutant: <name> — <mistake>`."""
    return re.match(r"# mutant: (\w+)", path.read_text(encoding="utf-8")).group(1)
