"""nngrade: graders for neural-network coursework."""

__version__ = "0.1.0"


def check(assignment: str, *, data=None):
    """Run `assignment`'s visible tests on the code of this notebook (or script); show and return the results.

    In a notebook cell: `from graders import check; check("hw2")`. See graders/engine/live_check.py.
    """
    # Imported here, not above: `import graders` must stay cheap (no pytest, no numpy), since the
    # worker, the CLI and every grader package import it first.
    from graders.engine.live_check import check as run_check

    return run_check(assignment, data=data)
