import numpy as np


def row_logsumexp(x):
    top = x.max(axis=1, keepdims=True)
    return top + np.log(np.exp(x - top).sum(axis=1, keepdims=True))


if __name__ == "__main__":
    import time

    scores = np.random.randn(5, 10)
    started = time.time()
    print(row_logsumexp(scores), time.time() - started)
