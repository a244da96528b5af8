# Saved by Notepad: BOM and CRLF line endings
import numpy as np


def g_x2(x1, x2, w1, w2):
    s = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2)))
    return w2 * s * (1 - s)


GREETING = "héllo"
