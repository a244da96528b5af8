"""What the student's code printed during one call: capped (head + tail) and made safe to show."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# Control characters other than tab and newline (terminal escapes, NUL, carriage returns that
# would let a submission overwrite lines of the grader's own output).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Output:
    stdout: str
    stderr: str


def clean(data: bytes) -> str:
    """Decode as UTF-8 (replacing bad bytes) and strip control characters."""
    return _CONTROL.sub("", data.decode("utf-8", errors="replace"))


def read_head_tail(path: Path, limit: int) -> str:
    """The first and last limit/2 bytes of a file, with a marker for what was left out."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size <= limit:
                return clean(fh.read(limit))
            half = limit // 2
            head = fh.read(half)
            fh.seek(size - half)
            tail = fh.read(half)
    except OSError:
        return ""
    return f"{clean(head)}\n[... {size - 2 * half} bytes of output not shown ...]\n{clean(tail)}"


def read_capped(stdout: Path, stderr: Path, limit: int) -> Output:
    """Both streams of one call, each capped at `limit` bytes."""
    return Output(read_head_tail(stdout, limit), read_head_tail(stderr, limit))
