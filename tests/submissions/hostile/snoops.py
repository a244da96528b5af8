# Reaches for the grader: its packages, other processes' environment, the network, files outside.
import os
import socket


def import_reference():
    import reference.hw2  # noqa: F401

    return "imported reference"


def import_graders():
    import graders.engine  # noqa: F401

    return "imported graders"


def read_environ(limit=500):
    found = []
    for entry in os.listdir("/proc")[:limit]:
        if not entry.isdigit():
            continue
        for name in ("environ", "cmdline"):
            try:
                with open(f"/proc/{entry}/{name}", "rb") as fh:
                    found.append(fh.read(4096).decode("latin-1"))
            except OSError:
                pass
    return found


def connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"stolen")
        return "connected"
    except OSError as exc:
        return f"refused: {exc}"


def write_outside(paths):
    results = {}
    for path in paths:
        try:
            with open(path, "w") as fh:
                fh.write("escaped")
            results[path] = "written"
        except OSError as exc:
            results[path] = exc.strerror or str(exc)
    return results
