"""The unprivileged users student code runs as, one per concurrently running sandbox.

Every process of a sandbox user is killed when its sandbox ends, and RLIMIT_NPROC counts per
user, so two sandboxes must never share one: a user is claimed with an exclusive lock for the
whole life of a sandbox. The pool is `<base>-0` … `<base>-15`, created on first use (we are root
whenever users matter at all).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

POOL_SIZE = 16


def lock_dir() -> Path:
    """A root-only folder for the claim locks (sandbox users must not be able to take them)."""
    base = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
    path = base / "nngrade-users"
    path.mkdir(mode=0o700, exist_ok=True)
    if path.stat().st_uid != 0 or path.is_symlink():
        raise PermissionError(f"{path} is not owned by root; refusing to keep sandbox locks there")
    os.chmod(path, 0o700)
    return path


@dataclass
class SandboxUser:
    name: str
    uid: int
    gid: int
    lock: IO

    def release(self) -> None:
        """Give the user back to the pool (after every one of its processes is gone)."""
        self.lock.close()


def _ensure_user(name: str) -> pwd.struct_passwd:
    for attempt in range(20):
        try:
            entry = pwd.getpwnam(name)
            break
        except KeyError:
            done = subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--user-group",
                    name,
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode not in (0, 9):  # 9: created meanwhile by another grader
                if attempt == 19 or "lock" not in done.stderr:
                    raise RuntimeError(
                        f"could not create sandbox user {name}: {done.stderr.strip()}"
                    ) from None
                time.sleep(0.05)  # /etc/passwd is locked by a concurrent useradd
    if entry.pw_uid == 0:
        raise ValueError(f"sandbox user {name!r} is root")
    return entry


def claim(base: str | None, pool: int = POOL_SIZE) -> SandboxUser | None:
    """An unused sandbox user, held until release(); None when not root or when base is None."""
    if base is None or os.geteuid() != 0:
        return None
    folder = lock_dir()
    order = list(range(pool))
    random.shuffle(order)  # spread concurrent graders over the pool instead of racing for -0
    for blocking in (False, True):
        for index in order:
            name = f"{base}-{index}"
            handle = open(folder / f"{name}.lock", "a+")  # noqa: SIM115  (held for the sandbox's life)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                handle.close()
                continue
            entry = _ensure_user(name)
            return SandboxUser(name, entry.pw_uid, entry.pw_gid, handle)
    raise RuntimeError("no sandbox user could be claimed")
