"""The computation_graph grader: a scalar automatic-differentiation class `Value` (seed 004).

Students write `Value` (operators, exp, tanh, sigmoid, log, relu, backward) and `maximum(a, b)`;
the handout is assignments/computation_graph/. Drivers (drivers.py) build graphs with the
student's classes inside the worker; expected.py rebuilds each with reference/graph.py.
"""

from graders.engine.assignment import Assignment
from graders.engine.sandbox import SandboxConfig

ASSIGNMENT = Assignment(
    name="computation_graph",
    title="Tutorial 1: a scalar computation graph with backpropagation",
    required=("Value", "maximum"),
    # Every graph is small except the 5,000-node chain, which a correct solution walks in well
    # under a second; the limits only have to stop an endless loop quickly.
    sandbox=SandboxConfig(call_timeout=10.0, total_timeout=180.0, memory_bytes=1 << 30),
    total_points=50,
)
