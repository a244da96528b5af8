"""Reading a student's constants (untrusted data from the worker) as the kind of answer a question wants.

Each reader returns the answer or raises CheckFailure with a message for the student. None of the
messages reveals the expected answer: a constant is an answer to a question, not a computation.
"""

from __future__ import annotations

import math

from graders.engine.checks import CheckFailure
from graders.gradient_descent.expected import CHOICES


def _unpack(info, name: str) -> tuple[str, object]:
    if not isinstance(info, dict) or info.get("kind") not in ("plain", "dict", "other"):
        raise CheckFailure(f"`{name}` could not be read from your submission.")
    if info["kind"] == "other":
        raise CheckFailure(f"`{name}` is a {info['value']}; write your answer as a plain Python value.")
    return info["kind"], info["value"]


def _unanswered(name: str) -> CheckFailure:
    return CheckFailure(f"`{name}` is still None: replace the None with your answer.")


def number(info, name: str) -> float:
    """A finite number (int or float, not bool)."""
    kind, value = _unpack(info, name)
    return _number(value, name, kind)


def _number(value, name: str, kind: str = "plain") -> float:
    if value is None:
        raise _unanswered(name)
    if kind != "plain" or isinstance(value, (bool, str)) or not isinstance(value, (int, float)):
        shown = "a dict" if kind == "dict" else f"{value!r}"
        raise CheckFailure(f"`{name}` is {shown}, but should be a number.")
    if not math.isfinite(value):
        raise CheckFailure(f"`{name}` is {value}, but should be a finite number.")
    return float(value)


def whole_number(info, name: str) -> int:
    """A count of epochs: an int, or a float with no fractional part."""
    return _whole(number(info, name), name)


def _whole(value: float, name: str) -> int:
    if value != int(value) or value < 0:
        raise CheckFailure(f"`{name}` is {value:g}, but a number of epochs is a whole number >= 0.")
    return int(value)


def choice(info, name: str) -> str:
    """One of CHOICES (case and surrounding spaces do not matter)."""
    kind, value = _unpack(info, name)
    if value is None:
        raise _unanswered(name)
    listed = ", ".join(f'"{c}"' for c in CHOICES)
    if kind != "plain" or not isinstance(value, str):
        raise CheckFailure(f"`{name}` should be one of the strings {listed}.")
    word = value.strip().lower()
    if word not in CHOICES:
        raise CheckFailure(f"`{name}` is {value!r}, but should be one of {listed}.")
    return word


def epochs_for(info, name: str, lr: float) -> int:
    """The entry for learning rate `lr` of a dict {learning rate: epochs}."""
    kind, value = _unpack(info, name)
    if value is None:
        raise _unanswered(name)
    if kind != "dict":
        raise CheckFailure(f"`{name}` should be a dict from learning rate to number of epochs.")
    for key, entry in value:
        if isinstance(key, (int, float)) and not isinstance(key, bool) and math.isclose(key, lr):
            if entry is None:
                raise CheckFailure(f"`{name}[{lr}]` is still None: replace the None with your answer.")
            return _whole(_number(entry, f"{name}[{lr}]"), f"{name}[{lr}]")
    raise CheckFailure(f"`{name}` has no entry for the learning rate {lr} (keep the keys as given).")
