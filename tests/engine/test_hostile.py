"""Malicious submissions: each case asserts what the parent sees and that nothing escapes.

Every hostile scenario is bounded by itself (a count, a size or a deadline), so a broken
sandbox fails its test instead of taking the machine down.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from graders.engine.processes import sandbox_processes
from graders.engine.sandbox import SubmissionError
from tests.engine.sandbox_helpers import IS_ROOT, hostile, needs_root, sandbox_for


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b") ")[1][:1] != b"Z"
    except (OSError, IndexError):
        return False


def test_results_json_elsewhere_is_not_touched(tmp_path):
    results = tmp_path / "results" / "results.json"
    results.parent.mkdir()
    results.write_text('{"score": 0}')
    os.chmod(tmp_path, 0o755)
    with sandbox_for(hostile("writes_results_json")) as sb:
        hits = sb.call("attack", [str(tmp_path), "/tmp"], timeout=30).value
    assert results.read_text() == '{"score": 0}'
    assert not Path("/tmp/results.json").exists()
    if IS_ROOT:
        # Writes land only in the worker's private /tmp, which vanishes with it.
        assert all(h.startswith(("refused", "/tmp/")) for h in hits), hits


def test_fake_score_on_stdout_is_only_captured_text():
    with sandbox_for(hostile("prints_fake_score")) as sb:
        result = sb.call("attack")
    assert result.value == -1.0
    assert '"score": 100' in result.output.stdout
    # Escape sequences, carriage returns and NULs are stripped before anyone shows the output.
    assert "\x1b" not in result.output.stdout
    assert "\r" not in result.output.stdout
    assert "\x00" not in result.output.stdout


@pytest.mark.parametrize("function", ["always_equal", "reduce_payload", "object_array"])
def test_objects_that_could_fool_a_comparison_are_refused(function):
    with sandbox_for(hostile("sneaky_returns")) as sb:
        with pytest.raises(SubmissionError) as exc:
            sb.call(function)
    assert exc.value.kind == "unsupported"
    assert "unsupported" in exc.value.message
    assert not Path("/tmp/nngrade_reduce_marker").exists()


def test_ndarray_subclass_arrives_as_a_plain_array():
    with sandbox_for(hostile("sneaky_returns")) as sb:
        value = sb.call("array_subclass").value
    assert type(value) is np.ndarray
    assert not np.array_equal(value, np.zeros(3))


def test_sys_exit_is_an_exception_and_the_worker_survives():
    with sandbox_for(hostile("exits")) as sb:
        with pytest.raises(SubmissionError) as exc:
            sb.call("with_sys_exit")
        assert exc.value.error_type == "SystemExit"
        assert sb.call("ok").value == 42
        assert sb.restarts == 0


def test_os_exit_is_a_crash_and_the_next_call_gets_a_fresh_worker():
    with sandbox_for(hostile("exits")) as sb:
        with pytest.raises(SubmissionError) as exc:
            sb.call("with_os_exit")
        assert exc.value.kind == "crash"
        assert sb.call("ok").value == 42
        assert sb.restarts == 1


def test_atexit_handlers_never_run():
    with sandbox_for(hostile("exits")) as sb:
        assert sb.call("with_atexit").value == "registered"
        marker = Path(sb.call("marker_path").value)
        workdir = sb.workdir
        sb._stop()  # what close() does, but keeping the directory to look at
        assert not (workdir / marker.name).exists()


@pytest.mark.parametrize("function", ["busy", "ignores_sigterm"])
def test_a_hanging_call_times_out_and_grading_goes_on(function):
    with sandbox_for(hostile("hangs")) as sb:
        start = time.monotonic()
        with pytest.raises(SubmissionError) as exc:
            sb.call(function, timeout=1.0)
        assert exc.value.kind == "timeout"
        assert "1 s" in exc.value.message
        assert time.monotonic() - start < 10
        assert sb.call("ok").value == "still here"


@needs_root
def test_fork_bomb_is_bounded_and_nothing_survives():
    with sandbox_for(hostile("processes"), processes=32) as sb:
        counts = sb.call("fork_bomb", 400, timeout=30).value
        uid = sb.ids[0]
        assert counts["made"] < 32
        assert counts["refused"] > 0
    # Killed children may linger as zombies until init reaps them; none may still run.
    assert [pid for pid in sandbox_processes(None, b"-", uid) if alive(pid)] == []


def test_setsid_grandchild_does_not_outlive_the_sandbox():
    with sandbox_for(hostile("processes")) as sb:
        pid = sb.call("escaped_grandchild", timeout=10).value
        assert alive(pid)
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)


def test_memory_bomb_is_stopped_by_the_address_space_limit():
    with sandbox_for(hostile("resources"), memory_bytes=1 << 30) as sb:
        with pytest.raises(SubmissionError) as exc:
            sb.call("memory_bomb", 20, timeout=30)
        assert exc.value.error_type == "MemoryError" or exc.value.kind == "crash"
        assert sb.call("ok").value == 1


def test_giant_output_is_capped_head_and_tail():
    with sandbox_for(hostile("resources"), output_bytes=4096) as sb:
        result = sb.call("giant_output", 10, timeout=30)
    assert result.value == 10
    assert len(result.output.stdout) < 5000
    assert "bytes of output not shown" in result.output.stdout
    assert result.output.stderr == "done\n"


def test_sparse_file_is_stopped_by_the_file_size_limit():
    with sandbox_for(hostile("resources")) as sb:
        with pytest.raises(SubmissionError) as exc:
            sb.call("sparse_file", 20, timeout=30)
        # Python turns SIGXFSZ into EFBIG when the signal is ignored, else the worker dies.
        assert exc.value.kind in ("exception", "crash")
        sparse = sb.workdir / "sparse.bin"
        assert not sparse.exists() or sparse.stat().st_size <= 64 << 20
        assert sb.call("ok").value == 1


def test_segfault_is_a_crash_with_the_signal_named():
    with sandbox_for(hostile("resources")) as sb:
        with pytest.raises(SubmissionError, match="SIGSEGV") as exc:
            sb.call("segfault")
        assert exc.value.kind == "crash"
        assert sb.call("ok").value == 1


def test_mutating_inputs_cannot_reach_the_parent():
    x = np.arange(5.0)
    with sandbox_for(hostile("mutates_and_patches")) as sb:
        assert sb.call("mutate", x).value == 0.0
    np.testing.assert_array_equal(x, np.arange(5.0))


def test_monkeypatched_numpy_stays_in_the_worker():
    with sandbox_for(hostile("mutates_and_patches")) as sb:
        assert sb.call("patch_numpy").value is True
    assert not np.allclose(1.0, 2.0)


def test_planted_files_beside_the_submission_are_never_imported():
    with sandbox_for(hostile("mutates_and_patches")) as sb:
        assert sb.call("plant_files").value == "planted"
        sb._stop()  # the next call starts a fresh worker in the same directory
        assert sb.call("numpy_version").value == np.__version__
        root = sb.root
    assert not root.exists()
    assert not list(Path("/tmp").glob("planted_*"))


@pytest.mark.parametrize("function", ["import_reference", "import_graders"])
def test_the_grader_packages_cannot_be_imported(function):
    with sandbox_for(hostile("snoops")) as sb:
        with pytest.raises(SubmissionError, match="not available to submissions"):
            sb.call(function)


def test_the_graders_environment_is_not_readable(monkeypatch):
    monkeypatch.setenv("NNGRADE_TEST_SECRET", "s3cr3t-token")
    with sandbox_for(hostile("snoops")) as sb:
        found = sb.call("read_environ", timeout=30).value
    assert not any("s3cr3t-token" in text for text in found)


@needs_root
def test_no_network_even_to_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    try:
        with sandbox_for(hostile("snoops")) as sb:
            outcome = sb.call("connect", server.getsockname()[1], timeout=10).value
        assert outcome.startswith("refused")
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


@needs_root
def test_nothing_outside_the_worker_directory_changes(tmp_path):
    os.chmod(tmp_path, 0o777)  # even a world-writable folder of the grader's stays untouched
    targets = [
        str(tmp_path / "escaped"),
        "/tmp/nngrade_escaped",
        "/var/tmp/nngrade_escaped",
        "/dev/shm/nngrade_escaped",
        str(Path.cwd() / "escaped"),
        "/root/escaped",
    ]
    with sandbox_for(hostile("snoops")) as sb:
        outcome = sb.call("write_outside", targets).value
    for target in targets:
        assert not Path(target).exists(), (target, outcome)
    json.dumps(outcome)
