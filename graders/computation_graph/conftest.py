"""Fixtures shared by the computation_graph grader modules."""

from __future__ import annotations

import pytest

from graders.computation_graph import drivers


@pytest.fixture(scope="session")
def graph(submission):
    """graph(driver, *args, maximum=False): the driver's report, {"value", "grads"}, for the student's Value.

    maximum=True: the graph also uses the student's `maximum`, which must then be defined.
    """
    submission.use_drivers(drivers, "run_program", "seed_graph", "deep_chain")

    def run(name, *args, maximum=False):
        if maximum:
            submission.require("maximum")
        return submission.driver(name, *args, exercises="Value")

    return run
