"""Gradescope's results.json: built from test outcomes, checked against results_schema.json, written
atomically, and the fallback written when grading itself broke.

Field names and values follow Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/); the schema file beside this module is
its strict form, and nothing leaves this module without passing it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import numbers
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema

VISIBLE = "visible"
MAX_OUTPUT = 50_000  # top-level output, summary included
MAX_TEST_OUTPUT = 10_000
MAX_LABEL = 1_000  # test names, numbers, tags, the failure message
MAX_EXTRA_STRING = 10_000  # each string inside extra_data
ERROR_TEST_NAME = "Autograder error"

# Whole terminal escape sequences (colours, cursor moves, window titles) go first: removing only the ESC
# byte would leave debris such as "[31m" in the student's output.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
# Then control characters except tab and newline, C1 controls (\x9b opens an escape on its own) and lone
# surrogates, which UTF-8 cannot encode and would make the final write fail.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_MAX_DEPTH = 100  # nesting beyond this in extra_data is a cycle or a mistake, not data
_MAX_PROBLEMS = 10


class ResultsError(Exception):
    """A results dict or file Gradescope would reject; the message names the JSON path of each bad value."""


@dataclass
class TestOutcome:
    """One graded test as the plugin saw it; status is "passed" or "failed"."""

    __test__ = False  # not a test class, although pytest would collect it from modules that import it

    name: str
    max_score: float
    score: float
    status: str
    output: str = ""
    number: str | None = None
    tags: tuple[str, ...] = ()
    visibility: str = VISIBLE
    extra_data: dict = field(default_factory=dict)


def summarize(outcomes: Sequence[TestOutcome]) -> str:
    """A short student-facing summary of the visible tests; the others are only counted, never described."""
    shown = [(i, o) for i, o in enumerate(outcomes) if o.visibility == VISIBLE]
    passed = sum(o.status == "passed" for _, o in shown)
    earned = math.fsum(_number(o.score, f"tests[{i}].score") for i, o in shown)
    possible = math.fsum(_number(o.max_score, f"tests[{i}].max_score") for i, o in shown)
    points = f"({_points(earned)} / {_points(possible)} points)"
    not_shown = [o.visibility for o in outcomes if o.visibility != VISIBLE]
    if not not_shown:
        if not shown:
            return "No tests were run."
        if passed == len(shown):
            # Only here, with every test in view, may the summary speak for the whole grade.
            return (
                f"All {len(shown)} tests passed {points}." if len(shown) > 1 else f"The test passed {points}."
            )
        return f"Tests: {passed} of {len(shown)} passed {points}."
    first = (
        f"Visible tests: {passed} of {len(shown)} passed {points}." if shown else "No results are shown yet."
    )
    return f"{first} {_hidden_sentence(not_shown)}"


def _hidden_sentence(visibilities: list[str]) -> str:
    """How many tests are held back and when they are released; nothing about what they test or are worth."""
    total = len(visibilities)
    due, published = visibilities.count("after_due_date"), visibilities.count("after_published")
    groups = [
        (due, "released after the due date"),
        (published, "released when grades are published"),
        (total - due - published, "never released to students"),  # "hidden", and any unknown value
    ]
    when = "; ".join(f"{n} {_be(n)} {what}" for n, what in groups if n)
    return (
        f"{total} more test{'' if total == 1 else 's'} {_be(total)} hidden and may count towards your grade; "
        f"{'its' if total == 1 else 'their'} results are not shown here ({when})."
    )


def build_results(
    outcomes: Sequence[TestOutcome],
    *,
    output: str = "",
    execution_time: float = 0.0,
    visibility: str = VISIBLE,
    stdout_visibility: str = "hidden",
    output_format: str = "text",
    extra_data: dict | None = None,
) -> dict:
    """A validated results dict: the tests in order, every string cleaned and capped, score = their sum."""
    tests = [_test_dict(outcome, index) for index, outcome in enumerate(outcomes)]
    summary = summarize(outcomes)
    given = _text(output, "output", max(MAX_OUTPUT - len(summary) - 2, 0)).rstrip()
    results = _document(
        # Rounding hides float noise such as 0.1 + 0.2 = 0.30000000000000004 from the student.
        score=round(math.fsum(test["score"] for test in tests), 6),
        execution_time=_number(execution_time, "execution_time"),
        # The summary goes last so that capping the caller's text can never cut it off.
        output=f"{given}\n\n{summary}" if given else summary,
        output_format=output_format,
        visibility=visibility,
        stdout_visibility=stdout_visibility,
        extra_data=_jsonable({} if extra_data is None else extra_data, ["extra_data"], 0),
        tests=tests,
    )
    validate_results(results)
    return results


def _document(
    *, score, execution_time, output, output_format, visibility, stdout_visibility, extra_data, tests
):
    return {
        "score": score,
        "execution_time": round(execution_time, 3),
        "output": output,
        "output_format": output_format,
        # Gradescope's defaults differ per field; stating "text" keeps student text from rendering as HTML.
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "extra_data": extra_data,
        "tests": tests,
    }


def _test_dict(outcome: TestOutcome, index: int) -> dict:
    where = f"tests[{index}]"
    if not isinstance(outcome.tags, (list, tuple)):
        raise ResultsError(f"{where}.tags: {outcome.tags!r} is not a list or tuple of strings")
    if not isinstance(outcome.extra_data, dict):
        raise ResultsError(f"{where}.extra_data: {outcome.extra_data!r} is not a dict")
    test = {
        "score": _number(outcome.score, f"{where}.score"),
        "max_score": _number(outcome.max_score, f"{where}.max_score"),
        "status": outcome.status,
        "name": _text(outcome.name, f"{where}.name"),
    }
    if outcome.number is not None:  # without one, Gradescope numbers the tests in order
        test["number"] = _text(outcome.number, f"{where}.number")
    test["output"] = _text(outcome.output, f"{where}.output", MAX_TEST_OUTPUT)
    test["tags"] = [_text(tag, f"{where}.tags[{i}]") for i, tag in enumerate(outcome.tags)]
    test["visibility"] = outcome.visibility
    test["extra_data"] = _jsonable(outcome.extra_data, ["tests", index, "extra_data"], 0)
    return test


def failure_results(message: str, detail: str = "", execution_time: float = 0.0) -> dict:
    """What to write when grading itself broke: score 0, a visible notice, the traceback hidden for staff."""
    # The notice is for students; a traceback that slipped into it would show grader paths and test code.
    reason = _truncate(_clean(str(message)).split("Traceback (most recent call last)")[0].strip(), MAX_LABEL)
    notice = "The autograder could not finish grading this submission, so this score is not your grade.\n"
    notice += f"{reason}\n" if reason else ""
    notice += "Please resubmit. If this happens again, contact course staff: they can see what went wrong."
    staff_detail = _clean("" if detail is None else str(detail)).strip() or "No details were recorded."
    try:
        seconds = max(_number(execution_time, "execution_time"), 0.0)
    except ResultsError:
        seconds = 0.0  # the fallback must never fail on a bad argument
    # Worth 0 of 0, so "failed" must be explicit: Gradescope marks a test with score == max_score passed.
    staff_name = f"{ERROR_TEST_NAME}: details for course staff"
    errors = [
        TestOutcome(ERROR_TEST_NAME, 0.0, 0.0, "failed", output=notice),
        TestOutcome(staff_name, 0.0, 0.0, "failed", output=staff_detail, visibility="hidden"),
    ]
    return _document(
        score=0.0,
        execution_time=seconds,
        output=notice,
        output_format="text",
        visibility=VISIBLE,
        stdout_visibility="hidden",
        extra_data={"autograder_error": True},  # lets staff find these submissions to regrade
        tests=[_test_dict(outcome, index) for index, outcome in enumerate(errors)],
    )


def validate_results(results: dict) -> None:
    """Raise ResultsError naming the JSON path of every value Gradescope (or JSON itself) would reject."""
    problems: dict[str, str] = {}
    for error in _validator().iter_errors(results):
        problems.setdefault(_where(error.absolute_path), _schema_message(error))
    for path, message in _json_problems(results, [], 0):
        problems.setdefault(_where(path), message)  # the schema's word on the same value comes first
    if problems:
        lines = [f"{where}: {_shorten(message)}" for where, message in problems.items()]
        if len(lines) > _MAX_PROBLEMS:
            lines = [*lines[:_MAX_PROBLEMS], f"... and {len(lines) - _MAX_PROBLEMS} more problems"]
        raise ResultsError("\n".join(lines))


def write_results(path: str | os.PathLike, results: dict, *, validated: bool = False) -> None:
    """Validate, then replace `path` atomically; a bad dict or a failed write leaves the old file intact.

    validated=True skips a second validation of a dict that build_results has just checked.
    """
    if not validated:
        validate_results(results)
    text = json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # In the same directory, so that os.replace is a rename within one filesystem and hence atomic.
        # mkstemp's mode 0600 is kept: results hold hidden tests' output, and Gradescope reads them as root.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ResultsError(f"{target}: cannot create a file next to it ({exc})") from exc
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise ResultsError(f"{target}: could not be written ({exc})") from exc
    _sync_directory(target.parent)


def _sync_directory(folder: Path) -> None:
    # The rename itself is durable only once the directory is on disk; some platforms cannot open one.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_results(path: str | os.PathLike) -> dict:
    """Read and validate a results file; errors name the file and the JSON path of the bad value."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{source}: is not UTF-8 text (bad byte at offset {exc.start})") from exc
    except OSError as exc:
        raise ResultsError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    try:
        # NaN and Infinity are accepted here only so that validation can say where they are.
        results = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    try:
        validate_results(results)
    except ResultsError as exc:
        raise ResultsError("\n".join(f"{source}: {line}" for line in str(exc).splitlines())) from None
    return results


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    text = resources.files("graders.engine").joinpath("results_schema.json").read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "anyOf" and not error.absolute_path:
        # jsonschema's words ("not valid under any of the given schemas") do not say what is missing.
        return "needs a 'score' or a 'tests' list (Gradescope requires at least one of them)"
    return error.message


def _json_problems(value: object, path: list, depth: int) -> list[tuple[list, str]]:
    """What the schema cannot see: values json.dump would refuse or Gradescope could not parse."""
    if depth > _MAX_DEPTH:
        return [(path, f"is nested more than {_MAX_DEPTH} levels deep")]
    if value is None or isinstance(value, (bool, int)):
        return []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(path, f"{value!r} is not a finite number (JSON has none)")]
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [(path, "contains a lone surrogate, which UTF-8 cannot encode")]
        return []
    problems: list[tuple[list, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                problems += _json_problems(item, [*path, key], depth + 1)
            else:
                problems.append((path, f"key {key!r} is not a string"))
        return problems
    if isinstance(value, list):
        for index, item in enumerate(value):
            problems += _json_problems(item, [*path, index], depth + 1)
        return problems
    return [(path, f"{type(value).__name__} {value!r:.60} is not a JSON value")]


def _jsonable(value: object, path: list, depth: int) -> object:
    """A copy of extra data that JSON can hold, strings cleaned and capped, numeric scalars made plain."""
    where = _where(path)
    if depth > _MAX_DEPTH:
        raise ResultsError(f"{where}: is nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _truncate(_clean(value), MAX_EXTRA_STRING)
    if isinstance(value, numbers.Integral):
        return int(value)  # numpy integers are Integral but not int, and json.dump refuses them
    if isinstance(value, numbers.Real):
        return _number(value, where)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ResultsError(f"{where}: keys must be strings, got {list(value)!r:.80}")
        return {_clean(k): _jsonable(v, [*path, k], depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, [*path, i], depth + 1) for i, item in enumerate(value)]
    raise ResultsError(f"{where}: {type(value).__name__} {value!r:.60} is not a JSON value")


def _where(path) -> str:
    """A JSON path as tests[3].status; the document itself is "results"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "results"


def _number(value: object, where: str) -> float:
    # bool is an int to Python but never a score; numpy scalars are Real and become plain floats.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ResultsError(f"{where}: {value!r:.60} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ResultsError(f"{where}: {number!r} is not a finite number")
    return number


def _text(value: object, where: str, limit: int = MAX_LABEL) -> str:
    if not isinstance(value, str):
        raise ResultsError(f"{where}: {value!r:.60} is not a string")
    return _truncate(_clean(value), limit)


def _clean(text: str) -> str:
    """Text without control characters (tab and newline kept; Windows line ends become newlines)."""
    return _CONTROL.sub("", _ESCAPE.sub("", text.replace("\r\n", "\n")))


def _marker(omitted: int) -> str:
    return f"\n[... {omitted:,} characters truncated ...]\n"


def _truncate(text: str, limit: int) -> str:
    """At most `limit` characters: the head and the tail (where a traceback ends) around a marker."""
    if len(text) <= limit:
        return text
    # The marker is sized for the longest count it could hold, so the result never exceeds the limit.
    budget = limit - len(_marker(len(text)))
    if budget <= 0:
        return text[:limit]
    tail = budget // 2
    return text[: budget - tail] + _marker(len(text) - budget) + text[len(text) - tail :]


def _shorten(message: str, limit: int = 300) -> str:
    # jsonschema quotes the offending value, which may be a 50,000-character output.
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _points(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _be(n: int) -> str:
    return "is" if n == 1 else "are"
