"""What the reference says about every setting the grader asks about, computed once and cached.

The torch runs take a few seconds in all, so they are cached on disk (graders.engine.cache) under a
key holding the reference's source and torch's version: a changed reference or torch is a miss.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from importlib import metadata

from graders.engine.cache import cached_json
from reference import gradient_descent as gd

ETA, X, T, W0 = 0.5, 1.0, 1.0, 0.0  # the by-hand question's setting
LEARNING_RATES = (0.01, 0.1, 0.5, 1.0, 1.5, 1.9, 2.0, 2.1)  # Q2c's rates, momentum 0
EPOCH_QUESTION_RATES = (0.01, 0.1, 0.5, 1.0, 1.5, 1.9)  # the keys of EPOCHS_BY_LR
MOMENTUM_LR = 1.9  # Q2d's learning rate
EXTRA_MOMENTA = (1.0, 1.1)  # Q2d's follow-up questions, beyond the 0.1..0.9 sweep

#: The answers a behaviour constant may take.
CHOICES = ("converges", "oscillates", "diverges")
# The reference's labels in the students' words. Its fourth label, "stalled" (the epoch budget ran out
# while w was still creeping towards the target), is not among the choices: no setting the grader asks
# about stalls (tests/graders/test_gradient_descent_grader.py checks it), and if a changed reference ever
# said so, behaviour() refuses to grade against it rather than mark every student wrong.
_LABELS = {"converged": "converges", "oscillates": "oscillates", "diverges": "diverges"}


def hand_value(epoch: int, quantity: str) -> float:
    """One entry of the by-hand table: quantity is F, E, DEDW or W (the weight after the step)."""
    record = gd.hand_epochs(ETA, X, T, W0, epoch)[epoch - 1]
    return {"F": record.f, "E": record.loss, "DEDW": record.grad, "W": record.w_new}[quantity]


def behaviour(label: str) -> str:
    """The reference's label of a run as one of CHOICES; a grader error for a label outside them."""
    if label not in _LABELS:
        raise RuntimeError(f"the reference labels this run {label!r}, which is not one of {CHOICES}")
    return _LABELS[label]


def _run(run: gd.SlopeRun) -> dict:
    return {"epochs": run.epochs, "w": [float(v) for v in run.w], "behaviour": run.behaviour}


def _compute() -> dict:
    sweep = gd.momentum_sweep(MOMENTUM_LR)
    momentum_runs = {m: _run(run) for m, run in sweep.runs.items()}
    momentum_runs.update({m: _run(gd.slope_experiment(MOMENTUM_LR, m)) for m in EXTRA_MOMENTA})
    return {
        "slope": {repr(lr): _run(gd.slope_experiment(lr)) for lr in LEARNING_RATES},
        "momentum": {repr(m): run for m, run in momentum_runs.items()},
        "fastest_momentum": sweep.fastest_momentum,
        "fastest_epochs": sweep.fastest_epochs,
    }


@functools.cache
def runs() -> dict:
    """{"slope": {repr(lr): run}, "momentum": {repr(m): run at lr 1.9}, "fastest_momentum", "fastest_epochs"}.

    Each run is {"epochs": int, "w": list of floats (nan and inf included), "behaviour": reference label}.
    """
    key = {
        "reference": hashlib.sha256(inspect.getsource(gd).encode()).hexdigest(),
        "torch": metadata.version("torch"),
        "rates": list(LEARNING_RATES),
        "momentum_lr": MOMENTUM_LR,
        "extra_momenta": list(EXTRA_MOMENTA),
    }
    return cached_json("gradient_descent", key, _compute)


def slope(lr: float, momentum: float = 0.0) -> dict:
    """The reference's run at this learning rate (and momentum, at lr 1.9 only)."""
    if momentum == 0.0:
        return runs()["slope"][repr(lr)]
    if lr != MOMENTUM_LR:
        raise ValueError(f"momentum runs are computed at lr {MOMENTUM_LR} only")
    return runs()["momentum"][repr(momentum)]


def fastest_momentum() -> float:
    """The momentum that converges in the fewest epochs at lr 1.9, by the reference's sweep.

    Tests ask for this and not for runs() whole: the student kit records what visible tests
    ask for, and runs() also holds the answers of hidden tests.
    """
    return runs()["fastest_momentum"]


def fastest_epochs() -> int:
    """How many epochs the fastest momentum takes at lr 1.9."""
    return runs()["fastest_epochs"]
