"""Gradient descent on the one-weight model f(x) = w x, by hand and with torch.optim.SGD.

Two views of the same task (fit w so that f(x) = t for a single pair x, t):

* ``hand_epochs`` replays plain gradient descent on E = 1/2 (w x - t)^2 with Python floats, one
  record per epoch, so each line of a hand-filled table can be checked.
* ``slope_experiment`` reproduces the COMP9444 week-2 "slope" script in torch (float32 weight,
  loss 0.5 * mean((w x - t)^2), SGD with optional momentum) and labels what the run did;
  ``momentum_sweep`` repeats it over several momenta at one learning rate.

torch is imported inside the functions that need it, so the by-hand part works without torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The script stops once a loss falls below this value.
SLOPE_TOLERANCE = 1e-9
#: The script's epoch budget.
SLOPE_MAX_EPOCHS = 1000
#: Momenta tried by default in the sweep: 0.1, 0.2, ..., 0.9 (rounded so keys print cleanly).
SWEEP_MOMENTA = tuple(round(0.1 * k, 1) for k in range(1, 10))
#: A bounded-looking run is still called divergent if its late error exceeds its early error by this factor.
DIVERGENCE_GROWTH = 1e3

BEHAVIOURS = ("converged", "oscillates", "stalled", "diverges")


@dataclass(frozen=True)
class HandEpoch:
    """One epoch of gradient descent on E = 1/2 (w x - t)^2.

    ``w`` is the weight the epoch starts from, ``f`` = w x, ``loss`` = E, ``grad`` = dE/dw = x (w x - t),
    ``w_new`` = w - eta * grad.
    """

    epoch: int
    w: float
    x: float
    f: float
    loss: float
    grad: float
    w_new: float


def hand_epochs(eta: float, x: float, t: float, w0: float, epochs: int) -> list[HandEpoch]:
    """Records of ``epochs`` gradient-descent steps on E = 1/2 (w x - t)^2 from w = w0 with rate eta."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    records = []
    w = float(w0)
    for epoch in range(1, epochs + 1):
        f = w * x
        residual = f - t
        grad = x * residual  # dE/dw: the 1/2 cancels the square's 2
        w_new = w - eta * grad
        records.append(HandEpoch(epoch, w, float(x), f, 0.5 * residual**2, grad, w_new))
        w = w_new
    return records


@dataclass(frozen=True)
class SlopeRun:
    """What one run of the slope script did.

    ``epochs`` is the script's epoch counter when the loop ended (the last epoch it printed).
    ``w`` has shape (epochs + 1,): the float32 weight before the first step, then after each step, as
    float64 so that inf and nan survive. ``losses`` has shape (epochs,): the loss each epoch computed,
    which is measured before that epoch's step (so the stopping loss belongs to the weight w[epochs - 1]).
    ``behaviour`` is one of ``BEHAVIOURS``; see ``classify_run``.
    """

    lr: float
    momentum: float
    epochs: int
    w: np.ndarray
    losses: np.ndarray
    behaviour: str

    @property
    def final_w(self) -> float:
        """The weight after the last step taken."""
        return float(self.w[-1])

    @property
    def nonfinite(self) -> bool:
        """True when an inf or nan weight or loss appeared at any point of the run."""
        return not (np.all(np.isfinite(self.w)) and np.all(np.isfinite(self.losses)))


def classify_run(
    w: np.ndarray, losses: np.ndarray, target: float, tol: float = SLOPE_TOLERANCE
) -> str:
    """Label a run from its trajectory alone; w is (n + 1,) weights, losses is (n,) per-epoch losses.

    Checked in this order:

    * ``"diverges"``: some weight or loss is inf or nan; or the largest error |w - target| in the last
      tenth of the run is more than ``DIVERGENCE_GROWTH`` times the largest in the first tenth (the
      error is growing even if float32 has not overflowed yet).
    * ``"converged"``: the last loss is below ``tol`` (the script's stopping rule fired).
    * ``"oscillates"``: bounded and not converged, and w - target changed sign at least once in the
      last tenth of the run (the weight keeps jumping across the target).
    * ``"stalled"``: bounded, not converged, and still approaching from one side (the budget ran out
      before a small learning rate got there).
    """
    w = np.asarray(w, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size == 0 or w.size != losses.size + 1:
        raise ValueError(f"need n >= 1 losses and n + 1 weights, got {losses.size} and {w.size}")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(losses))):
        return "diverges"
    error = w - target
    tenth = max(1, w.size // 10)
    early = np.max(np.abs(error[:tenth]))
    late = error[-tenth:]
    # A tiny early error (w0 already at the target) must not make any later wobble look explosive.
    if np.max(np.abs(late)) > DIVERGENCE_GROWTH * max(early, tol):
        return "diverges"
    if losses[-1] < tol:
        return "converged"
    if np.any(np.signbit(late[1:]) != np.signbit(late[:-1])):
        return "oscillates"
    return "stalled"


def slope_experiment(
    lr: float,
    momentum: float = 0.0,
    *,
    x: float = 1.0,
    t: float = 1.0,
    max_epochs: int = SLOPE_MAX_EPOCHS,
    tol: float = SLOPE_TOLERANCE,
) -> SlopeRun:
    """Run the week-2 slope script for one learning rate and momentum and return what happened."""
    import torch

    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive int, got {max_epochs!r}")
    # float32 zeros, like the script's torch.zeros; a bare Parameter is the script's module minus the class.
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=lr, momentum=momentum)
    # The script's DataLoader holds one (1, 1) pair, so every epoch is exactly one batch of it.
    data = torch.tensor([[x]], dtype=torch.float32)
    target = torch.tensor([[t]], dtype=torch.float32)

    trajectory = [weight.item()]
    losses = []
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        optimizer.zero_grad()
        output = weight * data
        loss = 0.5 * torch.mean((output - target) * (output - target))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        trajectory.append(weight.item())
        # The stopping test comes after the step, on the loss measured before it, as in the script;
        # comparing the tensor (not a Python float) keeps the script's float32 comparison with tol.
        if bool(loss < tol) or math.isnan(loss.item()):
            break

    w = np.array(trajectory, dtype=np.float64)
    loss_array = np.array(losses, dtype=np.float64)
    return SlopeRun(lr, momentum, epoch, w, loss_array, classify_run(w, loss_array, t, tol))


@dataclass(frozen=True)
class MomentumSweep:
    """Slope runs at one learning rate over several momenta.

    ``fastest_momentum`` and ``fastest_epochs`` describe the converged run with the fewest epochs (the
    smallest momentum wins a tie); both are None when no run converged.
    """

    lr: float
    runs: dict[float, SlopeRun]
    fastest_momentum: float | None
    fastest_epochs: int | None

    @property
    def epochs(self) -> dict[float, int]:
        """Epoch count per momentum."""
        return {m: run.epochs for m, run in self.runs.items()}


def momentum_sweep(lr: float = 1.9, momenta: tuple[float, ...] = SWEEP_MOMENTA) -> MomentumSweep:
    """Run ``slope_experiment`` at ``lr`` for each momentum and find the one that converges fastest."""
    if not momenta:
        raise ValueError("momenta must name at least one momentum")
    runs = {m: slope_experiment(lr, m) for m in momenta}
    converged = [(run.epochs, m) for m, run in runs.items() if run.behaviour == "converged"]
    if not converged:
        return MomentumSweep(lr, runs, None, None)
    best_epochs, best_momentum = min(converged)
    return MomentumSweep(lr, runs, best_momentum, best_epochs)
