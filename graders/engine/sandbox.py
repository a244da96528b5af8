"""Starts, limits, talks to and kills the worker; turns every failure into one SubmissionError.

The grader never runs student code and never unpickles anything: it sends requests through
the codec and gets data back. A worker that hangs is killed at its deadline; one that dies is
restarted (and the submission reloaded) on the next call, so one bad function costs only the
tests that use it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.engine.channel import Channel
from graders.engine.codec import KEPT
from graders.engine.errors import SandboxUnavailable, SubmissionError
from graders.engine.files import safe_relative
from graders.engine.output import Output, read_capped
from graders.engine.processes import kill_sandbox
from graders.engine.users import claim

__all__ = ["CallResult", "LoadReport", "Sandbox", "SandboxConfig", "SandboxUnavailable", "SubmissionError"]

ENGINE_DIR = Path(__file__).resolve().parent
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux only; the number where Python lacks the name
ENV_ALLOW = ("LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ")
# What numpy's BLAS (OpenBLAS wheels, MKL builds) and OpenMP read for their thread counts.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ONE_THREAD = dict.fromkeys((*BLAS_THREADS, "OMP_NUM_THREADS"), "1")


@dataclass(frozen=True)
class SandboxConfig:
    """Limits for one submission's worker; every value has a safe default."""

    call_timeout: float = 5.0  # seconds of wall clock per call, unless the call says otherwise
    total_timeout: float = 900.0  # wall clock for everything one submission runs, restarts included
    start_timeout: float = 60.0  # interpreter start and confinement
    memory_bytes: int = 4 << 30  # RLIMIT_AS; torch alone reserves over 1 GB of address space
    cpu_seconds: int = 600  # RLIMIT_CPU over the worker's whole life
    file_bytes: int = 64 << 20  # RLIMIT_FSIZE: largest file the student may write
    open_files: int = 256
    processes: int = 64  # RLIMIT_NPROC, applied only with a dedicated user
    message_bytes: int = 256 << 20  # largest reply accepted from the worker
    output_bytes: int = 8192  # captured stdout/stderr per call: half head, half tail
    user: str | None = "nngrade-sandbox"  # base name of the user pool; None: run as ourselves even as root
    isolate: bool = True  # private network and /tmp when root


@dataclass(frozen=True)
class LoadReport:
    """What the worker did with the kept statements (validated: it comes from untrusted code)."""

    defined: tuple[str, ...]
    import_problems: tuple[str, ...]
    errors: tuple[dict, ...]  # {"origin", "type", "message", "traceback"}, all str

    @classmethod
    def from_reply(cls, value: Any) -> LoadReport:
        value = value if type(value) is dict else {}

        def strings(items: Any) -> tuple[str, ...]:
            return tuple(x for x in items if type(x) is str) if type(items) is list else ()

        errors = value.get("errors")
        errors = [e for e in errors if type(e) is dict] if type(errors) is list else []
        keys = ("origin", "type", "message", "traceback")
        return cls(
            defined=strings(value.get("defined")),
            import_problems=strings(value.get("import_problems")),
            errors=tuple({k: _text(e.get(k)) for k in keys} for e in errors),
        )


@dataclass
class Usage:
    """Resources the worker used, for benchmarks and staff; never used to decide a score."""

    worker_cpu_seconds: float = 0.0
    worker_peak_rss_bytes: int = 0
    student_seconds: float = 0.0  # wall time inside requests, as the worker reports it

    def add_worker(self, usage) -> None:
        self.worker_cpu_seconds += usage.ru_utime + usage.ru_stime
        self.worker_peak_rss_bytes = max(self.worker_peak_rss_bytes, usage.ru_maxrss * 1024)


@dataclass
class CallResult:
    value: Any
    output: Output
    seconds: float


class Sandbox:
    """One submission's worker: `with Sandbox(files) as sb: sb.load(...); sb.call("f", x)`."""

    def __init__(self, files: dict[str, bytes], config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.files = files
        self.marker = f"NNGRADE_SANDBOX={secrets.token_hex(8)}"
        self.user = claim(self.config.user)
        self.ids = (self.user.uid, self.user.gid) if self.user else None
        if self.user is not None:  # leftovers of an earlier grader that was killed mid-run
            kill_sandbox(None, self.marker.encode(), self.user.uid)
        self.root = Path(tempfile.mkdtemp(prefix="nngrade-"))
        self.workdir = self.root / "work"
        self._proc: Channel | None = None
        self._greeted = False
        self._deadline: float | None = None
        self._load_request: dict | None = None
        self._submission: Any = None
        self._drivers: dict[str, str] = {}
        self._kept: dict[str, Any] = {}
        self.restarts = 0
        self.usage = Usage()
        self.probe: dict = {}

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Kill the worker and everything it started, and delete its directory."""
        self._stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.user is not None:
            self.user.release()
            self.user = None

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        self._greeted = False
        if proc is None:
            return
        uid = self.ids[0] if self.ids else None
        kill_sandbox(proc.popen.pid, self.marker.encode(), uid)
        if proc.popen.returncode is None:
            try:  # wait4 rather than wait(): it also reports the worker's CPU time and peak memory
                _, status, usage = os.wait4(proc.popen.pid, 0)
                proc.popen.returncode = os.waitstatus_to_exitcode(status)
                self.usage.add_worker(usage)
            except ChildProcessError:
                proc.popen.wait()
        proc.close()

    def _prepare_dir(self) -> None:
        # A fresh copy for every worker start: a crashed attempt leaves nothing behind.
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(mode=0o700)
        for name, data in self.files.items():
            rel = safe_relative(name)
            if rel is None:
                raise ValueError(f"refusing to place {name!r} outside the sandbox directory")
            target = self.workdir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        io = self.root / "io"
        io.mkdir(mode=0o700, exist_ok=True)
        if self.ids:
            os.chmod(self.root, 0o711)
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, *self.ids)

    def spawn(self) -> None:
        """Start the worker without waiting for it: it boots (imports, confinement) while the
        grader collects its tests, and is greeted on the first request."""
        if self._proc is None:
            self._spawn()

    def _start(self) -> Channel:
        proc = self._spawn()
        self._greet(proc)
        return proc

    def _spawn(self) -> Channel:
        self._prepare_dir()
        cfg = self.config
        limits = {
            "as": cfg.memory_bytes,
            "cpu": cfg.cpu_seconds,
            "fsize": cfg.file_bytes,
            "nofile": cfg.open_files,
            "core": 0,
            "nproc": cfg.processes,
        }
        worker_config = {
            "limits": limits,
            "uid": self.ids[0] if self.ids else None,
            "gid": self.ids[1] if self.ids else None,
            "isolate": cfg.isolate,
            "site_packages": _site_packages(),
        }
        env = {k: os.environ[k] for k in ENV_ALLOW if k in os.environ}
        env.update(
            PATH="/usr/local/bin:/usr/bin:/bin",
            HOME=str(self.workdir),
            MPLBACKEND="Agg",
            **ONE_THREAD,
        )
        env.setdefault("LANG", "C.UTF-8")
        name, value = self.marker.split("=", 1)
        env[name] = value
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        for fd in (req_w, rep_w):
            _widen_pipe(fd)
        out = open(self.root / "io" / "stdout", "ab")  # append: the parent truncates between calls
        err = open(self.root / "io" / "stderr", "ab")
        try:
            popen = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",  # the worker adds site-packages itself (worker._add_site_packages)
                    str(ENGINE_DIR / "worker.py"),
                    str(req_r),
                    str(rep_w),
                    json.dumps(worker_config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.workdir,
                env=env,
                pass_fds=(req_r, rep_w),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            out.close()
            err.close()
            os.close(req_r)
            os.close(rep_w)
        proc = Channel(popen, req_w, rep_r)
        self._proc, self._greeted = proc, False
        return proc

    def _greet(self, proc: Channel) -> None:
        cfg = self.config
        try:
            hello = proc.receive(time.monotonic() + cfg.start_timeout, "startup", cfg.message_bytes)
        except SubmissionError as exc:
            self._stop()
            detail = read_capped(self.root / "io" / "stdout", self.root / "io" / "stderr", 4000).stderr
            raise SandboxUnavailable(
                f"the sandbox worker failed to start ({exc.message}):\n{detail}"
            ) from None
        if not hello.get("ok"):
            self._stop()
            raise SandboxUnavailable(f"the sandbox worker failed to start: {hello.get('error')}")
        self.probe = self._describe(hello["value"]["hello"])
        if self.probe.get("unreachable"):
            self._stop()
            raise SandboxUnavailable(
                f"the sandbox user {self.user.name!r} cannot read this Python installation "
                f"({', '.join(self.probe['unreachable'])}), so student code could not import anything. "
                "Make the installation readable to other users (for a Python under /root: chmod o+x /root), "
                "use a Python installed outside a private home directory, or run as a non-root user."
            )
        self._greeted = True

    def _describe(self, report: dict) -> dict:
        degraded = list(report.get("degraded", []))
        if self.ids is None:
            degraded.append("uid: student code runs as the grading user (not root, or no sandbox user)")
        return {**report, "degraded": degraded, "user": self.user.name if self.user else None}

    def _ensure(self) -> Channel:
        proc = self._proc
        if proc is not None and not self._greeted:  # spawned ahead of time: nothing to replay yet
            self._greet(proc)
            return proc
        if proc is not None and proc.popen.poll() is None:
            return proc
        if proc is not None:  # died between calls (e.g. a background thread called os._exit)
            self.restarts += 1
            self._stop()
        proc = self._start()
        # Replay what the previous worker knew, so a restart is invisible to the grader.
        for name, source in self._drivers.items():
            self._roundtrip(
                proc, {"op": "define_driver", "name": name, "source": source}, self.config.start_timeout
            )
        for name, value in self._kept.items():
            self._roundtrip(proc, {"op": "keep", "name": name, "value": value}, self.config.start_timeout)
        if self._load_request is not None:
            self._roundtrip(proc, self._load_request, self.config.start_timeout)
        return proc

    # --- talking to the worker ---------------------------------------------------------------

    def _roundtrip(self, proc: Channel, request: dict, timeout: float) -> dict:
        what = f"`{request.get('name') or request['op']}`"
        deadline = time.monotonic() + timeout
        try:
            proc.send(request, deadline, what)
            return proc.receive(deadline, what, self.config.message_bytes)
        except SubmissionError:
            self._stop()  # a timed-out or confused worker is never reused; the next call starts anew
            self.restarts += 1
            raise

    def _request(self, request: dict, timeout: float | None) -> CallResult:
        timeout = self.config.call_timeout if timeout is None else timeout
        if self._deadline is None:
            self._deadline = time.monotonic() + self.config.total_timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise SubmissionError(
                "timeout",
                f"the submission used up its total time budget of {self.config.total_timeout:g} s; "
                "the remaining checks were not run",
            )
        budget_bound = left < timeout
        timeout = min(timeout, left)
        proc = self._ensure()
        out_path, err_path = self.root / "io" / "stdout", self.root / "io" / "stderr"
        os.truncate(out_path, 0)
        os.truncate(err_path, 0)
        start = time.monotonic()
        try:
            reply = self._roundtrip(proc, request, timeout)
        except SubmissionError as exc:
            exc.output = read_capped(out_path, err_path, self.config.output_bytes)
            if exc.kind == "timeout":
                why = (
                    "the submission's total time budget ran out"
                    if budget_bound
                    else "infinite loop, or far too slow?"
                )
                exc.with_message(f"{exc.message}: stopped after {timeout:g} s ({why})")
            raise
        output = read_capped(out_path, err_path, self.config.output_bytes)
        if type(reply.get("seconds")) is float:
            self.usage.student_seconds += reply["seconds"]
        if not reply["ok"]:
            err = reply.get("error")
            err = err if type(err) is dict else {}
            kind = "unsupported" if err.get("type") == "UnsupportedReturn" else "exception"
            raise SubmissionError(
                kind,
                self._explain(_text(err.get("type")), _text(err.get("message"))),
                error_type=_text(err.get("type")),
                traceback=_text(err.get("traceback")),
                output=output,
            )
        return CallResult(reply.get("value"), output, time.monotonic() - start)

    def _explain(self, error_type: str, message: str) -> str:
        """Reword what a student can act on: a stub left in place, or a global set by skipped code."""
        if error_type == "NotImplementedError":
            return (
                "this function still raises NotImplementedError: replace the `raise` with your implementation"
            )
        match = re.fullmatch(r"name '(\w+)' is not defined", message)
        if error_type == "NameError" and match and self._submission is not None:
            hint = self._submission.explain_missing(match.group(1))
            if hint:
                return f"{message}: {hint}"
        return message

    # --- the grader's API ----------------------------------------------------------------------

    def load(self, submission: Any, timeout: float = 60.0) -> LoadReport:
        """Execute a LoadedSubmission's kept statements in a fresh worker; report what happened."""
        statements = [
            {
                "source": st.source,
                "kind": st.kind,
                "names": list(st.names),
                "origin": st.origin,
                "lineno": st.lineno,
            }
            for st in submission.statements
        ]
        self._submission = submission
        # Tracebacks name the file as the student knows it, not where the grader keeps it.
        filename = Path(submission.path).name
        self._load_request = {"op": "load", "statements": statements, "filename": filename}
        if self._greeted:  # a worker that has run anything is replaced; one spawned ahead is fresh
            self._stop()
        self._ensure_started_without_load()
        return LoadReport.from_reply(self._request(self._load_request, timeout).value)

    def _ensure_started_without_load(self) -> None:
        pending, self._load_request = self._load_request, None
        try:
            self._ensure()
        finally:
            self._load_request = pending

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> CallResult:
        """Call the submission's function `name` with codec-safe arguments."""
        return self._request({"op": "call", "name": name, "args": list(args), "kwargs": kwargs}, timeout)

    def define_driver(self, name: str, source: str) -> None:
        """Install trusted driver code (a function `name(submission_namespace, ...)`) in the worker."""
        self._drivers[name] = source
        self._request({"op": "define_driver", "name": name, "source": source}, self.config.start_timeout)

    def keep(self, name: str, value: Any) -> dict:
        """Send `value` to the worker once; the returned argument stands for it in driver calls."""
        self._kept[name] = value
        self._request({"op": "keep", "name": name, "value": value}, self.config.start_timeout)
        return {KEPT: name}

    def driver(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> CallResult:
        """Run an installed driver; its return value is untrusted data like any other reply."""
        return self._request({"op": "driver", "name": name, "args": list(args), "kwargs": kwargs}, timeout)


def _text(value: Any) -> str:
    return value if type(value) is str else ""


def _widen_pipe(fd: int) -> None:
    """Ask for 1 MiB pipe buffers: large arrays then cross in a few writes instead of hundreds."""
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size: the default 64 KiB still works, only slower


def _site_packages() -> list[str]:
    """This installation's site-packages folders (a virtualenv's, when we run in one), in order.

    `site` has already worked out the prefixes (pyvenv.cfg, include-system-site-packages) in
    this process; the worker, started with -S, is handed the result.
    """
    import site

    return [folder for folder in site.getsitepackages() if os.path.isdir(folder)]
