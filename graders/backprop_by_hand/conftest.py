"""Fixtures shared by the backprop_by_hand grader modules."""

from __future__ import annotations

import pytest

from graders.backprop_by_hand import SETS, drivers, expected
from graders.engine import numeric_answers
from graders.engine.checks import CheckFailure


def _skipped(submission, names: set[str], dict_name: str) -> dict[str, str]:
    """Why a line that would have set one of `names` (or an entry of the dict) was left out, by name."""
    found: dict[str, str] = {}
    for note in submission.loaded.notes:
        targets = set(note.binds) & names
        if note.snippet.startswith((f"{dict_name}[", f"{dict_name}.")):
            targets.add(dict_name)
        why = f"The grader did not run {note.origin}, `{note.snippet}`: {note.reason}."
        if "calls `" in note.reason or "top-level call" in note.reason:
            why += (
                " Work such values out elsewhere and write the numbers down: arithmetic on numbers is run, "
                "calls such as math.exp(...) are not."
            )
        for name in targets:
            found.setdefault(name, why)
    return found


def _read(submission, dict_name: str) -> dict:
    """Every item's verdict for one answer set."""
    network = SETS[dict_name]
    variables = {item: expected.variable(dict_name, item) for item in expected.names(network)}
    names = [dict_name, *variables.values()]
    defined = [name for name in names if submission.defines(name)]
    snapshot = {"dict": {"kind": "absent"}, "variables": {}}
    if defined:  # the driver call needs a name the submission defines
        submission.use_drivers(drivers, "read_answers")
        wanted = list(variables.values())
        snapshot = submission.driver("read_answers", dict_name, wanted, exercises=defined[0])
    skipped = _skipped(submission, set(names), dict_name)
    sheet = numeric_answers.AnswerSheet(snapshot, dict_name, variables, skipped)
    answers = {}
    for key in variables:
        try:
            answers[key] = sheet.answer(key)
        except CheckFailure as failure:
            answers[key] = failure
    return numeric_answers.mark(expected.specs(network), answers, expected.recomputer(network))


@pytest.fixture(scope="session")
def verdicts(submission):
    """verdicts(set_name): {item: Verdict} for the student's answers to that set, computed once per session.

    A failure to read the submission at all is remembered and raised again, so every test of the set
    gets the same message.
    """

    def get(dict_name: str) -> dict:
        return submission.once(("verdicts", dict_name), lambda: _read(submission, dict_name))

    return get
