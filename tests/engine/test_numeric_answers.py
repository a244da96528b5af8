"""graders.engine.numeric_answers: reading answers, accepting roundings and cut-offs, error carried forward.

Oracles: Python's decimal module rounds and truncates the expected values exactly, independently of
the interval arithmetic under test; the seed 001 slides supply real cut-off numbers; small chains with
hand-computed values exercise the marking.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest

from graders.engine.checks import CheckFailure
from graders.engine.numeric_answers import (
    CARRIED_FORWARD,
    Answer,
    AnswerSheet,
    Spec,
    accepts,
    mark,
    read_number,
)


def failure(fn, *args) -> str:
    with pytest.raises(CheckFailure) as caught:
        fn(*args)
    return str(caught.value)


# --------------------------------------------------------------------------------------------------
# Reading one number


@pytest.mark.parametrize(
    ("raw", "value", "decimals", "text"),
    [
        (0.5933, 0.5933, 4, "0.5933"),
        (-0.81, -0.81, 2, "-0.81"),
        (2, 2.0, 0, "2"),
        (1e-05, 1e-05, 5, "1e-05"),
        (1.5e-05, 1.5e-05, 6, "1.5e-05"),
        ("0.5987", 0.5987, 4, "0.5987"),
        (" -0.8100 ", -0.81, 4, "-0.8100"),
        ("0.50", 0.5, 2, "0.50"),
        ("3", 3.0, 0, "3"),
        (1 / 3, 1 / 3, 16, "0.3333333333"),
    ],
)
def test_a_number_is_read_with_the_decimals_written(raw, value, decimals, text):
    answer = read_number(raw, "`X`")
    assert (answer.value, answer.decimals, answer.text, answer.label) == (value, decimals, text, "`X`")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (None, "`X` is still None: replace the None with your answer."),
        (True, "`X` is True, but should be a number."),
        ("abc", "`X` is the text 'abc', which is not a number."),
        ("0,5987", "`X` is the text '0,5987', which is not a number (use a decimal point, not a comma)."),
        (float("nan"), "`X` is nan, but should be a finite number."),
        (float("-inf"), "`X` is -inf, but should be a finite number."),
        ("NaN", "`X` is 'NaN', but should be a finite number."),
        ("1e999", "`X` is '1e999', a number too large to be an answer."),
        (10**400, "`X` is an integer too large to be an answer."),
        ({"unsupported": "list"}, "`X` is a list, but should be a plain number such as 0.5933."),
        ([0.5], "`X` could not be read from your submission; write a plain number."),
    ],
)
def test_what_is_not_a_number_fails_with_a_message_naming_it(raw, says):
    assert failure(read_number, raw, "`X`") == says


def test_a_long_text_is_shortened_in_the_message():
    message = failure(read_number, "x" * 5000, "`X`")
    assert len(message) < 150


# --------------------------------------------------------------------------------------------------
# accepts: rounded or cut off at the decimals asked, or given more precisely


def _at(value: float, decimals: int, rounding) -> str:
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=rounding))


def _values(seed: int, n: int = 300) -> list[float]:
    rng = random.Random(seed)
    return [rng.choice((-1, 1)) * rng.uniform(0, 3) * 10 ** rng.randint(-3, 1) for _ in range(n)]


@pytest.mark.parametrize("decimals", [2, 4])
def test_roundings_and_cut_offs_are_accepted_and_their_neighbours_are_not(decimals):
    unit = Decimal(1).scaleb(-decimals)
    for expected in _values(decimals):
        good = {Decimal(_at(expected, decimals, r)) for r in (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN)}
        for number in good:
            assert accepts(str(number), expected, decimals), (number, expected)
        for number in good:
            for neighbour in (number + unit, number - unit):
                if neighbour not in good:
                    assert not accepts(str(neighbour), expected, decimals), (neighbour, expected)


@pytest.mark.parametrize("decimals", [2, 4])
def test_more_decimals_are_accepted_only_if_every_digit_is_right(decimals):
    finer = decimals + 2
    unit = Decimal(1).scaleb(-finer)
    for expected in _values(decimals + 10):
        precise = _at(expected, finer, ROUND_HALF_EVEN)
        assert accepts(precise, expected, decimals)
        assert accepts(_at(expected, finer, ROUND_DOWN), expected, decimals)
        # Three units off in the last digit written is no rounding of the expected value at any precision.
        assert not accepts(str(Decimal(precise) + 3 * unit), expected, decimals), (precise, expected)
        assert accepts(expected, expected, decimals)  # the full float


def test_cutting_off_is_towards_zero():
    assert accepts(-0.9062, -0.90624, 4)  # cut off
    assert not accepts(-0.9063, -0.90624, 4)  # neither rounded nor cut off (that would be the floor)
    assert accepts(0.0, -0.00004, 4) and accepts(0.0, 0.00009, 4)  # both cut off to 0
    assert accepts(0.0001, 0.00009, 4) and not accepts(0.0001, 0.00004, 4)


def test_float_noise_in_the_expected_value_neither_rejects_nor_admits_a_digit():
    noisy_above = 0.1 + 0.2  # 0.30000000000000004
    noisy_below = 0.3 - 0.1  # 0.19999999999999998
    assert accepts("0.3", noisy_above, 4) and accepts("0.2", noisy_below, 4)
    assert not accepts("0.2999", noisy_above, 4)
    assert not accepts("0.1999", noisy_below, 4)  # not a cut-off of the 0.2 that was meant
    assert not accepts("0.5899", 0.59, 4)


def test_fewer_decimals_than_asked_are_accepted_only_for_a_value_that_has_no_more():
    assert accepts("-0.81", -0.81, 4)
    assert accepts(0, 0.0, 4)
    assert not accepts("0.59", 0.59327, 4)


def test_the_slides_cut_off_numbers_are_accepted_and_their_derived_ones_are_not():
    """Seed 001 cuts 0.593270 to 0.5932 (accepted); its 1.1058, built from cut-off inputs, is no cut-off
    of 1.105906 (it is accepted only through the chain, see the marking tests)."""
    assert accepts("0.5932", 0.593270, 4) and accepts("0.5933", 0.593270, 4)
    assert accepts("0.7513", 0.751365, 4)
    assert not accepts("1.1058", 1.105906, 4)
    assert not accepts("0.1389", 0.138499, 4)


# --------------------------------------------------------------------------------------------------
# AnswerSheet: a dict, variables, or both

VARIABLES = {"u1": "NET1_U1", "y1": "NET1_Y1", "out_h1": "NET1_OUT_H1"}


def sheet(dict_part=None, variables=None, skipped=None) -> AnswerSheet:
    found = {"kind": "absent"} if dict_part is None else dict_part
    return AnswerSheet({"dict": found, "variables": variables or {}}, "NET1", VARIABLES, skipped)


def entries(**values) -> dict:
    return {"kind": "dict", "entries": [[k, v] for k, v in values.items()]}


def test_an_answer_comes_from_the_dict_or_from_a_variable():
    from_dict = sheet(entries(u1=-0.81)).answer("u1")
    assert (from_dict.value, from_dict.label) == (-0.81, '`NET1["u1"]`')
    from_var = sheet(None, {"NET1_U1": "-0.81"}).answer("u1")
    assert (from_var.value, from_var.label) == (-0.81, "`NET1_U1`")


def test_a_key_matches_ignoring_case_and_spaces():
    assert sheet({"kind": "dict", "entries": [[" OUT_H1 ", 0.5933]]}).answer("out_h1").value == 0.5933


def test_a_none_left_in_the_dict_does_not_hide_a_variable():
    assert sheet(entries(u1=None), {"NET1_U1": -0.81}).answer("u1").value == -0.81
    assert failure(sheet(entries(u1=None)).answer, "u1") == (
        '`NET1["u1"]` is still None: replace the None with your answer.'
    )


def test_an_answer_given_twice_must_agree():
    assert sheet(entries(u1=-0.81), {"NET1_U1": "-0.8100"}).answer("u1").value == -0.81
    message = failure(sheet(entries(u1=-0.81), {"NET1_U1": -0.18}).answer, "u1")
    assert message == (
        '`NET1["u1"]` = -0.81 and `NET1_U1` = -0.18 are two different answers to the same question: '
        "keep one of them."
    )


def test_a_missing_answer_says_how_to_give_it():
    assert failure(sheet().answer, "u1") == (
        'There is no answer for "u1": give it as `NET1["u1"]` or as a variable `NET1_U1`.'
    )
    message = failure(sheet(entries(U_1=-0.81, y1=0.0)).answer, "u1")
    assert message.startswith('`NET1` has no entry "u1", and there is no variable `NET1_U1`.')
    assert "Its keys 'U_1' are not asked for: check their spelling." in message
    assert failure(sheet({"kind": "other", "type": "list"}).answer, "u1") == (
        "`NET1` is a list, not a dict of answers, and there is no variable `NET1_U1`."
    )


def test_an_answer_set_by_a_line_the_grader_skipped_is_explained():
    why = "The grader did not run cell 2, line 1, `NET1 = {...}`: it calls `math.exp`."
    assert failure(sheet(None, None, {"NET1": why}).answer, "u1") == f"`NET1` is not defined. {why}"
    why = "The grader did not run line 4, `NET1_U1 = np.float64(-0.81)`: it calls `np.float64`."
    assert failure(sheet(None, None, {"NET1_U1": why}).answer, "u1") == f"`NET1_U1` is not defined. {why}"
    why = "The grader did not run line 9, `NET1['u1'] = math.exp(0.1)`: it calls `math.exp`."
    message = failure(sheet(entries(y1=0.0), None, {"NET1": why}).answer, "u1")
    assert message == f'`NET1` has no entry "u1", and there is no variable `NET1_U1`. {why}'


@pytest.mark.parametrize("snapshot", [None, "junk", {"dict": 3, "variables": []}])
def test_a_malformed_snapshot_reads_as_no_answers(snapshot):
    assert "There is no answer" in failure(AnswerSheet(snapshot, "NET1", VARIABLES).answer, "u1")
    empty = AnswerSheet({"dict": {"kind": "dict", "entries": "junk"}}, "NET1", VARIABLES)
    assert "has no entry" in failure(empty.answer, "u1")


# --------------------------------------------------------------------------------------------------
# mark: a small chain. a is given; b = 3 a; c = b + 1; d = b * c. Two decimals asked.

FORMULAS = {"b": lambda v: 3 * v["a"], "c": lambda v: v["b"] + 1, "d": lambda v: v["b"] * v["c"]}
TRUE = {"a": 1 / 3, "b": 1.0, "c": 2.0, "d": 2.0}
SPECS = [
    Spec("a", 2, (), TRUE["a"], "a, the first number"),
    Spec("b", 2, ("a",), TRUE["b"], "b = 3 a"),
    Spec("c", 2, ("b",), TRUE["c"], "c = b + 1"),
    Spec("d", 2, ("b", "c"), TRUE["d"], "d = b c"),
]


def marked(**given) -> dict:
    answers = {
        name: value if isinstance(value, CheckFailure) else read_number(value, f"`{name}`")
        for name, value in given.items()
    }
    verdicts = mark(SPECS, answers, lambda name, values: FORMULAS[name](values))
    return {name: (v.fraction, v.message) for name, v in verdicts.items()}


def test_right_answers_earn_everything_without_a_message():
    assert marked(a="0.33", b="1.00", c="2", d="2.0") == {n: (1.0, "") for n in TRUE}


def test_an_error_carried_forward_earns_half_and_says_so():
    result = marked(a="0.40", b="1.20", c="2.20", d="2.64")
    assert result["a"][0] == 0.0
    assert result["a"][1] == "`a` = 0.40 is not right: it should be a, the first number, to 2 decimals."
    assert result["b"] == (
        CARRIED_FORWARD,
        "`b` = 1.20 is not the value the given numbers lead to, but it follows correctly from your "
        "`a` = 0.40: half credit (error carried forward).",
    )
    assert result["c"][0] == result["d"][0] == CARRIED_FORWARD
    assert "from your `b` = 1.20 and `c` = 2.20:" in result["d"][1]


def test_a_second_mistake_is_not_carried_forward_but_what_follows_from_it_is():
    result = marked(a="0.40", b="1.50", c="2.50", d="3.75")
    assert result["b"][0] == 0.0
    assert result["b"][1].endswith("It does not follow from your `a` = 0.40 either.")
    assert result["c"][0] == result["d"][0] == CARRIED_FORWARD


def test_an_answer_from_the_students_own_rounded_inputs_earns_everything():
    # a = 0.33 is right (1/3 rounded); 3 x 0.33 = 0.99 is not 1.00 rounded, but it is the right step.
    result = marked(a="0.33", b="0.99", c="1.99", d="1.97")
    assert result["b"] == (
        1.0,
        "`b` = 0.99 is accepted: it follows from your own `a` = 0.33 (rounded or cut off).",
    )
    assert result["c"][0] == result["d"][0] == 1.0


def test_digits_the_student_carried_but_did_not_write_are_allowed_for():
    # The student's a was 0.4149 on the calculator, written 0.41; b = 3 x 0.4149 = 1.2447 -> 1.24.
    # From the written 0.41, 3 x 0.41 = 1.23: only the allowance for a's last digit makes this follow.
    assert marked(a="0.41", b="1.24", c="2.24", d="2.78")["b"][0] == CARRIED_FORWARD
    assert marked(a="0.41", b="1.27", c="2.27", d="2.88")["b"][0] == 0.0


def test_nothing_is_carried_forward_from_a_missing_answer():
    missing = CheckFailure("`a` is still None: replace the None with your answer.")
    result = marked(a=missing, b="1.20", c="2.20", d="2.64")
    assert result["a"] == (0.0, "`a` is still None: replace the None with your answer.")
    assert result["b"][0] == 0.0 and "follow" not in result["b"][1]
    assert result["c"][0] == result["d"][0] == CARRIED_FORWARD
    assert marked(a=missing, b="1.00", c="2.00", d="2.00")["b"] == (1.0, "")


def test_a_sign_error_and_too_few_decimals_are_named():
    sign = marked(a="0.33", b="-1.00", c="2", d="2")["b"]
    assert sign[0] == 0.0 and sign[1].endswith("Its size is right, but its sign is not.")
    specs = [Spec("a", 4, (), 0.59327, "a")]
    verdict = mark(specs, {"a": read_number("0.59", "`a`")}, lambda name, values: 0.0)["a"]
    assert (verdict.fraction, verdict.message) == (
        0.0,
        "`a` = 0.59 has 2 decimals, but 4 are asked (rounded or cut off): give more decimals.",
    )


def test_a_formula_that_fails_on_the_students_numbers_carries_nothing_forward():
    answers = {"a": read_number("0.40", "`a`"), "b": read_number("1.20", "`b`")}

    def overflowing(name, values):
        raise OverflowError("math range error")

    verdicts = mark(SPECS[:2], answers, overflowing)
    assert verdicts["b"].fraction == 0.0
    verdicts = mark(SPECS[:2], answers, lambda name, values: float("inf"))
    assert verdicts["b"].fraction == 0.0


def test_the_carried_share_can_be_changed():
    answers = {"a": read_number("0.40", "`a`"), "b": read_number("1.20", "`b`")}
    verdict = mark(SPECS[:2], answers, lambda name, values: FORMULAS[name](values), carried=0.25)["b"]
    assert verdict.fraction == 0.25 and "25% of the credit (error carried forward)" in verdict.message


def test_answer_is_a_plain_record():
    assert Answer(0.5, 1, "0.5", "`a`") == read_number(0.5, "`a`")


def test_a_recompute_the_kit_cannot_answer_marks_the_answer_wrong_and_says_why():
    """In a student kit the formulas are absent: no half credit offline, and the message says so."""
    from graders.engine.kit_replay import NotInKit
    from graders.engine.numeric_answers import Answer, Spec, mark

    def absent(name, values):
        raise NotInKit("this student kit does not hold it")

    specs = (Spec("a", 2, (), 1.0, "a"), Spec("b", 2, ("a",), 2.0, "twice a"))
    answers = {"a": Answer(1.5, 2, "1.5", "a"), "b": Answer(3.0, 2, "3.0", "b")}
    verdicts = mark(specs, answers, absent)
    assert verdicts["a"].fraction == 0.0 and verdicts["b"].fraction == 0.0
    assert "error carried forward" in verdicts["b"].message and "offline" in verdicts["b"].message
