"""Recording what the reference answers while a grader's visible tests run, for the student kit.

`nngrade kit` runs the visible tests in this process on a correct submission, twice: once as it is,
and once with every number coming back from the sandbox perturbed, so that the tests' failure paths
(which compute hints, such as the gradients of typical mistakes) ask their questions too. Meanwhile
two kinds of function are wrapped:

- the grader's own functions that compute from the reference (kit_transform.candidates): a call is
  recorded under the function's name and its arguments' key, when the arguments are plain data;
- every function of the imported `reference` modules, for calls that come from grader code which
  cannot be replayed as a whole (a test, or a helper that is handed the submission).

A call is recorded with the functions it was made inside, so that the kit keeps only the calls
its stubs will actually receive. Functions that declare a stand-in (kit_replay.stands_in_for) are
not recorded: both are run, and any disagreement fails the build.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graders.engine.grading import GraderInfo, pytest_args, without_autoload
from graders.engine.kit_replay import Unkeyable, Unstorable, call_key, to_tree
from graders.engine.kit_syntax import REFERENCE
from graders.engine.kit_transform import Case
from graders.engine.results import load_results
from graders.engine.scoring import item_info
from graders.engine.submission import Submission


class RecordingError(Exception):
    """Pytest could not collect or run the grader; the message holds its report."""


# --- collecting the cases -----------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.cases: list[Case] = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            info = item_info(item)
            callspec = getattr(item, "callspec", None)
            function = getattr(item, "originalname", None) or item.name
            own = callspec.marks if callspec else ()
            marks = tuple((m.name, tuple(m.args), tuple(sorted(m.kwargs.items()))) for m in own)
            self.cases.append(
                Case(
                    module=item.module.__name__,
                    function=function,
                    visible=info.visibility == "visible",
                    name=info.name,
                    case_id=callspec.id if callspec else None,
                    params=tuple(callspec.params.items()) if callspec else (),
                    marks=marks,
                )
            )


def collect(info: GraderInfo) -> list[Case]:
    """Every test case of the grader, in pytest's order (nothing is run)."""
    collector = _Collector()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        args = pytest_args(info, ["--collect-only"])
        code = without_autoload(lambda: pytest.main(args, plugins=[collector]))
    if code != pytest.ExitCode.OK:
        raise RecordingError(f"the {info.name} grader could not be collected:\n{sink.getvalue()[-3000:]}")
    return collector.cases


# --- recording --------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One recorded call: its value, and the functions it was called inside (once per occurrence)."""

    tree: Any
    value_key: str
    arguments: Any  # their tree, for a kit to match arguments computed a bit apart; None if unstorable
    inside: set[frozenset] = field(default_factory=set)


class Recorder:
    """Wraps the functions, remembers their calls, and puts everything back afterwards."""

    def __init__(self, package: str, candidates: dict[str, set[str]], stand_ins: dict[str, Any]) -> None:
        self.package = package
        self.candidates = candidates
        self.stand_ins = stand_ins  # qualified name of a grader function -> its stand-in
        self.calls: dict[str, dict[str, Recorded]] = {}
        self.unreplayable: dict[str, str] = {}  # qualified name -> why its calls cannot be replayed
        self.problems: list[str] = []
        self._stack: list[str] = []
        self._in_reference = 0
        self._restore: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        """Wrap every candidate, stand-in target and reference function, wherever a module holds it."""
        wrappers: dict[int, Any] = {}
        for module_name, names in self.candidates.items():
            module = sys.modules.get(module_name)
            for name in names if module is not None else ():
                qualified = f"{module_name}.{name}"
                original = getattr(module, name)
                if qualified in self.stand_ins:
                    wrappers[id(original)] = self._compare(qualified, original, self.stand_ins[qualified])
                else:
                    wrappers[id(original)] = self._wrap(qualified, original, reference=False)
        for module_name, module in list(sys.modules.items()):
            if module_name == REFERENCE or module_name.startswith(REFERENCE + "."):
                for name, value in vars(module).items():
                    if inspect.isfunction(value) and value.__module__ == module_name:
                        wrappers[id(value)] = self._wrap(f"{module_name}.{name}", value, reference=True)
        for module_name, module in list(sys.modules.items()):
            ours = module_name == self.package or module_name.startswith(self.package + ".")
            if not (ours or module_name == REFERENCE or module_name.startswith(REFERENCE + ".")):
                continue
            for name, value in list(vars(module).items()):
                wrapper = wrappers.get(id(value))
                if wrapper is not None and getattr(wrapper, "__wrapped__", None) is value:
                    self._restore.append((module, name, value))
                    setattr(module, name, wrapper)

    def uninstall(self) -> None:
        """Put every original function back."""
        for module, name, value in reversed(self._restore):
            setattr(module, name, value)
        self._restore.clear()

    def _wrap(self, qualified: str, original, *, reference: bool):
        signature = _signature(original)

        def recording(*args, **kwargs):
            if reference and self._in_reference:  # the reference calling itself: the kit never does
                return original(*args, **kwargs)
            key, arguments, why = None, None, None
            try:
                arguments = dict(signature.bind(*args, **kwargs).arguments) if signature else None
                key = call_key(arguments) if arguments is not None else None
            except Unkeyable as exc:
                why = f"it is called with {exc}"
            except TypeError:
                pass  # a wrong call: the original raises the real error
            inside = frozenset(self._stack)
            self._stack.append(qualified)
            self._in_reference += int(reference)
            try:
                value = original(*args, **kwargs)
            finally:
                self._stack.pop()
                self._in_reference -= int(reference)
            if key is not None:
                why = self._store(qualified, key, arguments, value, inside)
            if why is not None:
                self.unreplayable.setdefault(qualified, why)
            return value

        recording.__wrapped__ = original
        return recording

    def _store(self, qualified: str, key: str, arguments: dict, value: Any, inside: frozenset) -> str | None:
        """Remember one call; the reason it cannot be replayed, if there is one."""
        try:
            if call_key(arguments) != key:
                return "it changes its arguments"
            tree, value_key = to_tree(value), call_key({"value": value})
        except (Unkeyable, Unstorable) as exc:
            return f"it returns {exc}"
        known = self.calls.setdefault(qualified, {}).get(key)
        if known is None:
            try:
                arguments_tree = to_tree(arguments)
            except Unstorable:
                arguments_tree = None
            known = self.calls[qualified][key] = Recorded(tree, value_key, arguments_tree)
        elif known.value_key != value_key:
            self.problems.append(f"{qualified} gave two different answers to the same call")
        known.inside.add(inside)
        return None

    def _compare(self, qualified: str, original, stand_in):
        def comparing(*args, **kwargs):
            value = original(*args, **kwargs)
            theirs = stand_in(*args, **kwargs)
            try:
                same = call_key({"value": value}) == call_key({"value": theirs})
            except Unkeyable:
                same = False
            if not same:
                name = f"{stand_in.__module__}.{stand_in.__name__}"
                self.problems.append(
                    f"{name}, the stand-in for {qualified}, said {theirs!r:.80} where it said {value!r:.80}"
                )
            return value

        comparing.__wrapped__ = original
        return comparing

    def replayed(self, stubbed: set[str]) -> dict[str, dict[str, Any]]:
        """The recordings the kit needs: calls of stubs and of the reference made outside every stub."""
        kept: dict[str, dict[str, Any]] = {}
        for qualified, calls in sorted(self.calls.items()):
            if not (qualified in stubbed or qualified.startswith(REFERENCE + ".")):
                continue
            for key, recorded in sorted(calls.items()):
                if any(not (inside & stubbed) for inside in recorded.inside):
                    kept.setdefault(qualified, {})[key] = {"value": recorded.tree, "args": recorded.arguments}
        return kept


def _signature(function) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


class _Install:
    """The pytest hook that wraps the functions once the grader's modules are imported."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.recorder.install()


def perturb(value: Any) -> Any:
    """Every float in value (numbers, arrays, inside containers) moved well off its right answer."""
    if type(value) is float:
        return value * 1.25 + 0.5
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value * 1.25 + 0.5
    if isinstance(value, np.floating):
        return type(value)(value * 1.25 + 0.5)
    if type(value) in (list, tuple):
        return type(value)(perturb(v) for v in value)
    if type(value) is dict:
        return {k: perturb(v) for k, v in value.items()}
    return value


@contextlib.contextmanager
def _perturbed_submission():
    """Submission.call and .driver return perturbed values (in this process, until the block ends)."""
    call, driver = Submission.call, Submission.driver
    Submission.call = lambda self, *a, **k: perturb(call(self, *a, **k))
    Submission.driver = lambda self, *a, **k: perturb(driver(self, *a, **k))
    try:
        yield
    finally:
        Submission.call, Submission.driver = call, driver


def record_run(info: GraderInfo, submission: Path, recorder: Recorder, *, perturbed: bool = False) -> dict:
    """Run the visible tests on `submission` with the recorder installed; the results.json it gives."""
    sink = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="nngrade-kit-") as tmp:
        out = Path(tmp) / "results.json"
        extra = ["--submission", str(submission.resolve()), "--results", str(out), "--visible-only"]
        perturbing = _perturbed_submission() if perturbed else contextlib.nullcontext()
        try:
            with perturbing, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                without_autoload(lambda: pytest.main(pytest_args(info, extra), plugins=[_Install(recorder)]))
        finally:
            recorder.uninstall()
        if not out.exists():
            raise RecordingError(f"the {info.name} grader wrote no results:\n{sink.getvalue()[-3000:]}")
        return load_results(out)
