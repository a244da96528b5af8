"""results.json: the schema against Gradescope's own examples, the student-facing summary, cleaning and caps,
the atomic write, and the "autograder failed" fallback."""

from __future__ import annotations

import copy
import json
import os
import re
from importlib import resources

import jsonschema
import numpy as np
import pytest

from graders.engine.results import (
    ERROR_TEST_NAME,
    MAX_OUTPUT,
    MAX_TEST_OUTPUT,
    ResultsError,
    TestOutcome,
    build_results,
    failure_results,
    load_results,
    summarize,
    validate_results,
    write_results,
)

# Transcribed from the "Output format" block of Gradescope's autograder specification
# (gradescope-autograders.readthedocs.io/en/latest/specs/), comments dropped and ".926" written 0.926.
GRADESCOPE_EXAMPLE = {
    "score": 44.0,
    "execution_time": 136,
    "output": "Text relevant to the entire submission",
    "output_format": "simple_format",
    "test_output_format": "text",
    "test_name_format": "text",
    "visibility": "after_due_date",
    "stdout_visibility": "visible",
    "extra_data": {},
    "tests": [
        {
            "score": 2.0,
            "max_score": 2.0,
            "status": "passed",
            "name": "Your name here",
            "name_format": "text",
            "number": "1.1",
            "output": "Giant multiline string that will be placed in a <pre> tag and collapsed by default",
            "output_format": "text",
            "tags": ["tag1", "tag2", "tag3"],
            "visibility": "visible",
            "extra_data": {},
        }
    ],
    "leaderboard": [
        {"name": "Accuracy", "value": 0.926},
        {"name": "Time", "value": 15.1, "order": "asc"},
        {"name": "Stars", "value": "*****"},
    ],
}

# The same page's "Test case status" example: informational tests without any score.
GRADESCOPE_STATUS_EXAMPLE = {
    "tests": [
        {"name": "Compilation check", "status": "passed"},
        {"name": "Style check", "status": "failed"},
        {"name": "Test 3", "score": 5, "max_score": 10, "status": "passed"},
    ]
}

# Both examples in one valid document: the starting point for every bad value below.
BOTH_EXAMPLES = {
    **GRADESCOPE_EXAMPLE,
    "tests": GRADESCOPE_EXAMPLE["tests"] + GRADESCOPE_STATUS_EXAMPLE["tests"],
}

HIDDEN_KINDS = ("hidden", "after_due_date", "after_published")

# Phrasings that would claim the whole grade is known.
WHOLE_GRADE_CLAIMS = [
    r"\ball\b",
    r"\bevery",
    r"\bfull (marks|score|credit|points)\b",
    r"\bperfect\b",
    r"\b100 ?%",
    r"\bnothing (failed|left)\b",
    r"\bno (tests|test) failed\b",
]


def outcomes_with_hidden(kinds=HIDDEN_KINDS) -> list[TestOutcome]:
    """Two visible tests and one secret-looking test of each hidden kind, with values easy to spot."""
    visible = [
        TestOutcome("g_w1 matches the reference", 2.0, 2.0, "passed", number="1.1", tags=("g_w1",)),
        TestOutcome("g_w2 matches the reference", 3.0, 1.5, "failed", output="row 2 is off", number="1.2"),
    ]
    hidden = [
        TestOutcome(
            f"secret check {kind}",
            7.25,
            7.25,
            "passed",
            output=f"SECRET OUTPUT {kind}",
            number=f"9.{i}",
            tags=(f"secret_tag_{kind}",),
            visibility=kind,
            extra_data={"relative_error": 1e-9},
        )
        for i, kind in enumerate(kinds, start=7)
    ]
    return visible + hidden


def visible_text(results: dict) -> str:
    """Everything a student can read before any hidden test is released."""
    parts = [results["output"]]
    for test in results["tests"]:
        if test["visibility"] == "visible":
            parts += [test["name"], test.get("number", ""), test["output"], *test["tags"]]
            parts.append(json.dumps(test["extra_data"]))
    return "\n".join(parts)


def set_at(document: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


# --- the schema -----------------------------------------------------------------------------------


def test_schema_file_is_a_valid_draft_2020_12_schema():
    text = resources.files("graders.engine").joinpath("results_schema.json").read_text(encoding="utf-8")
    jsonschema.Draft202012Validator.check_schema(json.loads(text))


@pytest.mark.parametrize(
    "example",
    [GRADESCOPE_EXAMPLE, GRADESCOPE_STATUS_EXAMPLE, BOTH_EXAMPLES],
    ids=["format", "status", "both"],
)
def test_gradescopes_documented_examples_are_accepted(example):
    validate_results(example)


def test_a_realistic_build_is_accepted_and_survives_a_round_trip(tmp_path):
    results = build_results(
        outcomes_with_hidden(),
        output="Loaded hw2.ipynb (3 cells skipped: training loops).",
        execution_time=12.3456,
        extra_data={"nngrade_version": "0.1.0", "degraded": []},
    )
    validate_results(results)
    write_results(tmp_path / "results.json", results)
    assert load_results(tmp_path / "results.json") == results
    assert results["execution_time"] == 12.346


BAD_VALUES = [
    (("tests", 2, "status"), "ok", "tests[2].status: 'ok' is not one of ['passed', 'failed']"),
    (("tests", 0, "score"), -1, "tests[0].score: -1 is less than the minimum of 0"),
    (("tests", 0, "max_score"), "2", "tests[0].max_score: '2' is not of type 'number'"),
    (("tests", 0, "visibility"), "public", "tests[0].visibility: 'public' is not one of"),
    (("tests", 0, "number"), 1.1, "tests[0].number: 1.1 is not of type 'string'"),
    (("tests", 0, "tags"), ["a", 3], "tests[0].tags[1]: 3 is not of type 'string'"),
    (("tests", 0, "name_format"), "rst", "tests[0].name_format: 'rst' is not one of"),
    (("tests", 0, "extra_data"), [], "tests[0].extra_data: [] is not of type 'object'"),
    (("tests", 0, "bogus"), 1, "tests[0]: Additional properties are not allowed ('bogus' was unexpected)"),
    (("tests", 0, "score"), float("nan"), "tests[0].score: nan is not a finite number"),
    (("tests", 0, "output"), "bad \ud800 text", "tests[0].output: contains a lone surrogate"),
    (("tests", 0, "extra_data", "seen"), {1, 2}, "tests[0].extra_data.seen: set {1, 2} is not a JSON value"),
    (("tests", 0, "extra_data", "per bin"), {3: 1}, "tests[0].extra_data['per bin']: key 3 is not a string"),
    (("scor",), 1, "results: Additional properties are not allowed ('scor' was unexpected)"),
    (("score",), True, "score: True is not of type 'number'"),
    (("score",), float("inf"), "score: inf is not a finite number"),
    (("execution_time",), -3, "execution_time: -3 is less than the minimum of 0"),
    (("output",), None, "output: None is not of type 'string'"),
    (("output_format",), "markdown", "output_format: 'markdown' is not one of"),
    (("stdout_visibility",), "sometimes", "stdout_visibility: 'sometimes' is not one of"),
    (("tests",), {}, "tests: {} is not of type 'array'"),
    (("leaderboard", 1, "order"), "up", "leaderboard[1].order: 'up' is not one of ['asc', 'desc']"),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_VALUES, ids=[e for *_, e in BAD_VALUES])
def test_each_bad_value_is_rejected_with_its_json_path(path, value, expected):
    with pytest.raises(ResultsError) as caught:
        validate_results(set_at(BOTH_EXAMPLES, path, value))
    assert expected in str(caught.value)


def test_missing_score_and_tests_says_what_is_needed():
    with pytest.raises(ResultsError, match=r"^results: needs a 'score' or a 'tests' list"):
        validate_results({"output": "hello"})


def test_a_document_that_is_not_an_object_is_rejected():
    with pytest.raises(ResultsError, match=r"^results: \[\] is not of type 'object'"):
        validate_results([])


def test_many_problems_are_listed_and_long_values_shortened():
    results = {"score": 1, "tests": [{"status": "x" * 5000} for _ in range(15)]}
    with pytest.raises(ResultsError) as caught:
        validate_results(results)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("tests[0].status: 'xxx")
    assert lines[-1] == "... and 5 more problems"
    assert max(len(line) for line in lines) < 400


# --- building -------------------------------------------------------------------------------------


def test_build_keeps_order_sums_scores_and_omits_missing_numbers():
    outcomes = [
        TestOutcome("first", 1.0, 0.1, "failed"),
        TestOutcome("second", 1.0, 0.2, "failed", number="2"),
        TestOutcome("bonus", 1.0, 1.5, "passed"),  # extra credit: more than max_score is allowed
    ]
    results = build_results(outcomes)
    assert [t["name"] for t in results["tests"]] == ["first", "second", "bonus"]
    assert results["score"] == 1.8  # 0.1 + 0.2 without the float noise
    assert "number" not in results["tests"][0] and results["tests"][1]["number"] == "2"
    assert results["tests"][2]["score"] == 1.5


def test_build_reports_a_bad_outcome_by_its_index():
    outcomes = outcomes_with_hidden() + [TestOutcome("odd", 1.0, 1.0, "ok")]
    with pytest.raises(ResultsError) as caught:
        build_results(outcomes)
    assert str(caught.value) == "tests[5].status: 'ok' is not one of ['passed', 'failed']"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"score": "3"}, "tests[0].score: '3' is not a number"),
        ({"score": True}, "tests[0].score: True is not a number"),
        ({"max_score": float("nan")}, "tests[0].max_score: nan is not a finite number"),
        ({"tags": "g_w1"}, "tests[0].tags: 'g_w1' is not a list or tuple of strings"),
        ({"tags": ("ok", 7)}, "tests[0].tags[1]: 7 is not a string"),
        ({"name": None}, "tests[0].name: None is not a string"),
        ({"visibility": "students"}, "tests[0].visibility: 'students' is not one of"),
        ({"extra_data": {"f": open}}, "tests[0].extra_data.f: builtin_function_or_method"),
        ({"extra_data": {1: "x"}}, "tests[0].extra_data: keys must be strings"),
    ],
)
def test_build_rejects_bad_outcome_fields(change, expected):
    fields = {"name": "t", "max_score": 1.0, "score": 1.0, "status": "passed", **change}
    with pytest.raises(ResultsError) as caught:
        build_results([TestOutcome(**fields)])
    assert str(caught.value).startswith(expected)


def test_build_turns_numpy_scalars_and_tuples_into_plain_json(tmp_path):
    extra = {"n": np.int64(3), "err": np.float32(0.5), "pair": (1, 2.5), "ok": True}
    outcome = TestOutcome("t", np.float32(2.0), np.float64(1.5), "failed", extra_data=extra)
    results = build_results([outcome])
    test = results["tests"][0]
    assert test["extra_data"] == {"n": 3, "err": 0.5, "pair": [1, 2.5], "ok": True}
    assert type(test["extra_data"]["n"]) is int and type(test["max_score"]) is float
    write_results(tmp_path / "results.json", results)  # json.dump would refuse numpy's own types


def test_control_characters_and_escapes_are_removed_but_tabs_and_newlines_kept():
    dirty = "a\x1b[1;31mred\x1b[0m\x1b]0;title\x07 b\r\nc\rd\x00e\x9bf\x7f\tg\n"
    outcome = TestOutcome(f"name{dirty}", 1.0, 1.0, "passed", output=dirty, number="1\x08", tags=("t\x1b",))
    results = build_results([outcome], output=dirty, extra_data={"note": dirty})
    test = results["tests"][0]
    assert test["output"] == "ared b\ncdef\tg\n"
    assert test["name"] == "nameared b\ncdef\tg\n"
    assert test["number"] == "1" and test["tags"] == ["t"]
    assert results["extra_data"]["note"] == "ared b\ncdef\tg\n"
    assert results["output"].startswith("ared b\ncdef\tg\n\nThe test passed")


def test_lone_surrogates_are_removed_so_the_write_cannot_fail(tmp_path):
    results = build_results([TestOutcome("t\ud800", 1.0, 1.0, "passed", output="x\udfffy")])
    assert results["tests"][0]["name"] == "t" and results["tests"][0]["output"] == "xy"
    write_results(tmp_path / "results.json", results)


def test_long_test_output_keeps_head_and_tail_within_the_cap():
    text = "HEAD" + "x" * 50_000 + "TAIL"
    results = build_results([TestOutcome("t", 1.0, 0.0, "failed", output=text)])
    capped = results["tests"][0]["output"]
    assert len(capped) <= MAX_TEST_OUTPUT
    assert capped.startswith("HEAD") and capped.endswith("TAIL")
    assert re.search(r"\[\.\.\. [\d,]+ characters truncated \.\.\.\]", capped)


def test_long_top_level_output_is_capped_but_the_summary_survives():
    results = build_results([TestOutcome("t", 1.0, 1.0, "passed")], output="y" * 200_000)
    assert len(results["output"]) <= MAX_OUTPUT
    assert "characters truncated" in results["output"]
    assert results["output"].endswith("The test passed (1.0 / 1.0 points).")


def test_long_names_are_capped():
    results = build_results([TestOutcome("n" * 5000, 1.0, 1.0, "passed", tags=("t" * 5000,))])
    assert len(results["tests"][0]["name"]) <= 1000 and len(results["tests"][0]["tags"][0]) <= 1000


# --- the summary ----------------------------------------------------------------------------------


def test_summary_with_nothing_hidden_may_speak_for_the_whole_grade():
    passing = [TestOutcome("a", 2.0, 2.0, "passed"), TestOutcome("b", 4.0, 4.0, "passed")]
    assert summarize(passing) == "All 2 tests passed (6.0 / 6.0 points)."
    mixed = [*passing, TestOutcome("c", 1.0, 1 / 3, "failed")]
    assert summarize(mixed) == "Tests: 2 of 3 passed (6.33 / 7.0 points)."
    assert summarize([]) == "No tests were run."


@pytest.mark.parametrize(
    "kinds",
    [("hidden",), ("after_due_date",), ("after_published",), HIDDEN_KINDS, ("after_due_date",) * 3],
    ids=lambda kinds: "+".join(kinds),
)
@pytest.mark.parametrize("visible_status", ["passed", "failed"])
def test_summary_never_claims_the_whole_grade_when_tests_are_hidden(kinds, visible_status):
    outcomes = [TestOutcome(f"v{i}", 1.0, 1.0, visible_status) for i in range(3)]
    outcomes += [TestOutcome(f"h{i}", 5.0, 0.0, "failed", visibility=kind) for i, kind in enumerate(kinds)]
    text = summarize(outcomes)
    for claim in WHOLE_GRADE_CLAIMS:
        assert not re.search(claim, text, re.IGNORECASE), (claim, text)
    assert text.startswith(f"Visible tests: {3 if visible_status == 'passed' else 0} of 3 passed (")
    assert f"{len(kinds)} more test" in text and "may count towards your grade" in text


def test_summary_when_no_test_is_visible():
    text = summarize([TestOutcome("h", 5.0, 5.0, "passed", visibility="after_published")])
    assert text == (
        "No results are shown yet. 1 more test is hidden and may count towards your grade; "
        "its results are not shown here (1 is released when grades are published)."
    )


def test_hidden_tests_leave_no_trace_in_what_students_can_read():
    results = build_results(outcomes_with_hidden(), output="Loaded hw2.ipynb.")
    text = visible_text(results)
    for test in results["tests"]:
        if test["visibility"] != "visible":
            for secret in (test["name"], test["number"], test["output"], *test["tags"]):
                assert secret not in text
    # The hidden tests' points: their own (7.25 each), the grand totals, and anything with them added in.
    for number in ("7.25", "21.75", "25.25", "23.25", "26.75", "1e-09"):
        assert number not in text
    assert "Visible tests: 1 of 2 passed (3.5 / 5.0 points)." in results["output"]
    assert results["score"] == 25.25  # the hidden tests still count, where students cannot see them


def test_unknown_visibility_is_summarized_as_hidden():
    outcomes = [TestOutcome("secret", 1.0, 1.0, "passed", visibility="Visible")]
    assert summarize(outcomes).startswith("No results are shown yet. 1 more test is hidden")


# --- writing and reading --------------------------------------------------------------------------


def test_write_creates_the_folder_and_writes_pretty_utf8(tmp_path):
    path = tmp_path / "autograder" / "results" / "results.json"
    results = build_results([TestOutcome("Élodie's χ² check", 1.0, 1.0, "passed")])
    write_results(path, results)
    raw = path.read_bytes().decode("utf-8")
    assert "Élodie's χ² check" in raw and '\n  "tests": [' in raw and raw.endswith("}\n")
    assert os.listdir(path.parent) == ["results.json"]


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, build_results([TestOutcome("good", 1.0, 1.0, "passed")]))
    return path


def test_an_invalid_dict_never_replaces_a_good_file(good_file):
    before = good_file.read_bytes()
    with pytest.raises(ResultsError, match=r"tests\[0\]\.status"):
        write_results(good_file, set_at(GRADESCOPE_EXAMPLE, ("tests", 0, "status"), "ok"))
    assert good_file.read_bytes() == before
    assert os.listdir(good_file.parent) == ["results.json"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temp_file(good_file, monkeypatch, failing):
    before = good_file.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    with pytest.raises(ResultsError, match="No space left on device"):
        write_results(good_file, build_results([TestOutcome("new", 1.0, 0.0, "failed")]))
    monkeypatch.undo()
    assert good_file.read_bytes() == before
    assert os.listdir(good_file.parent) == ["results.json"]


def test_an_interrupt_mid_write_propagates_and_cleans_up(good_file, monkeypatch):
    before = good_file.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_results(good_file, build_results([TestOutcome("new", 1.0, 0.0, "failed")]))
    monkeypatch.undo()
    assert good_file.read_bytes() == before
    assert os.listdir(good_file.parent) == ["results.json"]


def test_an_unwritable_target_is_a_results_error(tmp_path):
    (tmp_path / "results.json").mkdir()  # a directory where the file should go
    with pytest.raises(ResultsError, match=r"results\.json: could not be written"):
        write_results(tmp_path / "results.json", failure_results("x"))
    assert os.listdir(tmp_path) == ["results.json"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"score": 1,', r"results\.json: not valid JSON: .* at line 1, column 13"),
        (b"\xff\xfe{}", r"results\.json: is not UTF-8 text"),
        (b'{"tests": [{"status": "ok"}]}', r"results\.json: tests\[0\]\.status: 'ok' is not one of"),
        (b'{"score": NaN}', r"results\.json: score: nan is not a finite number"),
        (b"[]", r"results\.json: results: \[\] is not of type 'object'"),
    ],
    ids=["truncated", "not-utf8", "bad-status", "nan", "not-an-object"],
)
def test_load_says_which_file_and_where_in_it(tmp_path, content, expected):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match=expected):
        load_results(path)


def test_load_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(ResultsError, match=r"missing\.json: cannot be read \(No such file or directory\)"):
        load_results(tmp_path / "missing.json")


# --- when grading itself broke --------------------------------------------------------------------

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/autograder/source/graders/hw2/test_hidden.py", line 40, in test_secret_case\n'
    "    expected = reference.hw2.g_w1(X_SECRET)\n"
    "KeyError: 'hidden_seed'\n"
)


def test_failure_results_are_valid_and_worth_nothing(tmp_path):
    results = failure_results("The grader could not start the sandbox.", TRACEBACK, execution_time=3.5)
    validate_results(results)
    assert results["score"] == 0.0 and results["execution_time"] == 3.5
    assert results["extra_data"] == {"autograder_error": True}
    visible, hidden = results["tests"]
    assert visible["name"] == ERROR_TEST_NAME and visible["visibility"] == "visible"
    assert (visible["score"], visible["max_score"], visible["status"]) == (0.0, 0.0, "failed")
    assert hidden["visibility"] == "hidden" and hidden["output"] == TRACEBACK.strip()
    write_results(tmp_path / "results.json", results)
    assert load_results(tmp_path / "results.json") == results


def test_failure_results_keep_the_traceback_out_of_student_view():
    # Even a message that carries a traceback by mistake shows only the words before it.
    results = failure_results(f"Grading stopped unexpectedly.\n{TRACEBACK}", TRACEBACK)
    text = visible_text(results)
    for line in TRACEBACK.strip().splitlines():
        assert line.strip() not in text
    assert "Grading stopped unexpectedly." in text
    assert "resubmit" in text and "course staff" in text


@pytest.mark.parametrize("execution_time", [float("nan"), -1.0, "soon", None])
def test_failure_results_never_fail_on_bad_arguments(execution_time):
    results = failure_results(RuntimeError("boom"), detail=None, execution_time=execution_time)
    validate_results(results)
    assert results["execution_time"] == 0.0
    assert results["tests"][1]["output"] == "No details were recorded."
