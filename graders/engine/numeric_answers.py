"""Numbers worked out by hand: reading them, accepting a rounding or a cut-off, and error carried forward.

A by-hand question asks for a chain of numbers, each computed from earlier ones, to some number of
decimals. Three decisions are made here, for any such assignment:

* reading: an answer is an int, a float or a numeric string ("0.5987"), given as an entry of a dict
  or as a module-level variable (`AnswerSheet`); anything else fails with a message naming it;
* accepting (`accepts`): an answer is right if it is the exact value rounded or cut off (truncated
  towards zero) at the decimals asked, or at any finer precision the student chose to write;
* marking a chain (`mark`): a wrong answer that follows correctly from the student's own wrong
  earlier answers earns part of its credit (error carried forward), and one that follows from the
  student's own rounded (right) earlier answers earns all of it.

The student's data arrives from the sandbox as a snapshot of plain values, in this form:

    {"dict": {"kind": "absent"} | {"kind": "none"} | {"kind": "other", "type": "list"}
             | {"kind": "dict", "entries": [[key, raw], ...]},     # the dict of answers, if any
     "variables": {name: raw, ...}}                                # the asked-for names it defines

where raw is None, a bool, int, float or str, or {"unsupported": type name}. It is untrusted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from graders.engine.checks import CheckFailure
from graders.engine.kit_replay import NotInKit

#: The share of an item's points for an answer that follows correctly from a wrong earlier answer.
CARRIED_FORWARD = 0.5
# Relative room for float noise: the reference's float64 arithmetic, and a student's value computed
# in another order, differ from the exact decimal in the 15th or 16th digit.
_SLACK = 1e-9
_MAX_TEXT = 40  # characters of a student's string shown back in a message


@dataclass(frozen=True)
class Answer:
    """A student's number, how many decimals they wrote, and how to show it back to them."""

    value: float
    decimals: int
    text: str  # the number as written (a long float is shortened)
    label: str  # where it was given, as the student would write it: `NET1["u1"]` or `NET1_U1`


def _decimals_of(text: str) -> int:
    exponent = Decimal(text).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def read_number(raw: object, label: str) -> Answer:
    """A student's raw value as an Answer, or a CheckFailure saying why it is not a usable number."""
    if raw is None:
        raise CheckFailure(f"{label} is still None: replace the None with your answer.")
    if isinstance(raw, bool):
        raise CheckFailure(f"{label} is {raw}, but should be a number.")
    if isinstance(raw, dict) and isinstance(raw.get("unsupported"), str):
        kind = raw["unsupported"][:_MAX_TEXT]
        raise CheckFailure(f"{label} is a {kind}, but should be a plain number such as 0.5933.")
    if isinstance(raw, str):
        return _from_text(raw, label)
    if isinstance(raw, int):
        try:
            return Answer(float(raw), 0, str(raw), label)
        except OverflowError:
            raise CheckFailure(f"{label} is an integer too large to be an answer.") from None
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise CheckFailure(f"{label} is {raw}, but should be a finite number.")
        text = repr(raw)
        return Answer(raw, _decimals_of(text), text if len(text) <= 12 else f"{raw:.10g}", label)
    raise CheckFailure(f"{label} could not be read from your submission; write a plain number.")


def _from_text(raw: str, label: str) -> Answer:
    text = raw.strip()
    shown = repr(text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "...")
    try:
        number = Decimal(text)
    except InvalidOperation:
        hint = " (use a decimal point, not a comma)" if "," in text else ""
        raise CheckFailure(f"{label} is the text {shown}, which is not a number{hint}.") from None
    if not number.is_finite():
        raise CheckFailure(f"{label} is {shown}, but should be a finite number.")
    value = float(number)
    if not math.isfinite(value):
        raise CheckFailure(f"{label} is {shown}, a number too large to be an answer.")
    return Answer(value, _decimals_of(text), text if len(text) <= _MAX_TEXT else shown, label)


def acceptance_interval(got: Answer, decimals: int) -> tuple[float, float]:
    """The exact values that `got` is a rounding or a truncation of, at `decimals` decimals or finer.

    The precision is the one asked, or the one the student wrote if that is finer: 0.59327 for 0.593270
    is judged at 5 decimals, so a more precise answer must be right in every digit it gives.
    """
    unit = 10.0 ** -max(decimals, got.decimals)
    g, slack = got.value, _SLACK * max(1.0, abs(got.value))
    # Rounding covers g ± unit/2 (either way at a tie); cutting off covers [g, g + unit) away from zero.
    # The open end is pulled in by the slack, so 0.5899 is never taken for a cut-off 0.59.
    far = max(unit / 2 + slack, unit - slack)
    if g > 0:
        return g - unit / 2 - slack, g + far
    if g < 0:
        return g - far, g + unit / 2 + slack
    return -far, far


def accepts(got: Answer | float | int | str, expected: float, decimals: int) -> bool:
    """Whether `got` is `expected` rounded or cut off at `decimals` decimals (or given more precisely)."""
    answer = got if isinstance(got, Answer) else read_number(got, "the value")
    low, high = acceptance_interval(answer, decimals)
    return low <= expected <= high


# --------------------------------------------------------------------------------------------------
# Reading a question set's answers from a dict, from variables, or from both.


class AnswerSheet:
    """One question set's answers, as entries of the dict `dict_name` and/or variables (key -> name).

    `skipped` maps a name to a sentence on why a line setting it was left out ("The grader did not run
    cell 3, line 2, ..."), so a missing answer can be explained. A key is found in the dict exactly,
    else ignoring case and spaces.
    """

    def __init__(
        self,
        snapshot: object,
        dict_name: str,
        variables: Mapping[str, str],
        skipped: Mapping[str, str] | None = None,
    ) -> None:
        self.dict_name = dict_name
        self.variables = dict(variables)
        self.skipped = dict(skipped or {})
        snapshot = snapshot if isinstance(snapshot, dict) else {}
        found = snapshot.get("dict")
        self._kind = found.get("kind") if isinstance(found, dict) else "absent"
        self._type = str(found.get("type", "object"))[:_MAX_TEXT] if isinstance(found, dict) else ""
        entries = found.get("entries") if isinstance(found, dict) else None
        self._entries: dict[str, object] = {}
        if self._kind == "dict" and isinstance(entries, list):
            for pair in entries:
                if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
                    self._entries.setdefault(pair[0], pair[1])
        given = snapshot.get("variables")
        self._variables = given if isinstance(given, dict) else {}

    def _entry(self, key: str) -> tuple[bool, object]:
        if key in self._entries:
            return True, self._entries[key]
        loose = [k for k in self._entries if k.strip().casefold() == key.casefold()]
        return (True, self._entries[loose[0]]) if len(loose) == 1 else (False, None)

    def answer(self, key: str) -> Answer:
        """The answer for `key`, or a CheckFailure saying why there is none."""
        dict_label, var = f'`{self.dict_name}["{key}"]`', self.variables[key]
        var_label = f"`{var}`"
        in_dict, from_dict = self._entry(key)
        in_vars, from_var = var in self._variables, self._variables.get(var)
        places = ((from_dict, dict_label, in_dict), (from_var, var_label, in_vars))
        given = [(raw, label) for raw, label, there in places if there and raw is not None]
        if len(given) == 2:
            first, second = (read_number(raw, label) for raw, label in given)
            if not math.isclose(first.value, second.value, rel_tol=_SLACK, abs_tol=1e-300):
                raise CheckFailure(
                    f"{first.label} = {first.text} and {second.label} = {second.text} are two different "
                    "answers to the same question: keep one of them."
                )
            return first
        if given:
            return read_number(*given[0])
        if in_dict or in_vars:
            label = dict_label if in_dict else var_label
            raise CheckFailure(f"{label} is still None: replace the None with your answer.")
        raise CheckFailure(self._missing(key, dict_label, var_label))

    def _missing(self, key: str, dict_label: str, var_label: str) -> str:
        name = self.dict_name
        if self.variables[key] in self.skipped:
            return f"{var_label} is not defined. {self.skipped[self.variables[key]]}"
        if self._kind == "absent" and name in self.skipped:
            return f"`{name}` is not defined. {self.skipped[name]}"
        if self._kind == "other":
            return f"`{name}` is a {self._type}, not a dict of answers, and there is no variable {var_label}."
        if self._kind == "dict":
            known = {k.casefold() for k in self.variables}
            strays = sorted(k for k in self._entries if k.strip().casefold() not in known)[:5]
            listed = ", ".join(map(repr, strays))
            hint = f" Its keys {listed} are not asked for: check their spelling." if strays else ""
            skipped = f" {self.skipped[name]}" if name in self.skipped else ""
            return f"`{name}` has no entry \"{key}\", and there is no variable {var_label}.{hint}{skipped}"
        return f"There is no answer for \"{key}\": give it as {dict_label} or as a variable {var_label}."


# --------------------------------------------------------------------------------------------------
# Marking a chain of answers.


@dataclass(frozen=True)
class Spec:
    """One answer as the grader knows it: precision asked, the earlier answers it comes from, true value."""

    name: str
    decimals: int
    inputs: tuple[str, ...]
    true_value: float
    description: str


@dataclass(frozen=True)
class Verdict:
    """The share of an answer's points it earns, and what to tell the student ("" when nothing)."""

    fraction: float
    message: str


def mark(
    specs: Sequence[Spec],
    answers: Mapping[str, Answer | CheckFailure],
    recompute: Callable[[str, Mapping[str, float]], float],
    carried: float = CARRIED_FORWARD,
) -> dict[str, Verdict]:
    """A verdict for every spec, in order: right, carried forward from a wrong answer (`carried`), or wrong.

    `specs` lists inputs before the answers computed from them. `recompute(name, values)` computes an
    answer from its inputs' values; it sees the student's values, so it may fail or give inf (then
    nothing follows from them).
    """
    by_name = {spec.name: spec for spec in specs}
    verdicts: dict[str, Verdict] = {}
    for spec in specs:
        verdicts[spec.name] = _verdict(spec, answers, verdicts, by_name, recompute, carried)
    return verdicts


def _verdict(spec, answers, verdicts, by_name, recompute, carried) -> Verdict:
    got = answers[spec.name]
    if isinstance(got, CheckFailure):
        return Verdict(0.0, str(got))
    if accepts(got, spec.true_value, spec.decimals):
        return Verdict(1.0, "")
    earlier = [answers[name] for name in spec.inputs]
    usable = spec.inputs and all(isinstance(a, Answer) for a in earlier)
    offline = False
    given = dict(zip(spec.inputs, earlier, strict=True))
    try:
        follows = usable and _follows(spec, got, given, by_name, recompute)
    except NotInKit:  # the student kit holds no formulas: those would be the answers
        follows, offline = False, True
    wrong = [a for name, a in zip(spec.inputs, earlier, strict=True) if verdicts[name].fraction < 1.0]
    yours = " and ".join(f"{a.label} = {a.text}" for a in wrong if isinstance(a, Answer))
    if follows and not wrong:
        own = " and ".join(f"{a.label} = {a.text}" for a in earlier)
        return Verdict(
            1.0, f"{got.label} = {got.text} is accepted: it follows from your own {own} (rounded or cut off)."
        )
    if follows:
        share = "half" if carried == 0.5 else f"{carried:.0%} of the"
        return Verdict(
            carried,
            f"{got.label} = {got.text} is not the value the given numbers lead to, but it follows correctly "
            f"from your {yours}: {share} credit (error carried forward).",
        )
    message = (
        f"{got.label} = {got.text} is not right: it should be "
        f"{spec.description}, to {spec.decimals} decimals."
    )
    if got.decimals < spec.decimals and got.decimals > 0 and accepts(got, spec.true_value, got.decimals):
        message = (
            f"{got.label} = {got.text} has {got.decimals} decimals, but {spec.decimals} are asked "
            "(rounded or cut off): give more decimals."
        )
    elif got.value != 0 and accepts(Answer(-got.value, got.decimals, "", ""), spec.true_value, spec.decimals):
        message += " Its size is right, but its sign is not."
    if offline:
        message += (
            " (This offline check cannot tell whether it follows from your own earlier answers; when you "
            "submit, one that does earns credit: error carried forward.)"
        )
    elif usable and yours:
        message += f" It does not follow from your {yours} either."
    return Verdict(0.0, message)


def _follows(spec: Spec, got: Answer, earlier: dict[str, Answer], by_name, recompute) -> bool:
    """Whether `got` is `spec` computed from the student's earlier answers, allowing for their rounding."""
    values = {name: a.value for name, a in earlier.items()}
    own = _safe(recompute, spec.name, values)
    if own is None:
        return False
    # The student may have carried more digits than they wrote: each written input may be off by a
    # unit in its last place, which moves this answer by up to the change one unit makes.
    spread = 0.0
    for name, answer in earlier.items():
        unit = 10.0 ** -max(by_name[name].decimals, answer.decimals)
        moved = [_safe(recompute, spec.name, {**values, name: answer.value + step}) for step in (unit, -unit)]
        if any(m is None for m in moved):
            return False
        spread += max(abs(m - own) for m in moved)
    low, high = acceptance_interval(got, spec.decimals)
    return own - spread <= high and own + spread >= low


def _safe(recompute, name: str, values: Mapping[str, float]) -> float | None:
    try:
        value = float(recompute(name, values))
    except (ArithmeticError, ValueError):
        return None
    return value if math.isfinite(value) else None
