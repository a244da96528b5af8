"""The training protocol of hw2's accuracy tests, and the reference's accuracy under it.

Shared by the accuracy tests and by `nngrade build`, which computes the reference's figures
once so that every Gradescope run finds them in the zip's cache instead of training the
reference three times per submission.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from graders.engine.cache import cached_json, fingerprint
from graders.engine.datasets import Split, load_mnist, load_sklearn_digits, train_dev_split
from graders.hw2 import Q3_FUNCTIONS
from reference import hw2

BATCH, LEARNING_RATE = 50, 0.005
MARGIN = 0.03  # the bar: three percentage points below the reference


def load_split(data_path: Path | None) -> tuple[Split, int]:
    """(split, epochs): MNIST 8,000/2,000 for 2 epochs from data_path, else scikit-learn's digits for 20."""
    if data_path is not None:
        splits = load_mnist(data_path)
        images, labels = splits.get("train", splits.get("test"))
        return train_dev_split(images, labels, 8000, 2000, source=f"MNIST from {data_path.name}"), 2
    images, labels = load_sklearn_digits()
    n_dev = len(images) // 5
    split = train_dev_split(images, labels, len(images) - n_dev, n_dev, source="scikit-learn's 8x8 digits")
    return split, 20


def initial_weights(model: str, in_dim: int) -> dict:
    """The handout's starting point: init_linear weights, zero biases, hidden width in_dim // 2."""
    params = hw2.init_params(model, in_dim, in_dim // 2)
    return {k: v.copy() for k, v in params.param.items()}


def accuracy(model: str, weights: dict, split: Split) -> float:
    """Dev accuracy of `weights`, measured with the reference forward pass."""
    params = hw2.Parameters()
    for key, value in weights.items():
        params.set_param(key, np.asarray(value, dtype=np.float64))
    return hw2.accuracy(hw2.MODELS[model], params, split.dev_x.astype(np.float64), split.dev_y)


def _train_reference(model: str, split: Split, epochs: int) -> dict:
    params = hw2.Parameters()
    for key, value in initial_weights(model, split.train_x.shape[1]).items():
        params.set_param(key, value)
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


def reference_accuracy(split: Split, epochs: int) -> dict[str, float]:
    """The reference's dev accuracy per model, cached under its source, the data and the protocol."""
    key = {
        "reference": fingerprint(Path(hw2.__file__).read_bytes()),
        "data": fingerprint(*(a.tobytes() for a in (split.train_x, split.train_y, split.dev_x, split.dev_y))),
        "protocol": [BATCH, LEARNING_RATE, epochs],
    }
    return cached_json(
        "hw2-reference-accuracy",
        key,
        # On one BLAS thread, as every grade (grading.one_blas_thread) and `nngrade build` run it.
        lambda: {m: accuracy(m, _train_reference(m, split, epochs), split) for m in Q3_FUNCTIONS},
    )


def prepare(data_path: Path | None) -> None:
    """Fill the cache with what grading on this data will need (run by `nngrade build`)."""
    reference_accuracy(*load_split(data_path))
