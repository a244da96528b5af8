"""hw2 Q3(d): training with your functions reaches a sensible dev accuracy.

The grader runs the handout's training loop (batch 50, learning rate 0.005, init_linear weights,
zero biases) with your forward_and_backward inside the sandbox, takes the final weights back and
measures dev accuracy itself with the reference forward pass. The bar is the reference's own
accuracy under exactly the same protocol, minus a margin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graders.engine.cache import cached_json, fingerprint
from graders.engine.checks import CheckFailure
from graders.engine.datasets import load_mnist, load_sklearn_digits, train_dev_split
from graders.hw2 import ASSIGNMENT, Q3_FUNCTIONS, drivers  # noqa: F401  (ASSIGNMENT is read by the plugin)
from graders.hw2.problems import PARAM_SHAPES
from reference import hw2

MARGIN = 0.03  # three percentage points below the reference
BATCH, LEARNING_RATE = 50, 0.005
MODELS = [pytest.param(m, marks=pytest.mark.tags(f), id=m) for m, f in Q3_FUNCTIONS.items()]


@pytest.fixture(scope="session")
def digits(data_path):
    """(split, epochs): MNIST 8,000/2,000 for 2 epochs from --data, else scikit-learn's digits for 20."""
    if data_path is not None:
        splits = load_mnist(data_path)
        images, labels = splits.get("train", splits.get("test"))
        return train_dev_split(images, labels, 8000, 2000, source=f"MNIST from {data_path.name}"), 2
    images, labels = load_sklearn_digits()
    n_dev = len(images) // 5
    split = train_dev_split(images, labels, len(images) - n_dev, n_dev, source="scikit-learn's 8x8 digits")
    return split, 20


@pytest.fixture(scope="session")
def reference_accuracy(digits):
    """The reference's dev accuracy under the same protocol, cached per reference source and data."""
    split, epochs = digits
    key = {
        "reference": fingerprint(Path(hw2.__file__).read_bytes()),
        "data": fingerprint(*(a.tobytes() for a in (split.train_x, split.train_y, split.dev_x, split.dev_y))),
        "protocol": [BATCH, LEARNING_RATE, epochs],
    }
    return cached_json(
        "hw2-reference-accuracy",
        key,
        lambda: {m: _accuracy(m, _train_reference(m, split, epochs), split) for m in Q3_FUNCTIONS},
    )


def _initial(model: str, in_dim: int) -> dict:
    params = hw2.init_params(model, in_dim, in_dim // 2)
    return {k: v.copy() for k, v in params.param.items()}


def _train_reference(model, split, epochs) -> dict:
    params = hw2.init_params(model, split.train_x.shape[1], split.train_x.shape[1] // 2)
    hw2.main_training(
        params,
        hw2.MODELS[model],
        split.train_x,
        split.train_y,
        split.dev_x,
        split.dev_y,
        BATCH,
        LEARNING_RATE,
        epochs,
    )
    return params.param


def _accuracy(model, weights: dict, split) -> float:
    params = hw2.Parameters()
    for key, value in weights.items():
        params.set_param(key, np.asarray(value, dtype=np.float64))
    return hw2.accuracy(hw2.MODELS[model], params, split.dev_x.astype(np.float64), split.dev_y)


@pytest.mark.points(4)
@pytest.mark.number("3.6")
@pytest.mark.parametrize("model", MODELS)
def test_dev_accuracy_after_training(submission, digits, reference_accuracy, record_property, model):
    """Q3(d): dev accuracy after training with your function"""
    split, epochs = digits
    start = _initial(model, split.train_x.shape[1])
    submission.use_drivers(drivers, "train")
    final = submission.driver(
        "train",
        Q3_FUNCTIONS[model],
        start,
        split.train_x,
        split.train_y,
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
    accuracy = _accuracy(model, {k: final[k] for k in expected_shapes}, split)
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
