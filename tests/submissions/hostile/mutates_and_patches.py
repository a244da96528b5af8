# Changes its inputs in place, patches numpy in its own process, and plants files beside itself.
import numpy as np


def mutate(x):
    x[...] = 0
    return x.sum()


def patch_numpy():
    np.allclose = lambda *args, **kwargs: True
    np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
    return bool(np.allclose(1.0, 2.0))


def plant_files():
    for name in ("conftest.py", "sitecustomize.py", "numpy.py", "usercustomize.py"):
        with open(name, "w") as fh:
            fh.write("import os\nopen('/tmp/planted_' + __name__, 'w').close()\n__version__ = 'fake'\n")
    return "planted"


def numpy_version():
    import numpy

    return numpy.__version__
