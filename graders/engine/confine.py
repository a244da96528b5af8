"""Confinement the worker applies to itself at start-up, before any student code exists in it.

Runs inside the worker process (started as a fresh `python -I`), so it imports only the
standard library. Doing this in the worker rather than in a Popen preexec_fn keeps the
grader free of fork-time callbacks, which are unsafe in a process with threads.

Order matters: the network namespace needs root, so it comes first; rlimits next (lowering
is always allowed); then groups, gid and uid are dropped for good.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
import sysconfig

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
PR_SET_NO_NEW_PRIVS = 38
# World-writable places an unprivileged process could leave files in; each gets a private,
# small tmpfs so nothing the student writes outlives the worker or lands beside other users.
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")

LIMIT_NAMES = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
    "nproc": resource.RLIMIT_NPROC,
}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> str | None:
    """Enter fresh namespaces (network: only loopback, and down); returns an error or None."""
    if _libc().unshare(flags) != 0:
        return os.strerror(ctypes.get_errno())
    return None


def _private_tmp(tmpfs_bytes: int, keep: list[str]) -> list[str]:
    """In a fresh mount namespace, hide the shared temp directories behind private tmpfs mounts.

    `keep`: paths that must stay visible (the Python installation, when it lives in a temp
    directory, e.g. a virtualenv under /tmp): each one's top folder under a temp directory is
    bound back, read-only, on top of the fresh tmpfs. The worker's own directory may live under
    /tmp too: its cwd keeps pointing at it, so it is reached through relative paths.
    Returns problems, if any.
    """
    libc = _libc()
    problems = []
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return [f"mount: cannot make / private ({os.strerror(ctypes.get_errno())})"]
    for path in PRIVATE_TMP:
        if not os.path.isdir(path):
            continue
        # Handles to the folders to keep, taken before the tmpfs hides them.
        tops = sorted({_top_under(path, k) for k in keep} - {None})
        handles = {top: os.open(top, os.O_PATH | os.O_DIRECTORY) for top in tops if os.path.isdir(top)}
        options = f"size={tmpfs_bytes},mode=1777".encode()
        if libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
            problems.append(f"mount: private {path} failed ({os.strerror(ctypes.get_errno())})")
        else:
            for top, fd in handles.items():
                problems += _bind_read_only(libc, f"/proc/self/fd/{fd}", top)
        for fd in handles.values():
            os.close(fd)
    return problems


def _top_under(folder: str, path: str) -> str | None:
    """The child of `folder` that contains `path`, or None if `path` is not inside `folder`."""
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(folder))
    if rel == "." or rel.startswith(".."):
        return None
    return os.path.join(folder, rel.split(os.sep)[0])


def _bind_read_only(libc: ctypes.CDLL, source: str, target: str) -> list[str]:
    os.makedirs(target, mode=0o755, exist_ok=True)
    if libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
        return [f"mount: could not keep {target} visible ({os.strerror(ctypes.get_errno())})"]
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
    if libc.mount(None, target.encode(), None, flags, None) != 0:
        return [f"mount: {target} stays writable ({os.strerror(ctypes.get_errno())})"]
    return []


def _no_new_privileges() -> bool:
    """Forbid gaining privileges through setuid binaries for this process and its children."""
    return _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def confine(
    limits: dict[str, int], uid: int | None, gid: int | None, isolate: bool, tmpfs_bytes: int = 64 << 20
) -> dict:
    """Apply the sandbox to the current process; returns what is active, for the start-up probe.

    limits maps names of LIMIT_NAMES to soft=hard values. RLIMIT_NPROC is skipped unless the
    uid is dropped: for an ordinary user it would count every process they own, not ours.
    """
    install_paths = sysconfig.get_paths()  # before the drop: it may read files only root can
    # Likewise, where imports come from; not the worker's own folder, which may be root's alone
    # (Gradescope's source): its modules are loaded already, and it leaves sys.path after this.
    engine = os.path.dirname(os.path.abspath(__file__))
    import_dirs = [p for p in sys.path if os.path.isabs(p) and os.path.isdir(p) and p != engine]
    report: dict = {"uid": os.getuid(), "network_isolated": False, "private_tmp": False, "rlimits": {}}
    report["degraded"] = degraded = []
    if isolate:
        if os.geteuid() != 0:
            degraded.append("namespaces: not root, so no private network and no private /tmp")
        else:
            error = _unshare(CLONE_NEWNET)
            if error:
                degraded.append(f"network: unshare failed ({error})")
            else:
                report["network_isolated"] = True
            error = _unshare(CLONE_NEWNS)
            keep = [
                *install_paths.values(),
                sys.prefix,
                sys.base_prefix,
                engine,
                # A virtualenv's site-packages (the worker runs with -S, so sys.prefix is the base
                # installation's) and folders named by .pth files.
                *import_dirs,
            ]
            problems = (
                [f"mount namespace: unshare failed ({error})"] if error else _private_tmp(tmpfs_bytes, keep)
            )
            degraded.extend(problems)
            report["private_tmp"] = not problems
    dropping = uid is not None and os.geteuid() == 0
    for name, value in limits.items():
        if name == "nproc" and not dropping:
            continue
        try:
            resource.setrlimit(LIMIT_NAMES[name], (value, value))
            report["rlimits"][name] = value
        except (ValueError, OSError) as exc:
            degraded.append(f"rlimit {name}: {exc}")
    if not _no_new_privileges():
        degraded.append("no_new_privs could not be set")
    if uid is not None:
        if not dropping:
            degraded.append("uid: not root, student code runs as the grading user")
        else:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            if os.getuid() != uid or os.geteuid() != uid:
                raise RuntimeError("failed to drop privileges")
    report["uid"] = os.getuid()
    report["unreachable"] = unreachable_paths(install_paths, import_dirs)
    return report


def unreachable_paths(paths: dict[str, str], import_dirs: list[str]) -> list[str]:
    """Parts of this interpreter's installation the current user cannot read.

    After the uid drop, every module not yet imported is read from these; a Python installed
    under a private home (e.g. /root/.pyenv with /root mode 700) would fail imports later, in
    a confusing way, so the parent refuses to go on and says how to fix it.
    """
    wanted = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    wanted |= set(import_dirs)
    return sorted(p for p in wanted if not os.access(p, os.R_OK | os.X_OK))
