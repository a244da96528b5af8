"""The gradient_descent grader: COMP9444 week 2, Q2 (one weight, by hand and with torch.optim.SGD).

Students hand in a notebook (assignments/gradient_descent/) with the by-hand table as numeric
constants, a `slope_run` function, and their reading of the experiment as constants.
"""

from graders.engine.assignment import Assignment
from graders.engine.sandbox import SandboxConfig

QUANTITIES = ("F", "E", "DEDW", "W")  # f(x), E, dE/dw, the new w
HAND_NAMES = tuple(f"EPOCH{epoch}_{q}" for epoch in (1, 2) for q in QUANTITIES)
EXPERIMENT_NAMES = (
    "EPOCHS_BY_LR",
    "BEHAVIOUR_AT_2_0",
    "BEHAVIOUR_AT_2_1",
    "FASTEST_MOMENTUM",
    "FASTEST_MOMENTUM_EPOCHS",
    "BEHAVIOUR_AT_MOMENTUM_1_0",
    "BEHAVIOUR_AT_MOMENTUM_1_1",
)

ASSIGNMENT = Assignment(
    name="gradient_descent",
    title="Week 2 Q2: gradient descent on one weight, by hand and with torch.optim.SGD",
    required=("slope_run", *HAND_NAMES, *EXPERIMENT_NAMES),
    # torch reserves well over 1 GB of address space; a 1000-epoch run, with torch's import on the
    # first call, takes a few seconds at most, so 30 s per call is generous.
    sandbox=SandboxConfig(call_timeout=30.0, total_timeout=300.0, memory_bytes=4 << 30),
    total_points=40,
)
