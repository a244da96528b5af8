"""The softmax_derivatives grader end to end, through `nngrade grade`'s code path, and its reference.

Oracles: a correct solution written without the reference (a Colab export, log-sum-exp, np.outer)
gets 50/50; each mutant (one known mistake, named on its first line) loses exactly the tests listed
here, with a message that names the mistake. The reference that the grader compares with, which
`nngrade assign` extracts from the master notebook, is checked against torch autograd in float64.
(The master and the handout themselves are graded in tests/engine/test_authoring.py.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graders.softmax_derivatives import ASSIGNMENT
from graders.softmax_derivatives.test_softmax_derivatives import NETWORKS, arguments
from reference import layers
from reference import softmax_derivatives as ref
from tests.graders.scenarios import mutant_name
from tests.oracles import torch_grads

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions" / "softmax_derivatives"
TOTAL, VISIBLE = 50, 27

HANDOUT_NET = "network_gradients on the handout-sized network"
NEGATIVE_NET = "network_gradients on a larger network whose hidden units are mostly negative"
LARGE_NET = "network_gradients stays finite and right when the scores are near 1000"
EXAM = "The exam's answers to 2.1-2.7 hold for your functions"
JACOBIAN = {
    "softmax_jacobian agrees with central differences of softmax",
    "softmax_jacobian for five classes",
    "softmax_jacobian stays finite for scores near 1000",
}
# mutant file: ({names of the tests it loses}, its score, a phrase its feedback must contain)
MUTANTS = {
    "unstable_softmax.py": (
        {
            "softmax stays finite for scores near 1000 (exam 2.8)",
            "softmax stays finite when every score is near -1000",
            "softmax_jacobian stays finite for scores near 1000",
            LARGE_NET,
        },
        43,
        "Subtract each column's largest score before np.exp (exam 2.8)",
    ),
    "jacobian_diagonal_only.py": (JACOBIAN | {EXAM}, 37, "only the diagonal ŷ_k (1 − ŷ_k) is filled in"),
    "leaky_derivative_zero.py": (
        {
            "leaky_relu_derivative agrees with central differences of LeakyReLU",
            "leaky_relu_derivative with alpha=0.2",
            f"{HANDOUT_NET} [W1]",
            f"{HANDOUT_NET} [b1]",
            f"{NEGATIVE_NET} [W1]",
            f"{NEGATIVE_NET} [b1]",
            LARGE_NET,
            EXAM,
        },
        33,
        "the LeakyReLU's slope is taken as 0 for negative inputs (a ReLU's derivative)",
    ),
    "leaky_alpha_ignored.py": ({"leaky_relu with alpha=0.2"}, 49, "got -0.02, expected -0.4"),
    "bias_gradient_row.py": (
        {f"{HANDOUT_NET} [b1]", f"{NEGATIVE_NET} [b1]", LARGE_NET},
        44,
        "is a row vector of shape (1, 4), but should be a column vector of shape (4, 1)",
    ),
}


@pytest.fixture(scope="module")
def graded(graded_as):
    return lambda name: graded_as("softmax_derivatives", SUBMISSIONS / name)


def test_the_solution_gets_full_marks_without_running_top_level_code(graded):
    results = graded("solution.py")
    assert [(t["name"], t["output"]) for t in results["tests"] if t["status"] != "passed"] == []
    assert results["score"] == ASSIGNMENT.total_points == TOTAL
    assert sum(t["max_score"] for t in results["tests"]) == TOTAL
    assert sum(t["max_score"] for t in results["tests"] if t["visibility"] == "visible") == VISIBLE
    for skipped in ("!pip", "plt.plot", "not executed by the grader"):
        assert skipped in results["output"]


def test_every_test_is_tagged_with_graded_names_and_every_name_is_tested(graded):
    results = graded("solution.py")
    assert all(t["tags"] and set(t["tags"]) <= set(ASSIGNMENT.required) for t in results["tests"])
    assert {tag for t in results["tests"] for tag in t["tags"]} == set(ASSIGNMENT.required)
    assert {t["visibility"] for t in results["tests"]} == {"visible", "hidden"}


def test_the_mutants_are_the_five_listed():
    assert sorted(p.name for p in SUBMISSIONS.glob("*.py") if p.name != "solution.py") == sorted(MUTANTS)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_mutant_loses_exactly_its_tests_and_says_why(graded, name):
    lost_names, score, phrase = MUTANTS[name]
    results = graded(name)
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert {t["name"] for t in lost} == lost_names
    assert all(t["score"] == 0 for t in lost)
    assert results["score"] == score
    function = mutant_name(SUBMISSIONS / name)
    assert all(function in t["tags"] for t in lost), [(t["name"], t["tags"]) for t in lost]
    assert any(phrase in t["output"] for t in lost), [t["output"] for t in lost]


# --- the reference the grader compares with, against independent oracles ----------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_softmax_and_jacobian_match_torch(torch, seed):
    z = np.random.default_rng(seed).normal(scale=3.0, size=(5, 3))
    np.testing.assert_allclose(ref.softmax(z), torch.softmax(torch.tensor(z), dim=0).numpy(), rtol=1e-12)
    column = z[:, :1]
    jacobian = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(column))
    expected = jacobian.numpy()[:, 0, :, 0]  # d softmax[k, 0] / d z[i, 0]
    np.testing.assert_allclose(ref.softmax_jacobian(column), expected, rtol=1e-10, atol=1e-15)
    from_layers = layers.softmax_jacobian(column[:, 0])  # the project's other reference, on rows
    np.testing.assert_allclose(ref.softmax_jacobian(column), from_layers, rtol=1e-12)


def test_reference_softmax_of_large_scores_matches_torch(torch):
    z = np.array([[1000.0], [999.5], [-1000.0], [998.0]])
    expected = torch.softmax(torch.tensor(z), dim=0).numpy()
    np.testing.assert_allclose(ref.softmax(z), expected, rtol=1e-12, atol=1e-300)
    assert np.isfinite(ref.softmax_jacobian(z)).all()


@pytest.mark.parametrize("alpha", [0.01, 0.2])
def test_reference_leaky_relu_and_its_derivative_match_torch(torch, alpha):
    leaky = torch.nn.functional.leaky_relu
    z = np.random.default_rng(4).normal(size=(4, 3))
    _, (grad,) = torch_grads(lambda t: leaky(t, alpha).sum(), z)
    np.testing.assert_allclose(ref.leaky_relu(z, alpha), leaky(torch.tensor(z), alpha).numpy(), rtol=1e-15)
    np.testing.assert_array_equal(ref.leaky_relu_derivative(z, alpha), grad)
    assert ref.leaky_relu_derivative(np.array([0.0]), alpha)[0] == 1.0  # the exam's 2.6; torch gives alpha


@pytest.mark.parametrize("which", sorted(NETWORKS))
def test_reference_network_loss_and_gradients_match_torch(torch, which):
    F = torch.nn.functional
    x, y, W1, b1, W2, b2 = arguments(NETWORKS[which])

    def loss(x, W1, b1, W2, b2):
        scores = W2 @ F.leaky_relu(W1 @ x + b1, 0.01) + b2
        # cross_entropy takes log-softmax inside, so it is exact however small the label's probability
        return F.cross_entropy(scores.T, torch.tensor([int(y.argmax())]))

    value, grads = torch_grads(loss, x, W1, b1, W2, b2)
    assert ref.network_loss(*arguments(NETWORKS[which])) == pytest.approx(float(value), rel=1e-12)
    got = ref.network_gradients(*arguments(NETWORKS[which]))
    for name, expected in zip(("W1", "b1", "W2", "b2"), grads[1:], strict=True):
        assert got[name].shape == expected.shape
        np.testing.assert_allclose(got[name], expected, rtol=1e-10, atol=1e-13, err_msg=f"{which} {name}")


def test_the_special_networks_test_what_they_say(torch):
    """Scores of size 1e3 with a label whose probability underflows to 0; mostly negative hidden units."""
    x, y, W1, b1, W2, b2 = arguments(NETWORKS["large logits"])
    scores = W2 @ ref.leaky_relu(W1 @ x + b1) + b2
    assert np.abs(scores).max() > 900
    assert torch.softmax(torch.tensor(scores), dim=0).numpy()[int(y.argmax()), 0] == 0.0
    negative = NETWORKS["mostly negative"]
    assert ((negative["W1"] @ negative["x"] + negative["b1"]) < 0).mean() > 0.5
