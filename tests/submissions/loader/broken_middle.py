import numpy as np


def g_w1(x1, x2, w1, w2):
    s = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2)))
    return x1 * s * (1 - s) + w1


def g_w2(x1, x2, w1, w2):
    s = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2))
    return x2 * s * (1 - s) + w2


def g_x1(x1, x2, w1, w2):
    s = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2)))
    return w1 * s * (1 - s)


learning_rate = 0.01 +


def g_x2(x1, x2, w1, w2):
    s = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2)))
    return w2 * s * (1 - s)
