"""A warm process that forks one grading process per submission of a batch.

Starting Python and importing pytest, the engine and the grader costs a fresh process about as
much CPU as grading a small assignment. A zygote pays it once per worker slot, then forks: each
submission is still graded by grading.grade() in a process of its own that is never reused, so
no pytest or plugin state passes from one submission to the next.

Protocol, one line at a time: the parent writes the path of a request file to the zygote's stdin;
the zygote answers "<pid>" once the grading process exists and "exit <code>" once it has ended.
While it runs, "int" interrupts it (SIGTERM: it stops its sandbox and exits) and "kill" kills it;
the zygote, being its parent, signals it without any risk of hitting a reused pid. EOF on stdin
means the batch is gone (even killed with SIGKILL): the zygote interrupts the grading process,
waits for it, and exits. A Ctrl-C (SIGINT to the whole process group) interrupts grading
processes only if it interrupts the batch too: they keep the batch's disposition of SIGINT.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from graders.engine.sandbox import BLAS_THREADS

STOP_GRACE = 20.0  # seconds a grading process gets, after SIGTERM, to stop its sandbox and exit
START_TIMEOUT = 120.0  # a zygote importing everything on a busy machine
PR_SET_PDEATHSIG = 1
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the `graders` package


class ZygoteError(Exception):
    """The zygote died or stopped answering; the task it was running is `crashed`."""


class _Lines:
    """Lines from a file descriptor, with a deadline (no buffered file object: select must see the fd)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self, deadline: float | None) -> str | None:
        """The next line; None once the deadline has passed; EOFError at end of file."""
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


class Zygote:
    """The parent's handle on one zygote; restarted on the next task if it died."""

    def __init__(self, assignment: str) -> None:
        self.assignment = assignment
        self.proc: subprocess.Popen | None = None
        self.lines: _Lines | None = None

    def _ensure(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graders.engine.zygote", self.assignment],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Grades run on one BLAS thread (grading.one_blas_thread); numpy is loaded here first.
            env={**os.environ, **dict.fromkeys(BLAS_THREADS, "1")},
            # `-m` puts the working directory first on sys.path: make it the one holding `graders`,
            # never a shared folder such as /tmp where anyone could plant a module.
            cwd=PACKAGE_ROOT,
        )
        self.lines = _Lines(self.proc.stdout.fileno())

    def _send(self, line: str) -> None:
        try:
            self.proc.stdin.write(f"{line}\n".encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise ZygoteError(f"the zygote is gone ({exc})") from None

    def _receive(self, deadline: float | None) -> str | None:
        try:
            return self.lines.next(deadline)
        except EOFError:
            raise ZygoteError(f"the zygote exited with {self.proc.wait()}") from None

    def grade(self, request: Path, deadline: float, stop: threading.Event | None = None) -> tuple[str, int]:
        """("exited", code), or ("timeout" | "stopped", code) after interrupting the grading process."""
        self._ensure()
        self._send(str(request))
        if self._receive(time.monotonic() + START_TIMEOUT) is None:
            self.close()
            raise ZygoteError("the zygote did not start a grading process")
        while True:
            left = deadline - time.monotonic()
            # Short waits only when someone may ask us to stop; otherwise one wait to the deadline.
            answer = self._receive(time.monotonic() + max(min(left, 0.25) if stop else left, 0.0))
            if answer is not None:
                return "exited", int(answer.split()[1])
            if stop is not None and stop.is_set():
                return "stopped", self._interrupt()
            if time.monotonic() >= deadline:
                return "timeout", self._interrupt()

    def _interrupt(self) -> int:
        self._send("int")
        answer = self._receive(time.monotonic() + STOP_GRACE)
        if answer is None:
            self._send("kill")
            answer = self._receive(time.monotonic() + STOP_GRACE)
        if answer is None:
            self.close()
            raise ZygoteError("the grading process could not be stopped")
        return int(answer.split()[1])

    def close(self) -> None:
        """End the zygote (it waits for its grading process, if any, to stop)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.stdin.close()
        try:
            proc.wait(timeout=STOP_GRACE + 5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


# --- the zygote process ---------------------------------------------------------------------------


def _preload(assignment: str) -> None:
    """Import what every grading process needs: the engine, pytest, the grader's helper modules."""
    from graders.engine import batch_task, grading, plugin  # noqa: F401  (inherited by each fork)

    try:
        from _pytest.config import default_plugins  # not public API: a speed-up, never a requirement
    except ImportError:
        default_plugins = ()
    # Every grading session imports pytest's built-in plugins, pdb (the debugging plugin), its
    # argument completion and numpy.random (the graders' random inputs): 35-45 ms of each
    # grading process's CPU, unless the zygote has them already.
    for name in [f"_pytest.{p}" for p in default_plugins] + ["_pytest._argcomplete", "pdb", "numpy.random"]:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    info = grading.find(assignment)
    for path in sorted(info.folder.glob("*.py")):
        # Test modules and conftest are pytest's to import (by path) in each grading process.
        if path.stem.startswith("test_") or path.stem in ("conftest", "__init__"):
            continue
        try:
            importlib.import_module(f"graders.{info.folder.name}.{path.stem}")
        except Exception:
            pass  # the grading process imports it again and reports the error where staff see it


def _forked(request: str, zygote: int, ignore_sigint: bool) -> None:
    """In the fork: output to the request's log, die with the zygote, grade, and never return."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        log = os.open(Path(request).with_name("log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != zygote:
            os._exit(130)  # the zygote died before prctl took effect
        from graders.engine.batch_task import run_request

        code = run_request(request, ignore_sigint)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _supervise(pid: int, lines: _Lines) -> int | None:
    """The grading process's exit code, obeying int/kill meanwhile; None if stdin closed (we must exit)."""
    pidfd = os.pidfd_open(pid)  # Linux >= 5.3: readable the moment the process ends
    try:
        while True:
            ready, _, _ = select.select([pidfd, lines.fd], [], [])
            if pidfd in ready:
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            try:
                command = lines.next(time.monotonic())
            except EOFError:
                os.kill(pid, signal.SIGTERM)
                if not select.select([pidfd], [], [], STOP_GRACE)[0]:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None
            if command in ("int", "kill"):
                os.kill(pid, signal.SIGTERM if command == "int" else signal.SIGKILL)
    finally:
        os.close(pidfd)


def serve(assignment: str) -> int:
    """The zygote's loop: one forked grading process per request line, until stdin closes."""
    # A Ctrl-C reaches the batch and every grading process; the zygote ends when the batch does.
    # Started in the background (SIGINT ignored), the batch's grading processes ignore it too.
    batch_ignores_sigint = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol gets a descriptor of its own: anything printed while importing goes to stderr.
    answers = os.dup(1)
    os.dup2(2, 1)
    _preload(assignment)
    # Everything imported so far lives as long as the zygote: kept out of the collector's sight,
    # a fork's garbage collections no longer touch (and so copy) the pages it shares with us.
    gc.collect()
    gc.freeze()
    lines = _Lines(0)
    while True:
        try:
            request = lines.next(None)
        except EOFError:
            return 0
        if request in ("int", "kill"):
            continue  # meant for a grading process that has ended meanwhile
        pid = os.fork()
        if pid == 0:
            os.close(answers)
            _forked(request, os.getppid(), batch_ignores_sigint)
        os.write(answers, f"{pid}\n".encode())
        code = _supervise(pid, lines)
        if code is None:
            return 0
        os.write(answers, f"exit {code}\n".encode())


if __name__ == "__main__":
    raise SystemExit(serve(sys.argv[1]))
