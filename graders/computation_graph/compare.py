"""Checking a driver's report against the reference's, with messages that name the input at fault."""

from __future__ import annotations

from graders.engine.checks import CheckFailure, assert_close

# Both sides are float64 sums of the same terms, possibly added in another order: they agree to a
# few ulps, so 1e-9 relative catches every wrong formula while forgiving the order of the sum.
RTOL, ATOL = 1e-9, 1e-12


def check_report(got, want: dict, leaves: list[str], what: str, hint: str = "") -> None:
    """Raise CheckFailure unless got (untrusted) has want's output value and leaf gradients."""
    if not isinstance(got, dict) or not isinstance(got.get("grads"), list):
        raise CheckFailure(f"{what}: the grader could not read the result (got {type(got).__name__}).")
    if len(got["grads"]) != len(leaves):
        raise CheckFailure(f"{what}: expected {len(leaves)} gradients, got {len(got['grads'])}.")
    try:
        assert_close(
            got.get("value"), want["value"], name=f"{what}: the output's .data", rtol=RTOL, atol=ATOL
        )
        for name, g, w in zip(leaves, got["grads"], want["grads"], strict=True):
            assert_close(g, w, name=f"{what}: {name}.grad after backward()", rtol=RTOL, atol=ATOL)
    except CheckFailure as exc:
        raise CheckFailure(f"{exc} {hint}".strip()) from None
