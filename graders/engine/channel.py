"""Framed messages to and from one worker process, every read and write bounded by a deadline.

A frame is an 8-byte big-endian length and one codec message. The worker is untrusted: it may
stop reading, stop writing, send a giant length or garbage, or die mid-frame, and each of those
becomes a SubmissionError rather than a hang.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import time

from graders.engine import codec
from graders.engine.errors import SubmissionError

FRAME = struct.Struct(">Q")
_SIGNAL_HINTS = {
    "SIGKILL": "killed, often for using too much memory",
    "SIGXCPU": "CPU time limit",
    "SIGXFSZ": "wrote a file over the size limit",
    "SIGSEGV": "segmentation fault",
}


class Channel:
    """The two pipes to one worker process; close() does not kill it (the sandbox does that)."""

    def __init__(self, popen: subprocess.Popen, to_worker: int, from_worker: int) -> None:
        self.popen = popen
        self.to_worker = to_worker
        self.from_worker = from_worker
        os.set_blocking(to_worker, False)

    def close(self) -> None:
        for fd in (self.to_worker, self.from_worker):
            os.close(fd)

    def send(self, request: dict, deadline: float, what: str) -> None:
        message = codec.encode(request)
        for part in (FRAME.pack(len(message)), message):  # two writes rather than a copy of the message
            self._write(memoryview(part), deadline, what)

    def _write(self, view: memoryview, deadline: float, what: str) -> None:
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SubmissionError("timeout", f"{what} did not finish in time")
            _, ready, _ = select.select([], [self.to_worker], [], remaining)
            if not ready:
                continue
            try:
                view = view[os.write(self.to_worker, view) :]
            except BrokenPipeError:
                raise SubmissionError("crash", f"{what}: {self._died()}") from None
            except BlockingIOError:
                continue

    def receive(self, deadline: float, what: str, max_bytes: int) -> dict:
        (length,) = FRAME.unpack(self._read(FRAME.size, deadline, what))
        if length > max_bytes:
            raise SubmissionError(
                "unsupported", f"{what} returned {length} bytes, over the {max_bytes} byte limit"
            )
        try:
            reply = codec.decode(self._read(length, deadline, what), max_bytes)
        except codec.CodecError as exc:
            raise SubmissionError("protocol", f"{what} sent a malformed reply ({exc})") from None
        if type(reply) is not dict or type(reply.get("ok")) is not bool:
            raise SubmissionError("protocol", f"{what} sent a malformed reply")
        return reply

    def _read(self, n: int, deadline: float, what: str) -> bytes:
        chunks, got = [], 0
        while got < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SubmissionError("timeout", f"{what} did not finish in time")
            ready, _, _ = select.select([self.from_worker], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.from_worker, min(n - got, 1 << 20))
            if not chunk:
                raise SubmissionError("crash", f"{what}: {self._died()}")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _died(self) -> str:
        try:  # the pipe closes a moment before the process can be reaped
            code = self.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the process running the submission stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = _SIGNAL_HINTS.get(name)
            return f"the process running the submission died ({name}{': ' + hint if hint else ''})"
        return f"the process running the submission exited (exit code {code})"
