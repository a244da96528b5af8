"""Finding the processes a batch started, to check that none outlives it."""

from __future__ import annotations

import os


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by `pid`."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
                parents[int(entry)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
            except (OSError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def alive(pids: list[int]) -> list[int]:
    living = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        if stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z":
            living.append(pid)
    return living


def grading_process(pid: int) -> bool:
    """A zygote, a grading process forked from one, or a sandbox worker (other tests have children too)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            command = fh.read()
    except OSError:
        return False
    return b"graders.engine.zygote" in command or b"worker.py" in command
