"""hw2 Q3(d): training with your functions reaches a sensible dev accuracy.

The grader runs the handout's training loop (batch 50, learning rate 0.005, init_linear weights,
zero biases) with your forward_and_backward inside the sandbox, takes the final weights back and
measures dev accuracy itself with the reference forward pass. The bar is the reference's own
accuracy under exactly the same protocol, minus a margin.
"""

from __future__ import annotations

import numpy as np
import pytest

from graders.engine.checks import CheckFailure
from graders.hw2 import ASSIGNMENT, Q3_FUNCTIONS, drivers, training  # noqa: F401  (ASSIGNMENT: for the plugin)
from graders.hw2.problems import PARAM_SHAPES
from graders.hw2.training import BATCH, LEARNING_RATE, MARGIN, initial_weights, load_split

MODELS = [pytest.param(m, marks=pytest.mark.tags(f), id=m) for m, f in Q3_FUNCTIONS.items()]


@pytest.fixture(scope="session")
def digits(data_path):
    return load_split(data_path)


@pytest.fixture(scope="session")
def reference_accuracy(digits):
    return training.reference_accuracy(*digits)


@pytest.mark.points(4)
@pytest.mark.number("3.6")
@pytest.mark.parametrize("model", MODELS)
def test_dev_accuracy_after_training(submission, request, record_property, model):
    """Q3(d): dev accuracy after training with your function"""
    # Data and the reference's figures only once the function exists: a submission without it
    # (a Q1-only one, say) should not pay for reading digits and training the reference.
    submission.require(Q3_FUNCTIONS[model])
    split, epochs = request.getfixturevalue("digits")
    reference_accuracy = request.getfixturevalue("reference_accuracy")
    start = initial_weights(model, split.train_x.shape[1])
    submission.use_drivers(drivers, "train")
    final = submission.driver(
        "train",
        Q3_FUNCTIONS[model],
        start,
        # Sent once for the three models (25 MB of MNIST), not once per model.
        submission.keep("hw2 train_x", split.train_x),
        submission.keep("hw2 train_y", split.train_y),
        BATCH,
        LEARNING_RATE,
        epochs,
        exercises=Q3_FUNCTIONS[model],
        timeout=120,
    )
    expected_shapes = PARAM_SHAPES[model](split.train_x.shape[1], split.train_x.shape[1] // 2, 10)
    if type(final) is not dict or any(np.shape(final.get(k)) != s for k, s in expected_shapes.items()):
        raise CheckFailure(
            "Training did not leave weights of the right shapes; check your gradients' shapes."
        )
    if not all(np.all(np.isfinite(final[k])) for k in expected_shapes):
        raise CheckFailure(
            "Training made the weights NaN or infinite: check the gradients' scale and stability."
        )
    accuracy = training.accuracy(model, {k: final[k] for k in expected_shapes}, split)
    bar = reference_accuracy[model] - MARGIN
    summary = (
        f"dev accuracy after {epochs} epochs on {split.source}: {accuracy:.1%} "
        f"(the reference reaches {reference_accuracy[model]:.1%}; {bar:.1%} is needed)"
    )
    record_property("output", summary)
    if accuracy < bar:
        raise CheckFailure(
            summary + ". Your model learns too little: check the gradients (see the tests above)."
        )
