"""The only format that crosses the sandbox boundary: a JSON header plus raw numeric buffers.

Nothing from the worker is ever unpickled. The decoder is the security boundary: it treats
every byte as hostile, accepts only a closed set of tagged JSON shapes and plain numeric
dtypes, checks every size and offset, and builds fresh objects of exact built-in types, so
the grader never holds (or calls a method of) an object the student made.

Wire layout of one message: 8-byte big-endian header length, the UTF-8 JSON header, then
the array buffers back to back. In the header, plain JSON stands for itself except:
  {"$t": [...]}                       a tuple
  {"$d": [[key, value], ...]}         a dict with str keys (a list keeps key order exactly)
  {"$f": "nan" | "inf" | "-inf"}      a non-finite float
  {"$a": [dtype, shape, offset]}      an ndarray whose bytes start at buffer offset
  {"$s": [dtype, offset]}             a numpy scalar (stored like a 0-d array)
"""

from __future__ import annotations

import functools
import json
import math
import struct
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64
# A driver argument {KEPT: name} stands for a value sent to the worker once (Sandbox.keep): the
# hw2 grader's 25 MB training set then crosses the pipe once per submission, not once per model.
KEPT = "$kept"
_HEADER_LEN = struct.Struct(">Q")

# Plain numeric dtypes only: no objects, strings, structured records, datetimes or complex.
# Spelled out (these are numpy's little-endian dtype strings) so that importing the codec does not
# import numpy: a worker grading a pure-Python submission never loads it (0.1 s of CPU each).
_ALLOWED_DTYPES = frozenset(
    ("|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8")
)


def _numpy():
    """numpy, imported on first need: decoding an array, or encoding one (numpy is loaded then)."""
    import numpy

    return numpy


@functools.lru_cache(maxsize=1)
def _numpy_scalars(np) -> frozenset:
    return frozenset(np.dtype(code).type for code in _ALLOWED_DTYPES)


class CodecError(Exception):
    """A value cannot be sent, or received bytes are not a valid message."""


class UnsupportedType(CodecError):
    """The value (or something inside it) is of a type the codec refuses to carry."""


# ---------------------------------------------------------------------------------------------
# Encoding (used on both sides; the worker's copy may be tampered with, which the decoder expects)
# ---------------------------------------------------------------------------------------------


def encode(value: Any, max_bytes: int = MAX_MESSAGE_BYTES) -> bytearray:
    """Serialise value into one message; raises UnsupportedType naming the offending path."""
    buffers: list[np.ndarray] = []
    offset = [0]
    # No value can hold a numpy object unless numpy was imported (by the caller or the student).
    np = sys.modules.get("numpy")
    scalars = _numpy_scalars(np) if np is not None else frozenset()

    def add_buffer(array: np.ndarray) -> int:
        # Kept as arrays and copied once into the message: large arrays are the common case.
        start = offset[0]
        buffers.append(array.reshape(-1).view(np.uint8))
        offset[0] += array.nbytes
        if offset[0] > max_bytes:
            raise CodecError(f"message larger than the {max_bytes} byte limit")
        return start

    def enc(v: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise UnsupportedType(f"{path}: nested deeper than {MAX_DEPTH} levels")
        t = type(v)  # exact types only: a subclass could override any method we call
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v
        if t is float:
            return v if math.isfinite(v) else {"$f": repr(v)}
        if t is list:
            return [enc(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v)]
        if t is tuple:
            return {"$t": [enc(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v)]}
        if t is dict:
            pairs = []
            for k, x in v.items():
                if type(k) is not str:
                    raise UnsupportedType(
                        f"{path}: dict key {type(k).__name__} (only str keys are supported)"
                    )
                pairs.append([k, enc(x, f"{path}[{k!r}]", depth + 1)])
            return {"$d": pairs}
        if np is not None and isinstance(v, np.ndarray):
            # Subclasses are carried as plain arrays; view() through the base class avoids their methods.
            plain = np.ndarray.view(v, np.ndarray)
            dtype = _wire_dtype(plain.dtype, path)
            data = plain.astype(dtype, order="C", copy=False)
            return {"$a": [dtype.str, list(data.shape), add_buffer(data)]}
        if t in scalars:
            dtype = _wire_dtype(np.dtype(t), path)
            return {"$s": [dtype.str, add_buffer(np.asarray(v, dtype=dtype))]}
        raise UnsupportedType(f"{path}: unsupported type {t.__module__}.{t.__qualname__}")

    header = json.dumps(enc(value, "value", 0), allow_nan=False, separators=(",", ":")).encode()
    prefix = _HEADER_LEN.pack(len(header)) + header
    if len(prefix) + offset[0] > max_bytes:
        raise CodecError(f"message of {len(prefix) + offset[0]} bytes is over the {max_bytes} byte limit")
    message = bytearray(len(prefix) + offset[0])
    message[: len(prefix)] = prefix
    if buffers:
        dest = np.frombuffer(message, dtype=np.uint8)
        pos = len(prefix)
        for chunk in buffers:
            dest[pos : pos + chunk.size] = chunk
            pos += chunk.size
        del dest  # release the export, so the bytearray is an ordinary object again
    return message


def _wire_dtype(dtype: np.dtype, path: str) -> np.dtype:
    little = dtype.newbyteorder("<") if dtype.byteorder in ">=" else dtype
    if dtype.fields is not None or dtype.subdtype is not None or little.str not in _ALLOWED_DTYPES:
        raise UnsupportedType(f"{path}: unsupported array dtype {dtype} (only bool, int and float arrays)")
    return little


# ---------------------------------------------------------------------------------------------
# Decoding: the boundary. Every check here assumes the bytes were written by an attacker.
# ---------------------------------------------------------------------------------------------


def decode(message: bytes | bytearray, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Rebuild the value from one message; raises CodecError on anything malformed."""
    if len(message) > max_bytes:
        raise CodecError(f"message of {len(message)} bytes is over the {max_bytes} byte limit")
    if len(message) < _HEADER_LEN.size:
        raise CodecError("message shorter than its length prefix")
    (header_len,) = _HEADER_LEN.unpack_from(message)
    if header_len > len(message) - _HEADER_LEN.size:
        raise CodecError("header length points past the end of the message")
    body = memoryview(message)[_HEADER_LEN.size + header_len :]
    try:
        tree = json.loads(
            bytes(message[_HEADER_LEN.size : _HEADER_LEN.size + header_len]), parse_constant=_no_constants
        )
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"header is not valid JSON: {exc}") from exc
    return _dec(tree, body, 0)


def _no_constants(name: str) -> Any:
    raise CodecError(f"bare {name} in header (non-finite floats must be tagged)")


def _dec(node: Any, body: memoryview, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    t = type(node)
    if node is None or t in (bool, int, str):
        return node
    if t is float:
        return node
    if t is list:
        return [_dec(x, body, depth + 1) for x in node]
    if t is not dict or len(node) != 1:
        raise CodecError("header holds an untagged object")
    ((tag, payload),) = node.items()
    if tag == "$t" and type(payload) is list:
        return tuple(_dec(x, body, depth + 1) for x in payload)
    if tag == "$d" and type(payload) is list:
        out = {}
        for pair in payload:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise CodecError("malformed dict entry")
            out[pair[0]] = _dec(pair[1], body, depth + 1)
        return out
    if tag == "$f" and payload in ("nan", "inf", "-inf"):
        return float(payload)
    if tag == "$a" and type(payload) is list and len(payload) == 3:
        dtype_str, shape, offset = payload
        if type(shape) is not list or not all(type(n) is int and 0 <= n for n in shape):
            raise CodecError("malformed array shape")
        return _read_array(body, dtype_str, tuple(shape), offset)
    if tag == "$s" and type(payload) is list and len(payload) == 2:
        array = _read_array(body, payload[0], (), payload[1])
        return array[()]
    raise CodecError(f"unknown or malformed tag {tag!r}")


def _read_array(body: memoryview, dtype_str: Any, shape: tuple[int, ...], offset: Any) -> np.ndarray:
    if type(dtype_str) is not str or dtype_str not in _ALLOWED_DTYPES:
        raise CodecError(f"array dtype {dtype_str!r} is not allowed")
    if type(offset) is not int or offset < 0:
        raise CodecError("malformed array offset")
    if len(shape) > 32:
        raise CodecError("array has too many dimensions")
    np = _numpy()
    dtype = np.dtype(dtype_str)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if offset + nbytes > len(body):
        raise CodecError("array bytes run past the end of the message")
    # A fresh, writable, native-order copy: nothing aliases the message buffer.
    flat = np.frombuffer(body, dtype=dtype, count=count, offset=offset) if count else np.empty(0, dtype)
    try:
        return flat.astype(dtype.newbyteorder("="), copy=True).reshape(shape)
    except ValueError as exc:  # e.g. an empty array declared with an absurd shape
        raise CodecError(f"malformed array shape {shape}: {exc}") from exc
