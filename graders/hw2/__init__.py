"""The hw2 grader: Q1 (a scalar computation graph) and Q3 (softmax classifier and MLPs on MNIST).

The contract is fixed by real submissions: ../shared/spec/hw2.md.
"""

from graders.engine.assignment import Assignment
from graders.engine.sandbox import SandboxConfig


def _prepare(data_path):
    from graders.hw2.training import prepare  # imports the reference: only when building

    prepare(data_path)


Q1_FUNCTIONS = ("g_w1", "g_w2", "g_x1", "g_x2")
Q3_FUNCTIONS = {
    "linear": "linear_classifier_forward_and_backward",
    "single_hidden": "mlp_single_hidden_forward_and_backward",
    "two_hidden": "mlp_two_hidden_forward_and_backward",
}

ASSIGNMENT = Assignment(
    name="hw2",
    title="Homework 2: a computation graph by hand, and numpy MLPs on MNIST",
    required=(*Q1_FUNCTIONS, *Q3_FUNCTIONS.values()),
    # Gradescope's default box has half a CPU and a 10-minute limit; the training tests need
    # the longest calls, and everything must fit well inside the limit.
    sandbox=SandboxConfig(call_timeout=10.0, total_timeout=420.0, memory_bytes=3 << 30),
    total_points=110,
    prepare=_prepare,
)
