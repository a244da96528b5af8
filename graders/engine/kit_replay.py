"""Replaying the reference's answers in a student kit, from values recorded when the kit was built.

A kit (`nngrade kit`, see kit.py) has no reference solutions. Where its grader would ask the reference
(or a grader function computed from it), the kit holds a stub that calls `replay` with its arguments;
`replay` hashes them exactly as `call_key` did when `nngrade kit` recorded the same call in the full
repository, and returns the recorded value. A call that was never recorded fails its test with a
message saying so, rather than guessing.

The hash and the storage format live here, in the one module that both sides share, so that the
builder and the kit cannot disagree on them. Values are stored with the codec (JSON plus raw numeric
buffers); nothing is ever pickled.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import math
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from graders.engine import codec

RECORDINGS = "kit-recordings.bin"  # at the kit's root, beside graders/
FORMAT = "nngrade-kit-recordings"
VERSION = 1
NOT_IN_KIT = "this student kit does not hold"  # in every message of a check the kit cannot run
_TAG = "$kit"  # marks the values the codec cannot carry itself (dataclasses, dicts with other keys)


class NotInKit(AssertionError):
    """A check needs an answer of the reference the kit does not hold.

    An AssertionError, so the plugin shows the message as a failed check rather than as a grader
    error; graders that can do without the answer (numeric_answers' error carried forward) catch it.
    """


class Unkeyable(Exception):
    """An argument that cannot be hashed reproducibly (a function, a submission, an arbitrary object)."""


class Unstorable(Exception):
    """A value the kit cannot store or rebuild (an object that is not plain data or a grader dataclass)."""


class _Unset:
    def __repr__(self) -> str:
        return "<not given>"


#: The default of every parameter of a stub: arguments left out are left out of the key too.
UNSET = _Unset()


# --- the key of a call -----------------------------------------------------------------------------


def call_key(arguments: dict[str, Any]) -> str:
    """sha256 of the arguments by name; equal data gives equal keys, whatever object holds it."""
    digest = hashlib.sha256()
    _feed(digest, arguments, 0)
    return digest.hexdigest()


def _feed(digest, value: Any, depth: int) -> None:
    if depth > 64:
        raise Unkeyable("nested deeper than 64 levels")

    def put(tag: bytes, payload: bytes = b"") -> None:
        digest.update(tag + len(payload).to_bytes(8, "big") + payload)

    t = type(value)  # exact types: a float and a numpy float64 are different answers to a grader
    if value is None:
        put(b"N")
    elif t is bool:
        put(b"B", b"1" if value else b"0")
    elif t is int:
        put(b"I", str(value).encode())
    elif t is float:
        put(b"F", value.hex().encode() if math.isfinite(value) else repr(value).encode())
    elif t is str:
        put(b"S", value.encode("utf-8", "surrogatepass"))
    elif t is bytes:
        put(b"Y", value)
    elif t in (list, tuple):
        put(b"L" if t is list else b"T", str(len(value)).encode())
        for item in value:
            _feed(digest, item, depth + 1)
    elif t is dict:
        put(b"D", str(len(value)).encode())
        for item_key, item in sorted(value.items(), key=lambda kv: _sub_key(kv[0], depth)):
            _feed(digest, item_key, depth + 1)
            _feed(digest, item, depth + 1)
    elif t in (set, frozenset):
        put(b"E", "".join(sorted(_sub_key(v, depth) for v in value)).encode())
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise Unkeyable(f"an array of dtype {value.dtype}")
        put(b"A", f"{value.dtype.str}{value.shape}".encode())
        put(b"a", np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic) and np.dtype(t).kind in "biuf":
        put(b"G", np.dtype(t).str.encode())
        put(b"g", np.asarray(value).tobytes())
    elif isinstance(value, PurePath):
        put(b"P", str(value).encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        put(b"C", f"{t.__module__}:{t.__qualname__}".encode())
        for field in dataclasses.fields(value):
            put(b"c", field.name.encode())
            _feed(digest, getattr(value, field.name), depth + 1)
    else:
        raise Unkeyable(f"a {t.__module__}.{t.__qualname__}")


def _sub_key(value: Any, depth: int) -> str:
    digest = hashlib.sha256()
    _feed(digest, value, depth + 1)
    return digest.hexdigest()


# --- storing values ---------------------------------------------------------------------------------


def to_tree(value: Any, depth: int = 0) -> Any:
    """`value` as a tree the codec carries; Unstorable for anything but plain data and grader dataclasses."""
    if depth > 64:
        raise Unstorable("nested deeper than 64 levels")
    t = type(value)
    if value is None or t in (bool, int, float, str) or isinstance(value, np.generic):
        return value
    if isinstance(value, np.ndarray):
        return value.copy()  # as it is now: the grader may change the array once the call has returned
    if t is list:
        return [to_tree(v, depth + 1) for v in value]
    if t is tuple:
        return tuple(to_tree(v, depth + 1) for v in value)
    if t is dict:
        if all(type(k) is str for k in value) and _TAG not in value:
            return {k: to_tree(v, depth + 1) for k, v in value.items()}
        return {_TAG: ["items", [[to_tree(k, depth + 1), to_tree(v, depth + 1)] for k, v in value.items()]]}
    if t in (set, frozenset):
        return {_TAG: [t.__name__, [to_tree(v, depth + 1) for v in value]]}
    if isinstance(value, PurePath):
        return {_TAG: ["path", str(value)]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not t.__module__.startswith("graders."):
            raise Unstorable(f"a {t.__module__}.{t.__qualname__} (only graders' own dataclasses are kept)")
        fields = {f.name: to_tree(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
        return {_TAG: ["dataclass", f"{t.__module__}:{t.__qualname__}", fields]}
    raise Unstorable(f"a {t.__module__}.{t.__qualname__}")


def from_tree(tree: Any) -> Any:
    """Rebuild a value stored by to_tree, with fresh arrays (callers may change what they get)."""
    t = type(tree)
    if isinstance(tree, np.ndarray):
        return tree.copy()
    if t is list:
        return [from_tree(v) for v in tree]
    if t is tuple:
        return tuple(from_tree(v) for v in tree)
    if t is not dict:
        return tree
    if _TAG not in tree:
        return {k: from_tree(v) for k, v in tree.items()}
    kind, *payload = tree[_TAG]
    if kind == "items":
        return {from_tree(k): from_tree(v) for k, v in payload[0]}
    if kind in ("set", "frozenset"):
        return (set if kind == "set" else frozenset)(from_tree(v) for v in payload[0])
    if kind == "path":
        return Path(payload[0])
    if kind == "dataclass":
        return _dataclass(payload[0], {k: from_tree(v) for k, v in payload[1].items()})
    raise Unstorable(f"unknown stored kind {kind!r}")


def _dataclass(where: str, fields: dict) -> Any:
    module, _, qualname = where.partition(":")
    if not module.startswith("graders."):
        raise Unstorable(f"{where} is not a grader's dataclass")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise Unstorable(f"{where} is not a dataclass")
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    value = cls(**{k: v for k, v in fields.items() if k in init})
    for name in fields.keys() - init:
        object.__setattr__(value, name, fields[name])  # frozen dataclasses too
    return value


def dataclasses_in(tree: Any) -> set[tuple[str, str]]:
    """(module, class name) of every dataclass a stored tree rebuilds."""
    found = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
        elif type(node) is dict:
            if _TAG in node and node[_TAG][0] == "dataclass":
                module, _, qualname = node[_TAG][1].partition(":")
                found.add((module, qualname.split(".")[0]))
            stack.extend(node.values())
    return found


def encode_recordings(calls: dict[str, dict[str, Any]]) -> bytes:
    """The recordings file: {function's qualified name: {call key: {"value": tree, "args": tree or None}}}."""
    return bytes(codec.encode({"format": FORMAT, "version": VERSION, "calls": calls}))


def decode_recordings(data: bytes) -> dict[str, dict[str, Any]]:
    """The calls of a recordings file; ValueError if it is not one this nngrade can read."""
    found = codec.decode(data)
    if type(found) is not dict or found.get("format") != FORMAT or found.get("version") != VERSION:
        raise ValueError(f"not an nngrade kit recordings file of version {VERSION}")
    return found["calls"]


# --- in the kit -------------------------------------------------------------------------------------


@functools.cache
def _recordings() -> dict[str, dict[str, Any]]:
    path = Path(__file__).resolve().parents[2] / RECORDINGS
    return decode_recordings(path.read_bytes())


def replay(module: str, name: str, arguments: dict[str, Any], variadic: tuple[str, ...] = ()) -> Any:
    """The value recorded for module.name called with `arguments` (a stub's locals()); fails the test if none.

    Arguments left at UNSET, and empty *args / **kwargs (named in `variadic`), were not passed.
    """
    given = {k: v for k, v in arguments.items() if v is not UNSET and not (k in variadic and not v)}
    qualified = f"{module}.{name}"
    stored = lookup(_recordings().get(qualified, {}), given)
    if stored is UNSET:
        raise NotInKit(
            f"This check needs an answer of the reference solution ({qualified}) that {NOT_IN_KIT}. The "
            "kit holds the answers for the inputs the visible tests use when your functions return what "
            "the handout asks for, so this usually follows from a value your code got wrong: fix the "
            "other failed checks first. The check runs in full when you submit."
        )
    return from_tree(stored)


def lookup(calls: dict[str, Any], given: dict[str, Any]) -> Any:
    """The value tree recorded for arguments `given` among one function's calls, else UNSET.

    The exact key first; else a call whose arguments are equal up to rounding (floats within 1e-9,
    relative): a student's computer may compute the same inputs a bit apart (another BLAS, say).
    """
    try:
        found = calls.get(call_key(given))
    except Unkeyable:
        return UNSET
    if found is not None:
        return found["value"]
    for call in calls.values():
        if call.get("args") is not None and _close(given, from_tree(call["args"])):
            return call["value"]
    return UNSET


def _close(a: Any, b: Any) -> bool:
    rtol, atol = 1e-9, 1e-12
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind == "f":
            return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, np.floating)):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return all(_close(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


def unavailable(qualified: str) -> None:
    """Fail the current test: it needs `qualified` from the reference, which no kit holds."""
    raise NotInKit(
        f"This check needs {qualified} from the reference solution, which {NOT_IN_KIT}. The check runs "
        "in full when you submit."
    )


def stands_in_for(target: str):
    """Mark a grader function as the kit's stand-in for `target` ("graders.<name>.<module>.<function>").

    For a function whose arguments come from the student's code (so no recording can cover them):
    the kit calls the stand-in instead, and `nngrade kit` checks, on every call it records, that
    both give the same answer.
    """

    def mark(function):
        function.__nngrade_stands_in_for__ = target
        return function

    return mark
