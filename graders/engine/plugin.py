"""The pytest plugin that turns a grader module's tests into a Gradescope results.json.

Registered through the `pytest11` entry point, it only adds markers unless `--submission` is
given. Then it provides the session-wide `submission` fixture, turns each test's outcome into a
score with a student-facing message, and writes results.json at the end, always.

Who decides what a student sees: assertion messages and SubmissionError messages are shown;
any other exception in a test is the grader's own bug, shown as an "autograder error" worth 0
with the traceback kept in a hidden entry for staff.
"""

from __future__ import annotations

import importlib
import resource
import time
import traceback
from pathlib import Path

import pytest

from graders.engine.errors import SubmissionError
from graders.engine.results import TestOutcome, build_results, failure_results, write_results
from graders.engine.scoring import MARKERS, PartialCredit, item_info
from graders.engine.submission import Submission

PLUGIN_NAME = "nngrade-grading"
GRADER_ERROR_TEST = "Autograder error details (staff only)"  # the hidden test that carries them
GRADER_ERROR = (
    "The autograder hit an internal error in this test; this is not a problem with your code. "
    "The course staff can see the details."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nngrade", "grading a submission")
    group.addoption("--submission", metavar="PATH", help="the student's file, folder or zip to grade")
    group.addoption("--results", metavar="PATH", help="where to write Gradescope's results.json")
    group.addoption("--visible-only", action="store_true", help="run only tests students can see")
    group.addoption("--data", metavar="PATH", help="data the grader may use (e.g. a folder of MNIST files)")


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if config.getoption("--submission"):
        config.pluginmanager.register(GradingSession(config), PLUGIN_NAME)


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> Submission:
    """The student's code, loaded once into a sandboxed worker for the whole session."""
    grading = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    if grading is None:
        pytest.skip("no --submission given: nothing to grade")
    return grading.open_submission(request.session)


@pytest.fixture
def record_property(request: pytest.FixtureRequest):
    """record_property(name, value): a note on the test; the name "output" reaches the student.

    pytest's junitxml plugin defines the same fixture, but grading runs without that plugin
    (it imports an XML library, 30 ms, to write files we never ask for).
    """

    def record(name: str, value: object) -> None:
        request.node.user_properties.append((name, value))

    return record


@pytest.fixture(scope="session")
def data_path(request: pytest.FixtureRequest) -> Path | None:
    """The --data path, or None: graders then fall back to data that ships with a package."""
    value = request.config.getoption("--data")
    if value and not Path(value).exists():
        raise pytest.UsageError(f"--data {value}: no such file or folder")
    return Path(value) if value else None


def _student_message(exc: BaseException) -> tuple[str, bool]:
    """(message, is_grader_error) for an exception that ended a test."""
    if isinstance(exc, SubmissionError):
        parts = [exc.message]
        if exc.traceback:
            parts.append("Where it happened in your code:\n" + exc.traceback.rstrip())
        if exc.output.stdout.strip():
            parts.append("Your code printed:\n" + exc.output.stdout.rstrip())
        return "\n\n".join(parts), False
    if isinstance(exc, AssertionError):
        return str(exc).split("\nassert ")[0].strip() or "A check failed.", False
    if isinstance(exc, pytest.fail.Exception):
        return str(exc), False
    return GRADER_ERROR, True


class Prestarted:
    """Hands pytest a Submission whose worker was spawned before pytest started (see grading.grade)."""

    def __init__(self, submission: Submission) -> None:
        self.submission = submission


class GradingSession:
    """Collects outcomes while tests run and writes results.json when the session ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.start = time.monotonic()
        self.outcomes: dict[str, TestOutcome] = {}
        self.grader_errors: list[str] = []
        self.collection_errors: list[str] = []
        self._submission: Submission | None = None
        self.first_test: float | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # The worker boots (about 40 ms: Python, confinement) while pytest collects; when
        # grading.grade() started it even before pytest configured itself, that one is used.
        early = [p for p in self.config.pluginmanager.get_plugins() if isinstance(p, Prestarted)]
        if early:
            self._submission = early[0].submission
            return
        assignment = _declared_assignment(session.config.args)
        if assignment is not None:
            self._submission = Submission(self.config.getoption("--submission"), assignment)
            self._submission.prestart()

    def open_submission(self, session: pytest.Session) -> Submission:
        assignment = _assignment_of(session)
        if self._submission is not None and self._submission.assignment is not assignment:
            self._submission.close()  # the package declared another ASSIGNMENT than its modules use
            self._submission = None
        if self._submission is None:
            self._submission = Submission(self.config.getoption("--submission"), assignment)
        return self._submission

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.first_test is None:
            self.first_test = time.monotonic()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}:\n{report.longreprtext}")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        infos = {item.nodeid: item_info(item) for item in items}  # fails early on a bad marker
        if config.getoption("--visible-only"):
            keep = [i for i in items if infos[i.nodeid].visibility == "visible"]
            config.hook.pytest_deselected(items=[i for i in items if i not in keep])
            items[:] = keep

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        excinfo = call.excinfo
        if excinfo is not None and isinstance(excinfo.value, pytest.skip.Exception):
            return None  # pytest's own report: skips carry a location we do not rebuild
        # pytest's report would format a filtered traceback for every failure (0.08 s on a
        # notebook of stubs) that nobody reads: students' messages come from the exception.
        report = pytest.TestReport(
            item.nodeid,
            item.location,
            {x: 1 for x in item.keywords},
            "passed" if excinfo is None else "failed",
            None if excinfo is None else f"{excinfo.typename}: {excinfo.value}",
            call.when,
            duration=call.duration,
            start=call.start,
            stop=call.stop,
            user_properties=item.user_properties,
        )
        if call.when == "call" or (call.when == "setup" and report.failed):
            self._record(item, call, report)
        return report

    def _record(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
        info = item_info(item)
        score, status = info.points, "passed"
        # A passing test may leave a note for the student with record_property("output", text).
        message = "\n".join(str(v) for k, v in item.user_properties if k == "output")
        excinfo = call.excinfo
        if excinfo is not None and not report.skipped:
            exc = excinfo.value
            if isinstance(exc, PartialCredit):
                score, message = round(info.points * exc.fraction, 6), exc.message
                status = "passed" if exc.fraction >= 1.0 else "failed"
                report.outcome = "passed" if status == "passed" else "failed"
            else:
                message, is_grader_error = _student_message(exc)
                score, status = 0.0, "failed"
                if is_grader_error:
                    self.grader_errors.append(
                        f"{item.nodeid}:\n" + "".join(traceback.format_exception(exc)).rstrip()
                    )
        elif report.skipped:
            return
        self.outcomes[item.nodeid] = TestOutcome(
            name=info.name,
            max_score=info.points,
            score=score,
            status=status,
            output=message,
            number=info.number,
            tags=info.tags,
            visibility=info.visibility,
            extra_data={"seconds": round(call.duration, 3)},
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        path = self.config.getoption("--results")
        if self._submission is not None:
            self._submission.close()  # first: the worker's resource use is known once it has exited
        try:
            if self.collection_errors or not self.outcomes:
                # The grader itself is broken (or selected nothing): never a silent 0 out of 0.
                detail = "\n\n".join(self.collection_errors) or f"no test ran (pytest exit {exitstatus})"
                raise RuntimeError(detail)
            results, validated = self._results(), True  # build_results validates
        except Exception:  # a bug here must still leave a valid results.json behind
            results, validated = failure_results(
                "Grading stopped because of a problem in the autograder, not in your code.",
                traceback.format_exc(),
                time.monotonic() - self.start,
            ), False
        if path:
            write_results(path, results, validated=validated)
        self.results = results

    def _results(self) -> dict:
        outcomes = list(self.outcomes.values())
        if self.grader_errors:
            outcomes.append(
                TestOutcome(
                    name=GRADER_ERROR_TEST,
                    max_score=0.0,
                    score=0.0,
                    status="failed",
                    output="\n\n".join(self.grader_errors),
                    visibility="hidden",
                )
            )
        notes = self._notes()
        extra = {
            "protections": self._submission.probe if self._submission else {},
            "resources": self._resources(),
        }
        return build_results(
            outcomes, output=notes, execution_time=time.monotonic() - self.start, extra_data=extra
        )

    def _resources(self) -> dict:
        own = resource.getrusage(resource.RUSAGE_SELF)
        usage = self._submission.usage if self._submission else None
        return {
            "wall_seconds": round(time.monotonic() - self.start, 3),
            "grader_cpu_seconds": round(own.ru_utime + own.ru_stime, 3),
            "grader_peak_rss_mb": round(own.ru_maxrss / 1024, 1),
            "worker_cpu_seconds": round(usage.worker_cpu_seconds, 3) if usage else 0.0,
            "worker_peak_rss_mb": round(usage.worker_peak_rss_bytes / 2**20, 1) if usage else 0.0,
            "student_seconds": round(usage.student_seconds, 3) if usage else 0.0,
            # Phases, for benchmarks: session start to the first test (collection, the worker's
            # boot overlapping it), and loading the submission into the worker.
            "collect_seconds": round(self.first_test - self.start, 3) if self.first_test else 0.0,
            "load_seconds": round(self._submission.load_seconds, 3) if self._submission else 0.0,
        }

    def _notes(self) -> str:
        sub = self._submission
        if sub is None:
            return ""
        if sub.load_error:
            return f"Your submission could not be read: {sub.load_error}\n"
        lines = [f"Graded file: {Path(sub.loaded.path).name}"]
        skipped = [n for n in sub.loaded.notes if n.origin != "submission"]
        picked = [n for n in sub.loaded.notes if n.origin == "submission"]
        lines += [n.reason for n in picked]
        if skipped:
            lines.append(f"Not executed by the grader ({len(skipped)} statements; only definitions are run):")
            lines += [f"  {n.origin}: {n.snippet} ({n.reason})" for n in skipped[:30]]
            if len(skipped) > 30:
                lines.append(f"  ... and {len(skipped) - 30} more")
        if sub.report is not None:
            lines += [f"Import not available in the grader: {p}" for p in sub.report.import_problems]
            lines += [f"Could not run {e['origin']}: {e['type']}: {e['message']}" for e in sub.report.errors]
        return "\n".join(lines) + "\n"


def _declared_assignment(args: list[str]):
    """The ASSIGNMENT of the grader package pytest was pointed at, if it is one (else None)."""
    if len(args) != 1 or not (Path(args[0]) / "__init__.py").is_file():
        return None
    folder, parts = Path(args[0]).resolve(), []
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    try:
        module = importlib.import_module(".".join(parts))
    except Exception:  # a broken grader package: collection reports it, where results record it
        return None
    return getattr(module, "ASSIGNMENT", None)


def _assignment_of(session: pytest.Session):
    """The `ASSIGNMENT` constant of the collected grader modules (they must agree)."""
    found = {id(m.ASSIGNMENT): m.ASSIGNMENT for m in _modules(session) if hasattr(m, "ASSIGNMENT")}
    if len(found) != 1:
        raise pytest.UsageError(
            f"the grader modules must define exactly one ASSIGNMENT between them, found {len(found)}"
        )
    return next(iter(found.values()))


def _modules(session: pytest.Session):
    seen = set()
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and id(module) not in seen:
            seen.add(id(module))
            yield module
