"""The codec round-trips what graders need and refuses everything else, on both sides."""

from __future__ import annotations

import json
import math
import pickle
import struct

import numpy as np
import pytest

from graders.engine.codec import CodecError, UnsupportedType, decode, encode


def round_trip(value):
    return decode(encode(value))


def header_message(tree, body=b""):
    header = json.dumps(tree).encode()
    return struct.pack(">Q", len(header)) + header + body


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -(2**70),
        1.5,
        "héllo",
        [],
        (),
        {},
        [1, (2, 3)],
        {"a": {"b": [None]}},
        ("x", [1.0, None]),
    ],
)
def test_plain_values_round_trip_with_exact_types(value):
    got = round_trip(value)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf])
def test_non_finite_floats(x):
    got = round_trip([x])[0]
    assert type(got) is float
    assert (math.isnan(got) and math.isnan(x)) or got == x


@pytest.mark.parametrize(
    "dtype", ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", ">f8", ">i4"]
)
def test_arrays_keep_dtype_shape_and_values(dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 2)) * 50).astype(dtype)
    got = round_trip({"a": array})["a"]
    assert type(got) is np.ndarray
    assert got.dtype == np.dtype(dtype).newbyteorder("=")
    assert got.shape == array.shape
    np.testing.assert_array_equal(got, array)
    assert got.flags.writeable and got.flags.c_contiguous


def test_special_arrays_nan_inf_empty_noncontiguous_zero_d():
    a = np.array([np.nan, np.inf, -np.inf, -0.0])
    np.testing.assert_array_equal(round_trip(a), a)
    assert round_trip(np.zeros((0, 5))).shape == (0, 5)
    b = np.arange(20.0).reshape(4, 5)[:, ::2].T
    np.testing.assert_array_equal(round_trip(b), b)
    assert round_trip(np.array(3.5)).shape == ()


def test_numpy_scalars_keep_their_type():
    for scalar in (np.float32(1.25), np.int64(-7), np.bool_(True), np.float64("nan")):
        got = round_trip(scalar)
        assert type(got) is type(scalar)
        np.testing.assert_array_equal(got, scalar)


def test_dict_key_order_is_kept():
    assert list(round_trip({"b": 1, "a": 2, "c": 3})) == ["b", "a", "c"]


def test_ndarray_subclass_becomes_plain_array_without_calling_its_methods():
    calls = []

    class Sneaky(np.ndarray):
        def __eq__(self, other):
            calls.append("eq")
            return True

        def tobytes(self, *a, **k):
            calls.append("tobytes")
            return b""

        def __array_finalize__(self, obj):
            calls.append("finalize")

    arr = np.arange(4.0).view(Sneaky)
    calls.clear()
    got = round_trip(arr)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, [0, 1, 2, 3])
    assert calls == []


class AlwaysEqual:
    def __eq__(self, other):
        return True


class Payload:
    def __reduce__(self):
        return (print, ("never",))


class FloatLike(float):
    pass


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (AlwaysEqual(), "value"),
        ({"loss": Payload()}, "value['loss']"),
        ([1, FloatLike(2.0)], "value[1]"),
        (np.array([object()], dtype=object), "dtype object"),
        (np.array(["a"]), "dtype <U1"),
        (np.zeros(2, dtype=complex), "complex128"),
        (np.zeros(2, dtype=[("a", "f8")]), "dtype"),
        ({1: 2}, "dict key int"),
        ({1, 2}, "set"),
        (b"bytes", "bytes"),
    ],
)
def test_unsupported_values_are_refused_with_a_path(value, where):
    with pytest.raises(UnsupportedType, match="unsupported|key") as exc:
        encode(value)
    assert where.split()[-1] in str(exc.value)


def test_deep_nesting_is_refused():
    value = []
    for _ in range(100):
        value = [value]
    with pytest.raises(UnsupportedType, match="deeper"):
        encode(value)


def test_size_cap_on_both_sides():
    with pytest.raises(CodecError, match="limit"):
        encode(np.zeros(1000), max_bytes=1000)
    message = encode(np.zeros(1000))
    with pytest.raises(CodecError, match="limit"):
        decode(message, max_bytes=1000)


def test_same_value_gives_identical_bytes():
    value = {"loss": 0.1 + 0.2, "probs": np.linspace(0, 1, 7).reshape(7, 1), "t": (np.float32(3), [None])}
    assert encode(value) == encode(value)


HOSTILE = [
    pytest.param(b"", id="empty"),
    pytest.param(b"\x00\x00\x00\x00\x00\x00\x00\xff{}", id="header-past-end"),
    pytest.param(pickle.dumps({"a": 1}), id="a-pickle"),
    pytest.param(header_message({"$a": ["|O", [1], 0]}, b"\0" * 8), id="object-dtype"),
    pytest.param(header_message({"$a": ["<f8", [10], 0]}, b"\0" * 8), id="array-past-end"),
    pytest.param(header_message({"$a": ["<f8", [-1], 0]}), id="negative-shape"),
    pytest.param(header_message({"$a": ["<f8", [1], -8]}, b"\0" * 8), id="negative-offset"),
    pytest.param(header_message({"$a": ["<f8", [0, 2**62, 2**62], 0]}), id="absurd-empty-shape"),
    pytest.param(header_message({"__reduce__": 1}), id="untagged-object"),
    pytest.param(header_message({"$d": [[1, 2]]}), id="non-str-key"),
    pytest.param(header_message({"$f": "1e999"}), id="bad-float-tag"),
    pytest.param(header_message({"$x": 1}), id="unknown-tag"),
    pytest.param(struct.pack(">Q", 3) + b"NaN", id="bare-nan"),
    pytest.param(struct.pack(">Q", 4) + b"[[[[", id="bad-json"),
    pytest.param(header_message(json.loads("[" * 70 + "]" * 70)), id="too-deep"),
]


@pytest.mark.parametrize("message", HOSTILE)
def test_decoder_rejects_hostile_bytes(message):
    with pytest.raises(CodecError):
        decode(message)


def test_decoded_arrays_do_not_alias_the_message():
    message = bytearray(encode(np.arange(4.0)))
    got = decode(bytes(message))
    got[0] = 99.0
    assert decode(bytes(message))[0] == 0.0


def test_allowed_dtypes_are_numpy_plain_numeric_dtypes():
    """The codec spells its dtype list out (so importing it does not import numpy); numpy agrees."""
    from graders.engine import codec

    plain = ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")
    assert codec._ALLOWED_DTYPES == {np.dtype(c).newbyteorder("<").str for c in plain}


def test_importing_the_codec_does_not_import_numpy_and_plain_values_need_none():
    """A worker grading a pure-Python submission never pays for numpy."""
    import subprocess
    import sys
    from pathlib import Path

    import graders.engine.codec as codec

    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import codec;"
        "m = codec.encode({'a': (1, 2.5, float('nan')), 'b': ['x', None]});"
        "v = codec.decode(m); assert v['a'][:2] == (1, 2.5) and v['b'] == ['x', None], v;"
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", script, str(Path(codec.__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
