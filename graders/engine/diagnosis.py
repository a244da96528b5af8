"""Which common mistake a wrong gradient looks like, said as a sentence a student can act on.

A candidate is the gradient a known mistake would produce, built from the expected one (times B, over B,
times 2, halved, negated, transposed) or given by the grader as a named variant. A candidate matches
when it passes assert_close's test with the same tolerances; the closest match wins, and when nothing
matches the answer is None rather than a guess. Wrong shapes are read from the shapes alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from graders.engine.checks import (
    CheckFailure,
    assert_close,
    comparison_tolerances,
    expected_array,
    student_array,
    tolerance_ratio,
)

NO_VARIANTS: Mapping[str, np.ndarray] = MappingProxyType({})

_TRANSPOSE_ADVICE = (
    "a weight's gradient has the weight's own (in, out) layout: for s = x @ W it is dW = xᵀ @ ds, not dsᵀ @ x"
)


@dataclass(frozen=True)
class _Mistake:
    looks_like: str  # completes "This looks like ..."
    advice: str  # what to check; may be empty
    gradient: np.ndarray  # what the mistake would produce

    def explained(self) -> str:
        return f"{self.looks_like}: {self.advice}" if self.advice else self.looks_like


def _generic_mistakes(expected: np.ndarray, batch_size: int | None) -> list[_Mistake]:
    mistakes = []
    if batch_size is not None and batch_size >= 2:
        b = batch_size
        mistakes += [
            _Mistake(
                f"the gradient without the 1/B factor (it is B = {b} times too large)",
                "the loss is a mean over the batch, so its gradient must be divided by B",
                expected * b,
            ),
            _Mistake(
                f"the gradient divided by B twice (it is B = {b} times too small)",
                "divide by the batch size only once, where the loss takes its mean over the batch",
                expected / b,
            ),
        ]
    mistakes += [
        _Mistake(
            "the gradient times 2",
            "look for a contribution counted twice, such as a gradient accumulated twice, "
            "or the derivative of x² used where the loss has ½x²",
            expected * 2,
        ),
        _Mistake(
            "half of the gradient",
            "look for a missing factor of 2 (the derivative of x² is 2x) "
            "or one of two equal contributions left out",
            expected / 2,
        ),
        _Mistake(
            "the gradient with the wrong sign",
            "check the sign of each term; for example, the gradient of −log softmax with respect to the "
            "scores is probs − onehot, not onehot − probs",
            -expected,
        ),
    ]
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1]:
        mistakes.append(_Mistake("the transpose of the gradient", _TRANSPOSE_ADVICE, expected.T))
    return mistakes


def _closest(actual: np.ndarray, mistakes: list[_Mistake], rtol: float, atol: float) -> _Mistake | None:
    """The mistake whose gradient is nearest to actual among those within tolerance of it (ties: first)."""
    best, best_score = None, 1.0
    for mistake in mistakes:
        if mistake.gradient.shape != actual.shape:
            continue
        score = float(tolerance_ratio(actual, mistake.gradient, rtol=rtol, atol=atol).max(initial=0.0))
        if score < best_score or (score == best_score and best is None):
            best, best_score = mistake, score
    return best


def _removing_one_axis(longer: tuple, shorter: tuple, prefer: int | None) -> int | None:
    """The axis of `longer` whose removal leaves `shorter` (one of length `prefer` if several), or None."""
    axes = [k for k in range(len(longer)) if longer[:k] + longer[k + 1 :] == shorter]
    preferred = [k for k in axes if longer[k] == prefer]
    return (preferred or axes or [None])[0]


def _from_shapes(got: tuple, want: tuple, batch_size: int | None) -> str | None:
    """A sentence for a gradient summed over the wrong axis, or not summed, judged by shape alone."""
    if len(got) == len(want) + 1:
        axis = _removing_one_axis(got, want, batch_size)
        if axis is None or got[axis] == 1:  # a stray axis of length 1 is assert_close's to point out
            return None
        if got[axis] == batch_size:
            return (
                f"It has shape {got}, one entry per example along axis {axis}, where {want} was expected: "
                f"a parameter's gradient adds up the contributions of all {batch_size} examples, "
                f"so sum over axis {axis}."
            )
        return (
            f"It has shape {got} where {want} was expected: "
            f"it looks like a sum over axis {axis} (of length {got[axis]}) is missing."
        )
    if len(got) == len(want) - 1:
        axis = _removing_one_axis(want, got, None)
        if axis is None or want[axis] == 1:
            return None
        return (
            f"It has shape {got} where {want} was expected: it looks summed (or averaged) over "
            f"axis {axis} (of length {want[axis]}), which should be kept."
        )
    if len(got) == len(want) == 1 and batch_size is not None and got[0] == batch_size != want[0]:
        return (
            f"It has shape {got}, one value per example, where {want} was expected: it looks summed over "
            "the wrong axis; sum over axis 0 (the batch), not axis 1."
        )
    return None


def diagnose(
    actual,
    expected,
    *,
    batch_size: int | None = None,
    variants: Mapping[str, np.ndarray] = NO_VARIANTS,
    rtol: float | None = None,
    atol: float | None = None,
) -> str | None:
    """A sentence saying which common mistake a wrong gradient looks like, or None if none fits.

    actual: the student's gradient; expected: the correct one; batch_size: B where the loss is a mean over
    a batch of B; variants: a description of a mistake (completing "the gradient you get when ...") ->
    the gradient it produces, of any shape. Tolerances are assert_close's. None also for a correct actual.
    """
    want = expected_array(expected)
    if batch_size is not None and not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    # Variants come first so that a tie goes to the grader's more specific description.
    mistakes = [
        _Mistake(f"the gradient you get when {text.strip().rstrip('.')}", "", expected_array(g, repr(text)))
        for text, g in variants.items()
    ] + _generic_mistakes(want, batch_size)
    try:
        got = student_array(actual, name="gradient", expected=want)
    except CheckFailure:
        return None  # not numbers at all: assert_close's message says so
    if got.dtype.kind not in "iuf" or not np.isfinite(got).all():
        return None
    rtol, atol = comparison_tolerances(actual, got, want, rtol, atol)
    if got.shape == want.shape and tolerance_ratio(got, want, rtol=rtol, atol=atol).max(initial=0.0) <= 1:
        return None
    found = _closest(got, mistakes, rtol, atol)
    if found is not None:
        return f"This looks like {found.explained()}."
    if got.ndim == 2 and got.shape == want.shape[::-1]:
        square = got.shape == want.shape  # then a plain transpose was one of the mistakes tried above
        flipped = "It is transposed" + ("" if square else f" (shape {got.shape} instead of {want.shape})")
        if not square and tolerance_ratio(got.T, want, rtol=rtol, atol=atol).max(initial=0.0) <= 1:
            return f"{flipped}: {_TRANSPOSE_ADVICE}."
        found = _closest(got.T, mistakes, rtol, atol)
        return None if found is None else f"{flipped}, and once transposed it looks like {found.explained()}."
    return _from_shapes(got.shape, want.shape, batch_size)


def assert_gradient_close(
    actual,
    expected,
    *,
    name: str,
    batch_size: int | None = None,
    variants: Mapping[str, np.ndarray] = NO_VARIANTS,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """assert_close, with diagnose's sentence (if any) added to the failure message."""
    try:
        assert_close(actual, expected, name=name, rtol=rtol, atol=atol)
    except CheckFailure as failure:
        hint = diagnose(actual, expected, batch_size=batch_size, variants=variants, rtol=rtol, atol=atol)
        if hint is None:
            raise
        raise CheckFailure(f"{failure} {hint}") from failure
