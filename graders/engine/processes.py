"""Finding and killing every process a sandbox started, however it tried to hide.

A worker runs in its own session and process group, with a marker in its environment, and
(when we are root) as a dedicated user. Children that call setsid() leave the group and the
session, and a child may clear its environment, but none can change its uid: so as root the
uid sweep is exact, and without root the other three are a best effort (see the README).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    uid: int
    pgid: int
    sid: int


def _info(pid: int) -> ProcessInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat[stat.rindex(b")") + 2 :].split()
        uid = os.stat(f"/proc/{pid}").st_uid
    except (OSError, ValueError):
        return None
    return ProcessInfo(pid=pid, uid=uid, pgid=int(fields[2]), sid=int(fields[3]))


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return marker in fh.read().split(b"\0")
    except OSError:
        return False


def sandbox_processes(leader: int | None, marker: bytes, uid: int | None) -> list[int]:
    """Pids that belong to the sandbox led by `leader` (excluding ourselves)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        info = _info(int(entry))
        if info is None:
            continue
        if (
            (uid is not None and info.uid == uid)
            or leader in (info.pgid, info.sid)
            or _has_marker(info.pid, marker)
        ):
            found.append(info.pid)
    return found


def kill_sandbox(leader: int | None, marker: bytes, uid: int | None, deadline: float = 5.0) -> list[int]:
    """SIGKILL every sandbox process until none is left (a fork bomb keeps making new ones).

    leader None: no worker to start from, just the marker and the uid (leftovers of a grader
    that was itself killed). Returns pids still alive at the deadline (empty on success).
    """
    if leader is not None and leader > 1:
        try:
            os.killpg(leader, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    end = time.monotonic() + deadline
    while True:
        pids = sandbox_processes(leader, marker, uid)
        alive = [pid for pid in pids if not _is_zombie(pid)]
        if not alive or time.monotonic() > end:
            return alive
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] == b"Z"
    except (OSError, ValueError):
        return True
