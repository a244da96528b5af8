# Return values that try to pass any equality check, or run code when unpickled.
import os

import numpy as np


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.ones(3)


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/nngrade_reduce_marker",))


class Sticky(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


def always_equal():
    return AlwaysEqual()


def reduce_payload():
    return {"loss": Payload()}


def array_subclass():
    return np.arange(3.0).view(Sticky)


def object_array():
    return np.array([AlwaysEqual(), 1], dtype=object)
