"""The backprop_by_hand grader: three small networks worked by hand (seeds 000 Q3, 001 and 003 section 3).

Students hand in a notebook (assignments/backprop_by_hand/) with one set of answers per network,
as a dict (`NET1 = {"u1": -0.81, ...}`) or as variables (`NET1_U1 = -0.81`). Every answer is worth a
point; one that follows correctly from the student's own wrong earlier answers earns half of it.
"""

from graders.engine.assignment import Assignment
from graders.engine.sandbox import SandboxConfig

#: The name of each answer set in the notebook, and the reference network it answers.
SETS = {"NET1": "comp9444_week2_q3", "NET2": "mazur_slides", "NET3": "exam_two_layer"}

ASSIGNMENT = Assignment(
    name="backprop_by_hand",
    title="Backpropagation by hand on three 2-2-2 networks",
    required=tuple(SETS),
    # Nothing of the student's is called: the worker only reads numbers, which takes milliseconds.
    sandbox=SandboxConfig(call_timeout=10.0, total_timeout=60.0, memory_bytes=1 << 30),
    total_points=98,
)
