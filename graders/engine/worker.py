"""The sandboxed worker: the only process in which student code runs.

Started by sandbox.py as `python -I -S worker.py IN_FD OUT_FD CONFIG_JSON` in a private directory.
It confines itself (confine.py), loads the submission's kept statements once, then answers
requests framed on two pipes: 8-byte big-endian length + a codec message. stdout and stderr
belong to the student; the parent captures them from files.

This file is run as a script, so its siblings are imported as top-level modules; it must not
import `graders` or `reference`, and it blocks both for the student too.
"""

from __future__ import annotations

import ast
import json
import linecache
import os
import struct
import sys
import time
import traceback

# `python -I` puts neither the cwd nor this script's folder on sys.path; the siblings are ours.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec  # noqa: E402
import confine  # noqa: E402
import lazy_imports  # noqa: E402

FRAME = struct.Struct(">Q")
BLOCKED_PACKAGES = ("graders", "reference", "tests")


class _Blocker:
    """Refuses the grader's own packages: a submission must not reach the reference or the tests.

    A meta path finder needs only find_spec; importlib.abc's base class would import
    importlib.resources, pathlib and tempfile into every worker (15 ms).
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not available to submissions)")
        return None


def _isolate_imports() -> None:
    engine_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != engine_dir]
    # Editable installs put a finder for our packages on sys.meta_path; drop it, then block by name.
    sys.meta_path[:] = [f for f in sys.meta_path if "nngrade" not in type(f).__module__]
    sys.meta_path.insert(0, _Blocker())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            del sys.modules[name]
    # Sibling files of the submission (helpers it imports) resolve against the private cwd,
    # after every installed package, so a student's numpy.py cannot shadow numpy.
    sys.path.append(".")


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _send(fd: int, value) -> None:
    try:
        message = codec.encode(value)
    except codec.CodecError as exc:
        text = str(exc).replace("value['value']", "the return value", 1)
        hint = " (return floats, ints, strings, lists, tuples, dicts with str keys, or numpy arrays)"
        message = codec.encode({"ok": False, "error": {"type": "UnsupportedReturn", "message": text + hint}})
    for part in (FRAME.pack(len(message)), message):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except BaseException:  # a student exception whose __str__ itself fails
        return f"<{type(exc).__name__} with an unprintable message>"


def _error(exc: BaseException, filenames: set[str]) -> dict:
    """The exception as data, with only the submission's own frames in the traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in filenames]
    lines = traceback.format_list(frames[-8:])
    return {
        "type": type(exc).__name__,
        "message": _safe_str(exc),
        "traceback": "".join(lines)[-4000:],
    }


class Worker:
    """Holds the submission's namespace and the drivers, and dispatches requests."""

    def __init__(self) -> None:
        self.module_name = "submission"
        self.namespace: dict = {"__name__": self.module_name, "__builtins__": __builtins__}
        self.drivers: dict = {}
        self.kept: dict = {}  # values the grader sent once for several driver calls (Sandbox.keep)
        self.filenames: set[str] = set()
        self._cells: dict[str, list[str]] = {}

    def load(self, statements: list, filename: str) -> dict:
        """Execute the kept statements in order; a failing one is reported and the rest go on."""
        self.filenames.add(filename)
        problems, errors = [], []
        for st in statements:
            try:
                tree = ast.parse(st["source"])
                ast.increment_lineno(tree, st["lineno"] - 1)
                where = self._source_name(filename, st)
                for node in tree.body:
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        problems += [
                            f"{st['origin']}: {p}" for p in lazy_imports.bind_import(node, self.namespace)
                        ]
                    else:
                        module = ast.Module(body=[node], type_ignores=[])
                        exec(compile(module, where, "exec"), self.namespace)
            except BaseException as exc:  # includes SystemExit from a stray exit() in a kept statement
                errors.append({"origin": st["origin"], **_error(exc, self.filenames)})
        defined = sorted(k for k in self.namespace if not k.startswith("__"))
        return {"defined": defined, "import_problems": problems, "errors": errors}

    def _source_name(self, filename: str, st: dict) -> str:
        """The name tracebacks show for a statement, with its lines registered in linecache.

        A notebook's line numbers count within a cell, and the file on disk is JSON, so each
        cell gets a name of its own ("hw2.ipynb, cell 4") whose lines are the kept code.
        """
        if not filename.endswith(".ipynb"):
            return filename  # a script: the file beside the worker has the same line numbers
        name = f"{filename}, {st['origin'].split(',')[0]}"
        self.filenames.add(name)
        lines = list(self._cells.setdefault(name, []))
        for offset, text in enumerate(st["source"].splitlines()):
            index = st["lineno"] - 1 + offset
            lines.extend([""] * (index + 1 - len(lines)))
            lines[index] = text
        self._cells[name] = lines
        linecache.cache[name] = (0, None, [line + "\n" for line in lines], name)
        return name

    def call(self, name: str, args: list, kwargs: dict):
        if name not in self.namespace:
            raise NameError(f"the submission does not define `{name}`")
        return self.namespace[name](*args, **kwargs)

    def define_driver(self, name: str, source: str) -> None:
        filename = f"<driver {name}>"
        scope: dict = {"__name__": "nngrade_driver", "__builtins__": __builtins__}
        exec(compile(source, filename, "exec"), scope)
        self.drivers[name] = scope[name]

    def driver(self, name: str, args: list, kwargs: dict):
        args = [self._unkept(a) for a in args]
        kwargs = {k: self._unkept(v) for k, v in kwargs.items()}
        return self.drivers[name](self.namespace, *args, **kwargs)

    def _unkept(self, value):
        if type(value) is dict and len(value) == 1 and codec.KEPT in value:
            return self.kept[value[codec.KEPT]]
        return value

    def handle(self, request: dict):
        op = request.get("op")
        if op == "ping":
            return "pong"
        if op == "load":
            return self.load(request["statements"], request["filename"])
        if op == "call":
            return self.call(request["name"], request.get("args", []), request.get("kwargs", {}))
        if op == "define_driver":
            return self.define_driver(request["name"], request["source"])
        if op == "keep":
            self.kept[request["name"]] = request["value"]
            return None
        if op == "driver":
            return self.driver(request["name"], request.get("args", []), request.get("kwargs", {}))
        raise ValueError(f"unknown op {op!r}")


def serve(in_fd: int, out_fd: int) -> None:
    worker = Worker()
    while True:
        try:
            (length,) = FRAME.unpack(_read_exact(in_fd, FRAME.size))
            request = codec.decode(_read_exact(in_fd, length))
        except EOFError:
            return
        start = time.perf_counter()
        try:
            reply = {"ok": True, "value": worker.handle(request)}
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            reply = {"ok": False, "error": _error(exc, worker.filenames)}
        reply["seconds"] = time.perf_counter() - start  # for the grader's statistics only
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        _send(out_fd, reply)


def _add_site_packages(folders: list[str]) -> None:
    """Put the installation's site-packages on sys.path as `site` would, minus .pth import lines.

    The worker starts with `-S`: `site` would run every .pth file's `import` lines (editable
    installs' finders, setuptools' distutils shim, a CA bundle hook: 40 ms here, as root, before
    confinement) and none of them is for student code. Path lines are kept, so packages installed
    as plain folders elsewhere still import. numpy is not imported until something needs it.
    """
    for folder in folders:
        if not os.path.isdir(folder) or folder in sys.path:
            continue
        sys.path.append(folder)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if name.endswith(".pth") and not name.startswith("."):
                _add_pth_paths(folder, name)
    import site

    site.setquit()  # exit() and quit(), which a submission may call
    site.setcopyright()
    site.sethelper()


def _add_pth_paths(folder: str, name: str) -> None:
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for line in lines:
        line = line.rstrip()
        if not line or line.startswith(("#", "import ", "import\t")):
            continue
        path = os.path.abspath(os.path.join(folder, line))
        if path not in sys.path and os.path.exists(path):
            sys.path.append(path)


def main(argv: list[str]) -> None:
    in_fd, out_fd, config = int(argv[1]), int(argv[2]), json.loads(argv[3])
    _add_site_packages(config.get("site_packages", []))
    report = confine.confine(config["limits"], config["uid"], config["gid"], config["isolate"])
    _isolate_imports()
    lazy_imports.install_colab_stubs()
    _send(out_fd, {"ok": True, "value": {"hello": report, "pid": os.getpid()}})
    serve(in_fd, out_fd)


if __name__ == "__main__":
    main(sys.argv)
    # Skip atexit handlers and finalizers a submission may have registered.
    os._exit(0)
