"""Comparisons against the reference and gradient checks, each failing with a message for the student.

Checks assert, never print: a failure is a CheckFailure whose str is exactly what the student reads,
naming what is wrong and where (the worst entry, both values, the relative error). Which common
mistake a wrong gradient looks like is diagnosis.py's job.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class CheckFailure(AssertionError):
    """A failed check; str(failure) is the whole message for the student."""


# (rtol, atol) by the itemsize of the least precise float compared. Measured on 20 MNIST batches (B = 50, real
# and MNIST-like digits standardised, He-initialised 784-392-10 MLPs with and without the skip layer, stable
# and naive softmax): a correct float32 forward and backward differs from float64 by at most 1.4e-6 absolute
# (probs; 1.1e-7 on dW1), while entries of dW1 that cancel to near zero are off by up to 1e-3 relative, so
# atol must carry those. rtol 1e-4 is eps32 (1.19e-7) x 784, the worst-case relative error of one 784-long
# float32 dot product; atol 1e-5 is 7x the largest absolute error seen and 500x below the typical entry of
# dW1 (rms >= 5.8e-3): a correct float32 result used at most 3% of the allowance, while a mistake off by
# a factor of 2 or in sign fails on nearly every entry (tests/engine/test_checks.py prints both). Equivalent
# float64 formulas agree to 2.6e-15 absolute and 3.5e-13 relative: 1e-7 and 1e-9 leave a margin over 1e5
# yet still notice a float32 detour. float16 is scaled from float32 by sqrt(784) x eps16.
_TOLERANCES = {2: (3e-2, 1e-3), 4: (1e-4, 1e-5), 8: (1e-7, 1e-9)}

_NONFINITE_HINT = "NaN and inf usually come from exp() of a large number or from log(0)."


def tolerances(*dtypes) -> tuple[float, float]:
    """(rtol, atol) for comparing values of these dtypes, set by the least precise float among them."""
    if not dtypes:
        raise TypeError("tolerances() needs at least one dtype")
    sizes = [8]  # integers and booleans are exact, so alone they leave the float64 tolerances
    for dtype in dtypes:
        dtype = dtype.dtype if isinstance(dtype, (np.ndarray, np.generic)) else np.dtype(dtype)
        if dtype.kind == "f":
            sizes.append(dtype.itemsize)
        elif dtype.kind == "c":
            sizes.append(dtype.itemsize // 2)
    return _TOLERANCES[min(2 if s <= 2 else 4 if s <= 4 else 8 for s in sizes)]


def _fmt(value) -> str:
    return f"{value.item() if hasattr(value, 'item') else value:.4g}"


def _fmt_pair(got, want) -> tuple[str, str]:
    """Both numbers with 4 significant digits, or more where 4 would print them the same."""
    got, want = (v.item() if hasattr(v, "item") else v for v in (got, want))
    for digits in (4, 6, 8, 10, 12, 17):
        pair = f"{got:.{digits}g}", f"{want:.{digits}g}"
        if pair[0] != pair[1]:
            break
    return pair


def _fmt_rel(rel: float) -> str:
    return f"{rel:.2f}" if 0.01 <= rel < 1000 else f"{rel:.1e}"


def _index(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _what(expected: np.ndarray | None) -> str:
    if expected is None:
        return "a number or an array of numbers"
    return "a single number" if expected.ndim == 0 else f"an array of shape {expected.shape}"


def expected_array(value, what: str = "expected") -> np.ndarray:
    """A grader's own value as an ndarray of numbers; anything else is a bug in the grader (TypeError)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{what} must be numeric, got dtype {array.dtype}")
    return array


def student_array(value, *, name: str, expected: np.ndarray | None = None) -> np.ndarray:
    """A student's value as an ndarray, or a CheckFailure saying why it cannot be one."""
    if value is None:
        raise CheckFailure(f"`{name}` is None — did you forget to return it?")
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (np.generic, int, float, complex)):  # bool is an int; its kind is judged later
        return np.asarray(value)
    should = _what(expected)
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):  # ragged: items of different shapes
            array = None
        if array is not None and array.dtype.kind in "biufc":
            return array
        kind = type(value).__name__
        hint = " — did you return several values where one was expected?" if kind == "tuple" else "."
        raise CheckFailure(
            f"`{name}` is a {kind} of {len(value)} items that do not form one array of numbers, "
            f"but should be {should}{hint}"
        )
    raise CheckFailure(f"`{name}` is a {type(value).__name__}, but should be {should}.")


def _shape_message(name: str, got: tuple, want: tuple) -> str:
    if want == ():
        hint = (
            "return it as a plain number, e.g. with float(...)"
            if math.prod(got) == 1
            else "did you forget to reduce it, e.g. with the mean over the batch?"
        )
        return f"`{name}` has shape {got} but should be a single number — {hint}"
    if got == ():
        return f"`{name}` is a single number but should be an array of shape {want}."
    hint = ""
    if len(got) == 2 and got == want[::-1]:
        hint = " — transposed?"
    elif [d for d in got if d != 1] == [d for d in want if d != 1]:
        extra = len(got) > len(want)
        hint = " — an extra axis of length 1 (keepdims=True?)" if extra else " — a missing axis of length 1?"
    elif math.prod(got) == math.prod(want):
        hint = " — the same number of entries, arranged differently?"
    return f"`{name}` has shape {got} but should be {want}{hint or '.'}"


_KIND_WORDS = {"b": "True/False values", "i": "integers", "u": "integers", "f": "floating-point numbers"}
_KIND_WORDS.update({"c": "complex numbers", "O": "Python objects", "U": "text", "S": "bytes"})


def _check_kind(got: np.ndarray, name: str, want_kind: str = "f") -> None:
    allowed = "iuf" + (want_kind if want_kind in "bc" else "")
    if got.dtype.kind not in allowed:
        holds = _KIND_WORDS.get(got.dtype.kind, "values that are not numbers")
        raise CheckFailure(
            f"`{name}` holds {holds} (dtype {got.dtype}) but should hold {_KIND_WORDS[want_kind]}."
        )


def _check_finite(got: np.ndarray, name: str, expected: np.ndarray | None = None) -> None:
    """Fail on NaN or inf in got, except where expected itself holds one (that is compared as a value)."""
    bad = ~np.isfinite(got)
    if expected is not None:
        bad &= np.isfinite(expected)
    if not bad.any():
        return
    first = tuple(np.argwhere(bad)[0])
    word = "NaN" if np.isnan(got[first]) else _fmt(got[first])
    if got.ndim == 0:
        should = "a finite number" if expected is None else f"{_fmt(expected)}"
        raise CheckFailure(f"`{name}` is {word}, but should be {should}. {_NONFINITE_HINT}")
    where = "" if expected is None else f" where {_fmt(expected[first])} is expected"
    count = int(bad.sum())
    more = f" ({count} of {got.size} entries are NaN or inf)" if count > 1 else ""
    raise CheckFailure(f"`{name}` contains {word} at {_index(first)}{where}{more}. {_NONFINITE_HINT}")


def comparison_tolerances(value, got: np.ndarray, want: np.ndarray, rtol, atol) -> tuple[float, float]:
    """The explicit tolerances where given, else tolerances() of the two dtypes."""
    # A Python number or list says nothing about the precision it was computed in (float() of a float32
    # loss is a Python float), so it is judged as float32 rather than failing a correct float32 computation.
    own = got.dtype if isinstance(value, (np.ndarray, np.generic)) else np.dtype(np.float32)
    default_rtol, default_atol = tolerances(own, want.dtype)
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    return rtol, atol


def tolerance_ratio(actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float) -> np.ndarray:
    """|actual - expected| / (atol + rtol * |expected|) per entry: an entry above 1 is out of tolerance.

    Equal non-finite values (NaN and NaN, inf and inf) count as equal; any other non-finite difference
    is infinitely far out.
    """
    dtype = np.complex128 if np.iscomplexobj(actual) or np.iscomplexobj(expected) else np.float64
    a, e = np.asarray(actual, dtype=dtype), np.asarray(expected, dtype=dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(a - e)
        ratio = np.where(diff == 0, 0.0, diff / (atol + rtol * np.abs(e)))
    ratio = np.where((a == e) | (np.isnan(a) & np.isnan(e)), 0.0, ratio)
    return np.where(np.isnan(ratio), np.inf, ratio)


def _relative_error(got, want) -> str:
    got, want = complex(got), complex(want)
    if want == 0:
        return f"absolute error {abs(got):.2g}"
    return f"relative error {_fmt_rel(abs(got - want) / abs(want))}"


def assert_close(actual, expected, *, name: str, rtol: float | None = None, atol: float | None = None):
    """Raise CheckFailure, worded for the student, unless actual equals expected within tolerance.

    In order: actual is None; is not a number, an array or a list of numbers; has the wrong shape; holds
    booleans, complex numbers or objects where numbers are expected; has NaN or inf where expected is
    finite; has values out of tolerance, |actual - expected| <= atol + rtol * |expected| entry by entry.
    Tolerances default to tolerances() of both dtypes.
    """
    want = expected_array(expected)
    got = student_array(actual, name=name, expected=want)
    if got.shape != want.shape:
        raise CheckFailure(_shape_message(name, got.shape, want.shape))
    _check_kind(got, name, want.dtype.kind)
    _check_finite(got, name, want)
    rtol, atol = comparison_tolerances(actual, got, want, rtol, atol)
    ratio = tolerance_ratio(got, want, rtol=rtol, atol=atol)
    wrong = int((ratio > 1).sum())
    if wrong == 0:
        return
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    shown_got, shown_want = _fmt_pair(got[worst], want[worst])
    rel = _relative_error(got[worst], want[worst])
    allowed = f"Allowed: |got - expected| <= {atol:g} + {rtol:g}·|expected|."
    if got.ndim == 0:
        raise CheckFailure(f"`{name}` is {shown_got} but should be {shown_want} ({rel}). {allowed}")
    raise CheckFailure(
        f"`{name}` is wrong: {wrong} of {got.size} entries differ; worst at {_index(worst)}: "
        f"got {shown_got}, expected {shown_want} ({rel}). {allowed}"
    )


def assert_finite(value, *, name: str) -> None:
    """Raise CheckFailure unless value is a number or array of numbers with no NaN or inf."""
    got = student_array(value, name=name)
    _check_kind(got, name)
    _check_finite(got, name)


def assert_not_mutated(before, after, *, name: str) -> None:
    """Raise CheckFailure if an input differs after the student's call from the copy taken before it."""
    before, after = np.asarray(before), np.asarray(after)
    advice = "Work on a copy (e.g. x = x.copy()) instead of changing an input in place."
    if before.shape != after.shape or before.dtype != after.dtype:
        was, now = (f"shape {a.shape} and dtype {a.dtype}" for a in (before, after))
        raise CheckFailure(f"`{name}` was changed by your function from {was} to {now}. {advice}")
    same = before == after
    if before.dtype.kind in "fc":
        same |= np.isnan(before) & np.isnan(after)
    if same.all():
        return
    first = tuple(np.argwhere(~same)[0])
    was, now = _fmt_pair(before[first], after[first])
    where = "" if before.ndim == 0 else f" at {_index(first)}"
    count = f" ({int((~same).sum())} of {before.size} entries changed)" if before.ndim else ""
    raise CheckFailure(f"`{name}` was changed by your function{count}{where}: {was} became {now}. {advice}")


# ---------------------------------------------------------------------------------------------
# Gradient checks by central differences, in float64
# ---------------------------------------------------------------------------------------------

# Rounding in f(x +- eps) blurs the slope measured by central differences by about ulp(|f|) / eps; 64 ulps
# allows for a whole forward pass of rounding. A disagreement within that blur is noise, not a mistake.
_SLOPE_NOISE_ULPS = 64 * np.finfo(np.float64).eps


class _Loss:
    """f wrapped to count its calls, pass it a fresh copy (f may write to it) and demand a finite number."""

    def __init__(self, f: Callable[[np.ndarray], float], name: str) -> None:
        self.f, self.calls, self.largest = f, 0, 1.0
        self.title = name[:1].upper() + name[1:]  # it starts the sentence

    def __call__(self, x: np.ndarray, where: str) -> float:
        self.calls += 1
        value = self.f(x.copy())
        if value is None:
            raise CheckFailure(f"{self.title} is None {where} — did you forget to return it?")
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            kind = type(value).__name__
            raise CheckFailure(f"{self.title} should be a single number, but is a {kind}.") from None
        if array.size != 1:
            raise CheckFailure(
                f"{self.title} should be a single number, but has shape {array.shape} — is a mean missing?"
            )
        result = float(array.reshape(()))
        if not math.isfinite(result):
            word = "NaN" if math.isnan(result) else f"{result}"
            raise CheckFailure(
                f"{self.title} is {word} {where}, so its gradient cannot be checked there. {_NONFINITE_HINT}"
            )
        self.largest = max(self.largest, abs(result))
        return result

    def slope_noise(self, eps: float) -> float:
        return _SLOPE_NOISE_ULPS * self.largest / eps


def _float64_point(x) -> np.ndarray:
    x = np.array(x, dtype=np.float64)  # a copy: nudging it must not touch the caller's array
    if not np.isfinite(x).all():
        raise ValueError("the point x of a gradient check must be finite")
    return x


def _central_differences(loss: _Loss, x: np.ndarray, eps: float) -> np.ndarray:
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        idx = _index(np.unravel_index(i, x.shape)) if x.ndim else "the input"
        old = flat[i]
        flat[i] = old + eps
        plus = loss(x, f"when entry {idx} is moved by +{eps:g}")
        flat[i] = old - eps
        minus = loss(x, f"when entry {idx} is moved by -{eps:g}")
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def numerical_gradient(
    f: Callable[[np.ndarray], float], x, *, eps: float = 1e-6, name: str = "the loss"
) -> np.ndarray:
    """Central differences of f at x (any shape), entry by entry in float64; calls f 2 * x.size times."""
    return _central_differences(_Loss(f, name), _float64_point(x), eps)


@dataclass(frozen=True)
class GradientCheck:
    """The outcome of check_gradient; message is written for the student either way."""

    ok: bool
    max_rel_error: float
    method: str  # "elementwise" or "directions"
    forward_calls: int
    message: str


def _symmetric_error(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def check_gradient(
    f: Callable[[np.ndarray], float],
    x,
    analytic,
    *,
    eps: float = 1e-6,
    elementwise_limit: int = 64,
    directions: int = 4,
    rng: np.random.Generator | int | None = None,
    rtol: float = 1e-5,
    name: str = "the loss",
) -> GradientCheck:
    """Compare an analytic gradient of f at x (same shape as x) with central differences of f, in float64.

    Entry by entry when x.size <= elementwise_limit (2 * x.size calls of f), otherwise along `directions`
    random unit directions d, comparing (f(x + eps d) - f(x - eps d)) / (2 eps) with <analytic, d> (2 calls
    each, whatever x.size). The error is |a - n| / (|a| + |n|), floored so that slopes within the rounding
    noise of f compare as equal. A wrong gradient gives ok=False; CheckFailure only if f is not finite.
    rng None means seed 0, so a regrade draws the same directions. f should compute in float64.
    """
    if not (rtol > 0 and directions >= 1 and elementwise_limit >= 0):
        raise ValueError("check_gradient needs rtol > 0, directions >= 1 and elementwise_limit >= 0")
    x = _float64_point(x)
    method = "elementwise" if x.size <= elementwise_limit else "directions"
    try:
        grad = student_array(analytic, name="gradient", expected=x)
        if grad.shape != x.shape:
            raise CheckFailure(_shape_message("gradient", grad.shape, x.shape))
        _check_kind(grad, "gradient")
        _check_finite(grad, "gradient")
    except CheckFailure as failure:
        return GradientCheck(False, math.inf, method, 0, str(failure))
    grad = grad.astype(np.float64)
    loss = _Loss(f, name)

    if method == "elementwise":
        numeric = _central_differences(loss, x, eps)
        errors = _symmetric_error(grad, numeric, loss.slope_noise(eps) / rtol)
        worst = np.unravel_index(int(np.argmax(errors)), errors.shape) if errors.size else ()
        wrong = int((errors > rtol).sum())
        max_error = float(errors.max(initial=0.0))
        shown = _fmt_pair(grad[worst], numeric[worst]) if errors.size else ("", "")
        detail = (
            f"{wrong} of {x.size} entries differ; worst at {_index(worst)}: "
            f"analytic {shown[0]}, numerical {shown[1]} (relative error {_fmt_rel(max_error)})"
        )
    else:
        rng = np.random.default_rng(0 if rng is None else rng)
        predicted, measured = np.empty(directions), np.empty(directions)
        for k in range(directions):
            d = rng.standard_normal(x.shape)
            d /= np.linalg.norm(d)
            where = f"when the input is moved by {eps:g} along a random direction"
            plus, minus = loss(x + eps * d, where), loss(x - eps * d, where)
            measured[k], predicted[k] = (plus - minus) / (2 * eps), float(np.sum(grad * d))
        errors = _symmetric_error(predicted, measured, loss.slope_noise(eps) / rtol)
        k = int(np.argmax(errors))
        wrong, max_error = int((errors > rtol).sum()), float(errors[k])
        shown = _fmt_pair(predicted[k], measured[k])
        detail = (
            f"along {wrong} of {directions} random directions its slope is off; worst: the gradient predicts "
            f"{shown[0]}, {name} changes at {shown[1]} (relative error {_fmt_rel(max_error)})"
        )
    if wrong:
        message = f"The gradient does not match central differences of {name}: {detail}."
    else:
        message = (
            f"The gradient matches central differences of {name} "
            f"({method}, largest relative error {max_error:.1e}, {loss.calls} evaluations)."
        )
    return GradientCheck(wrong == 0, max_error, method, loss.calls, message)
