"""Trusted routines the hw2 grader runs INSIDE the sandboxed worker, next to the student's code.

This whole file is sent to the worker as source and executed there, so it may import only
numpy and the standard library, and must not depend on the student's own helper code (their
`Parameters` class may be wrong). Everything a driver returns is untrusted data for the
grader: the scores are decided in the parent process, never here.

Each driver takes the submission's namespace (a dict) as its first argument.
"""

import numpy as np


class GraderParameters:
    """The hw2 `Parameters` contract, implemented by the grader so students are graded on their models."""

    def __init__(self):
        self.param = {}
        self.grad = {}

    def set_param(self, key, array):
        self.param[key] = array
        self.grad[key] = np.zeros_like(array)

    def get_param(self, key):
        return self.param[key]

    def accumlate_grad(self, key, grad):
        if key not in self.grad:
            raise KeyError(
                f"accumlate_grad: no parameter named {key!r} (expected one of {sorted(self.grad)})"
            )
        grad = np.asarray(grad)
        if grad.shape != self.grad[key].shape:
            raise ValueError(
                f"accumlate_grad({key!r}): gradient has shape {grad.shape}, "
                f"but the parameter has shape {self.grad[key].shape}"
            )
        self.grad[key] += grad

    accumulate_grad = accumlate_grad

    def zero_grad(self):
        for key in self.grad:
            self.grad[key] = np.zeros_like(self.grad[key])

    def apply_grad(self, learning_rate):
        for key in self.param:
            self.param[key] -= learning_rate * self.grad[key]


def _params(arrays):
    params = GraderParameters()
    for key, value in arrays.items():
        params.set_param(key, np.array(value, copy=True))
    return params


def _check_output(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(
            f"the function must return a tuple (loss, probs), but it returned {type(result).__name__}"
        )
    loss, probs = result
    loss = np.asarray(loss, dtype=np.float64)
    if loss.size != 1:
        raise TypeError(
            f"loss must be a single number (the mean over the batch), but it has shape {loss.shape}"
        )
    return float(loss.reshape(-1)[0]), np.asarray(probs, dtype=np.float64)


def run_model(submission, function, arrays, batch_x, batch_y, grad=True, stale_grads=False):
    """Call a Q3 function once on fresh parameters; report outputs, gradients and side effects.

    stale_grads: fill every gradient with ones first, to see whether the function zeroes them.
    """
    params = _params(arrays)
    if stale_grads:
        for key in params.grad:
            params.grad[key] = np.ones_like(params.grad[key])
    x_before, y_before = batch_x.copy(), batch_y.copy()
    loss, probs = _check_output(submission[function](batch_x, batch_y, params, grad=grad))
    return {
        "loss": loss,
        "probs": probs,
        "grads": {k: np.asarray(v, dtype=np.float64) for k, v in params.grad.items()},
        "inputs_changed": not (np.array_equal(batch_x, x_before) and np.array_equal(batch_y, y_before)),
        "params_changed": any(not np.array_equal(params.param[k], arrays[k]) for k in arrays),
    }


def loss_only(submission, function, arrays, batch_x, batch_y):
    """The loss the student's forward computes (grad=False), for gradient checks of their own forward."""
    loss, _ = _check_output(submission[function](batch_x, batch_y, _params(arrays), grad=False))
    return loss


def train(submission, function, arrays, train_x, train_y, batch_size, learning_rate, epochs):
    """The handout's training loop (consecutive batches, plain SGD) driving the student's function."""
    # The set is shared by the three models' runs (Submission.keep): a function that changes its
    # batch in place must not change what the next model trains on.
    train_x, train_y = train_x.copy(), train_y.copy()
    params = _params(arrays)
    for _ in range(epochs):
        for start in range(0, len(train_x), batch_size):
            submission[function](
                train_x[start : start + batch_size], train_y[start : start + batch_size], params
            )
            params.apply_grad(learning_rate)
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.param.items()}
