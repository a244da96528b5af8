"""Fixtures shared by the gradient_descent grader modules."""

from __future__ import annotations

import pytest

from graders.gradient_descent import drivers


@pytest.fixture(scope="session")
def answer(submission):
    """answer(name): the student's constant `name` as read by the driver, fetched once per session.

    A failure (the name is missing, the worker could not start) is remembered and raised again, so
    every test of that constant gets the same message, and only those tests fail.
    """

    def read(name: str):
        submission.use_drivers(drivers, "read_constant")
        return submission.once(
            ("read_constant", name), lambda: submission.driver("read_constant", name, exercises=name)
        )

    return read
