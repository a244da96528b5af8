from typing import List

import numpy as np

NB_FEAT = 28 * 28
H = NB_FEAT // 2
NB_CLASSES: int = 10
CLASSES: List[int] = list(range(NB_CLASSES))
SHAPES = {"w1": (NB_FEAT, H), "b1": (H,), "w_sm": (H, NB_CLASSES)}
DTYPE = np.float32
LABEL = f"MLP with {H} hidden units"
SQUARES = [k * k for k in range(NB_CLASSES) if k % 2 == 0]
lr = 0.005  #@param {type:"number"}


def load():
    return np.zeros((10, NB_FEAT), dtype=DTYPE)


data = load()
n_rows = len(data)
total = sum(SHAPES["w1"])
