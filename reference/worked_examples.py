"""The three hand-worked 2-2-2 networks of the seeds, computed with the layers of reference.layers.

All three share one shape. A batch of inputs x (N, D) goes through an affine layer with weights
W (D, H) and bias b, a hidden activation gives h (N, H), a second affine layer with weights V (H, K)
and bias c gives the output pre-activation s (N, K), and an optional output activation gives y (N, K).
The loss is E = 1/2 * sum over all entries of (y - t)^2, which is reference.layers.mse_forward.

W[i, j] is the weight from input i to hidden unit j and V[j, k] the weight from hidden unit j to
output k. A bias of shape (H,) gives each unit its own bias; a bias of shape () is one number shared
by the whole layer, as in the Mazur slides. Each seed numbers the weights its own way, so each
example function below spells out which matrix entry carries which printed name.

The seeds work with one example, so their functions use N = 1 and return plain floats keyed by the
names the seed prints (``_new`` marks a weight after the update).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from reference.layers import (
    Cache,
    affine_backward,
    affine_forward,
    mse_backward,
    mse_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
)

# --------------------------------------------------------------------------------------------------
# The two pieces reference.layers does not have: a bias that may be shared, and no activation.


def _affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """affine_forward for x (N, D), w (D, M) and b (M,) or a shared () bias -> out (N, M)."""
    # A shared bias is the same number added to each of the M units.
    out, cache = affine_forward(x, w, np.broadcast_to(b, (w.shape[1],)))
    return out, (cache, b.ndim == 0)


def _affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """affine_backward for dout (N, M) -> dx (N, D), dw (D, M), db shaped like the forward's b."""
    layer_cache, shared = cache
    dx, dw, db = affine_backward(dout, layer_cache)
    # A shared bias feeds every unit, so it collects all of their gradients.
    return dx, dw, (np.asarray(db.sum()) if shared else db)


def _identity_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """No activation: x (N, M) unchanged."""
    return x, ()


def _identity_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dout (N, M) passes straight through."""
    return dout


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "identity": (_identity_forward, _identity_backward),
}

# --------------------------------------------------------------------------------------------------
# The network: parameters, forward pass, backward pass, one SGD step.


@dataclass(frozen=True)
class TwoLayerNet:
    """A D-H-K network: w (D, H), b (H,) or (), v (H, K), c (K,) or (), and its two activation names."""

    w: np.ndarray
    b: np.ndarray
    v: np.ndarray
    c: np.ndarray
    hidden: str
    output: str

    def __post_init__(self) -> None:
        for name in ("w", "b", "v", "c"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        for where, act in (("hidden", self.hidden), ("output", self.output)):
            if act not in ACTIVATIONS:
                raise ValueError(f"{where} activation must be one of {sorted(ACTIVATIONS)}, got {act!r}")
        if self.w.ndim != 2 or self.v.ndim != 2:
            raise ValueError(f"w and v must be 2-D, got shapes {self.w.shape} and {self.v.shape}")
        _, h = self.w.shape
        h2, k = self.v.shape
        if h2 != h:
            raise ValueError(f"w is (D, H) = {self.w.shape} but v is {self.v.shape}; v needs H = {h} rows")
        if self.b.shape not in ((h,), ()):
            raise ValueError(f"b must have shape ({h},) or (), got {self.b.shape}")
        if self.c.shape not in ((k,), ()):
            raise ValueError(f"c must have shape ({k},) or (), got {self.c.shape}")


def network_forward(net: TwoLayerNet, x: np.ndarray, t: np.ndarray) -> dict:
    """x (N, D), t (N, K) -> a, h (N, H), s, y (N, K), the float loss E and each layer's cache."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    t = np.atleast_2d(np.asarray(t, dtype=np.float64))
    a, first = _affine_forward(x, net.w, net.b)
    h, hidden = ACTIVATIONS[net.hidden][0](a)
    s, second = _affine_forward(h, net.v, net.c)
    y, output = ACTIVATIONS[net.output][0](s)
    loss, mse = mse_forward(y, t)
    caches = {"first": first, "hidden": hidden, "second": second, "output": output, "mse": mse}
    return {"a": a, "h": h, "s": s, "y": y, "loss": float(loss), "caches": caches}


def network_backward(net: TwoLayerNet, cache: dict) -> dict:
    """Gradients of E from a ``network_forward`` cache: dy, ds (N, K), dh, da (N, H), dx, dw, db, dv, dc."""
    caches = cache["caches"]
    dy = mse_backward(1.0, caches["mse"])
    ds = ACTIVATIONS[net.output][1](dy, caches["output"])
    dh, dv, dc = _affine_backward(ds, caches["second"])
    da = ACTIVATIONS[net.hidden][1](dh, caches["hidden"])
    dx, dw, db = _affine_backward(da, caches["first"])
    return {"dy": dy, "ds": ds, "dv": dv, "dc": dc, "dh": dh, "da": da, "dw": dw, "db": db, "dx": dx}


def activation_slopes(net: TwoLayerNet, cache: dict, layer: str) -> np.ndarray:
    """d out / d in of the "hidden" (N, H) or "output" (N, K) activation, entry by entry."""
    backward = ACTIVATIONS[getattr(net, layer)][1]
    inputs = cache["a"] if layer == "hidden" else cache["s"]
    return backward(np.ones_like(inputs), cache["caches"][layer])


def sgd_step(net: TwoLayerNet, grads: dict, eta: float, update_biases: bool = True) -> TwoLayerNet:
    """One plain gradient-descent step with rate eta; biases stay put when update_biases is False."""
    changes = {"w": net.w - eta * grads["dw"], "v": net.v - eta * grads["dv"]}
    if update_biases:
        changes.update(b=net.b - eta * grads["db"], c=net.c - eta * grads["dc"])
    return replace(net, **changes)


def _forward_backward(net: TwoLayerNet, x: np.ndarray, t: np.ndarray) -> tuple[dict, dict]:
    """One forward and one backward pass: (the forward cache, the gradients)."""
    cache = network_forward(net, x, t)
    return cache, network_backward(net, cache)


def _name_entries(names: dict[str, tuple[int, ...]], array: np.ndarray, prefix: str = "", suffix: str = ""):
    """Pick entries out of array by index and key them prefix + name + suffix."""
    return {f"{prefix}{name}{suffix}": float(array[index]) for name, index in names.items()}


# --------------------------------------------------------------------------------------------------
# Seed 000, COMP9444 week 2, Q3: ReLU hidden layer, no output activation, eta 0.5, everything updated.
# Names: w_ij joins x_i to u_j (W[i-1, j-1]); v_jk joins y_j to z_k (V[j-1, k-1]); b_j, c_k biases.

COMP9444_X = np.array([[0.5, -0.4]])
COMP9444_T = np.array([[1.0, 0.0]])
COMP9444_ETA = 0.5
_COMP9444_W_NAMES = {f"w{i}{j}": (i - 1, j - 1) for i in (1, 2) for j in (1, 2)}
_COMP9444_V_NAMES = {f"v{j}{k}": (j - 1, k - 1) for j in (1, 2) for k in (1, 2)}
_UNIT_NAMES = {"1": (0,), "2": (1,)}


def comp9444_net() -> TwoLayerNet:
    """The seed's initial weights, laid out as W[i, j] = w_(i+1)(j+1) and V[j, k] = v_(j+1)(k+1)."""
    w, v = [[0.5, -0.7], [0.4, -0.6]], [[0.3, -0.6], [-0.4, -0.8]]
    return TwoLayerNet(w=w, b=[-0.9, 0.7], v=v, c=[-0.3, 0.2], hidden="relu", output="identity")


def comp9444_week2_q3(eta: float = COMP9444_ETA) -> dict[str, float]:
    """Every quantity of the week-2 backprop question: u, y, z, E, each d*, and each updated parameter."""
    net = comp9444_net()
    cache, grads = _forward_backward(net, COMP9444_X, COMP9444_T)
    new = sgd_step(net, grads, eta)
    out = {"E": cache["loss"]}
    for letter, key in (("u", "a"), ("y", "h"), ("z", "y")):
        out.update(_name_entries(_UNIT_NAMES, cache[key][0], prefix=letter))
    for letter, key in (("dz", "dy"), ("dy", "dh"), ("du", "da"), ("db", "db"), ("dc", "dc")):
        row = grads[key][0] if grads[key].ndim == 2 else grads[key]
        out.update(_name_entries(_UNIT_NAMES, row, prefix=letter))
    out.update(_name_entries(_COMP9444_W_NAMES, grads["dw"], prefix="d"))
    out.update(_name_entries(_COMP9444_V_NAMES, grads["dv"], prefix="d"))
    out.update(_name_entries(_COMP9444_W_NAMES, new.w, suffix="_new"))
    out.update(_name_entries(_COMP9444_V_NAMES, new.v, suffix="_new"))
    out.update(_name_entries({"b1": (0,), "b2": (1,)}, new.b, suffix="_new"))
    out.update(_name_entries({"c1": (0,), "c2": (1,)}, new.c, suffix="_new"))
    return out


# --------------------------------------------------------------------------------------------------
# Seed 001, Mazur's example: sigmoid on both layers, one bias shared per layer, biases never updated.
# Names: hidden unit h1 gets w1 (from i1) and w2 (from i2), h2 gets w3 and w4; output o1 gets w5
# (from h1) and w6 (from h2), o2 gets w7 and w8. So W = [[w1, w3], [w2, w4]], V = [[w5, w7], [w6, w8]].

MAZUR_X = np.array([[0.05, 0.10]])
MAZUR_T = np.array([[0.01, 0.99]])
MAZUR_ETA = 0.5
_MAZUR_W_NAMES = {"w1": (0, 0), "w2": (1, 0), "w3": (0, 1), "w4": (1, 1)}
_MAZUR_V_NAMES = {"w5": (0, 0), "w6": (1, 0), "w7": (0, 1), "w8": (1, 1)}


def mazur_net() -> TwoLayerNet:
    """The slides' initial weights with shared biases b1 = 0.35 (hidden) and b2 = 0.60 (output)."""
    w, v = [[0.15, 0.25], [0.20, 0.30]], [[0.40, 0.50], [0.45, 0.55]]
    return TwoLayerNet(w=w, b=0.35, v=v, c=0.60, hidden="sigmoid", output="sigmoid")


def mazur_train(steps: int, eta: float = MAZUR_ETA) -> tuple[TwoLayerNet, np.ndarray, float]:
    """Take ``steps`` weight-only SGD steps on the slides' example; return (net, outputs (1, 2), E_total)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    net = mazur_net()
    for _ in range(steps):
        _, grads = _forward_backward(net, MAZUR_X, MAZUR_T)
        net = sgd_step(net, grads, eta, update_biases=False)
    cache = network_forward(net, MAZUR_X, MAZUR_T)
    return net, cache["y"], cache["loss"]


def mazur_slides(eta: float = MAZUR_ETA) -> dict[str, float]:
    """Every quantity the slides derive for one step: net/out values, errors, deltas, gradients, updates."""
    net = mazur_net()
    cache, grads = _forward_backward(net, MAZUR_X, MAZUR_T)
    new = sgd_step(net, grads, eta, update_biases=False)
    y, h = cache["y"][0], cache["h"][0]
    hidden_slopes = activation_slopes(net, cache, "hidden")[0]
    output_slopes = activation_slopes(net, cache, "output")[0]
    out = {"E_total": cache["loss"]}
    for unit, j in (("h1", 0), ("h2", 1)):
        out[f"net_{unit}"] = float(cache["a"][0, j])
        out[f"out_{unit}"] = float(h[j])
        out[f"dE_dout_{unit}"] = float(grads["dh"][0, j])
        out[f"dout_{unit}_dnet_{unit}"] = float(hidden_slopes[j])
        out[f"delta_{unit}"] = float(grads["da"][0, j])
    # contributions[j, k]: how output k's error reaches hidden unit j (delta_ok times the joining weight).
    contributions = grads["ds"][0][None, :] * net.v
    for unit, k in (("o1", 0), ("o2", 1)):
        out[f"net_{unit}"] = float(cache["s"][0, k])
        out[f"out_{unit}"] = float(y[k])
        out[f"E_{unit}"] = float(0.5 * (MAZUR_T[0, k] - y[k]) ** 2)
        out[f"dE_dout_{unit}"] = float(grads["dy"][0, k])
        out[f"dout_{unit}_dnet_{unit}"] = float(output_slopes[k])
        out[f"delta_{unit}"] = float(grads["ds"][0, k])
        out[f"dE_{unit}_dout_h1"] = float(contributions[0, k])
        out[f"dE_{unit}_dout_h2"] = float(contributions[1, k])
    out.update(_name_entries(_MAZUR_W_NAMES, grads["dw"], prefix="dE_d"))
    out.update(_name_entries(_MAZUR_V_NAMES, grads["dv"], prefix="dE_d"))
    out["dE_db1"] = float(grads["db"])
    out["dE_db2"] = float(grads["dc"])
    out.update(_name_entries(_MAZUR_W_NAMES, new.w, suffix="_new"))
    out.update(_name_entries(_MAZUR_V_NAMES, new.v, suffix="_new"))
    after = network_forward(new, MAZUR_X, MAZUR_T)
    out["E_total_after"] = after["loss"]
    out["out_o1_after"] = float(after["y"][0, 0])
    out["out_o2_after"] = float(after["y"][0, 1])
    return out


# --------------------------------------------------------------------------------------------------
# Seed 003, exam section 3: ReLU hidden layer, no output activation, loss 1/2 sum (t - o)^2 ("MSE").
# Names: h1, h2 are the hidden pre-activations and h3, h4 their ReLUs. w_ij joins input i_i to h_j;
# w_3k and w_4k join h3 and h4 to o_k. So W = [[w11, w12], [w21, w22]], V = [[w31, w32], [w41, w42]];
# b1, b2 are the hidden biases and b3, b4 the output biases.

EXAM_X = np.array([[2.0, -1.0]])
EXAM_T = np.array([[1.0, 0.5]])
EXAM_LR = 0.1
_EXAM_W_NAMES = {f"w{i}{j}": (i - 1, j - 1) for i in (1, 2) for j in (1, 2)}
_EXAM_V_NAMES = {f"w{j + 2}{k}": (j - 1, k - 1) for j in (1, 2) for k in (1, 2)}


def exam_net() -> TwoLayerNet:
    """The exam table's weights and biases in the W, V layout described above."""
    w, v = [[1.0, -0.5], [0.5, -1.0]], [[0.5, -1.0], [-0.5, 1.0]]
    return TwoLayerNet(w=w, b=[0.5, -0.5], v=v, c=[-1.0, 0.5], hidden="relu", output="identity")


def exam_two_layer(lr: float = EXAM_LR) -> dict[str, float]:
    """Forward values, the loss, dMSE for every weight and bias, and w21 after one step of rate lr."""
    net = exam_net()
    cache, grads = _forward_backward(net, EXAM_X, EXAM_T)
    out = {"MSE": cache["loss"]}
    out.update(_name_entries({"h1": (0, 0), "h2": (0, 1)}, cache["a"]))
    out.update(_name_entries({"h3": (0, 0), "h4": (0, 1)}, cache["h"]))
    out.update(_name_entries({"o1": (0, 0), "o2": (0, 1)}, cache["y"]))
    squared = (EXAM_T - cache["y"]) ** 2
    out.update(_name_entries({"sq_err_o1": (0, 0), "sq_err_o2": (0, 1)}, squared))
    out.update(_name_entries(_EXAM_W_NAMES, grads["dw"], prefix="dMSE_d"))
    out.update(_name_entries(_EXAM_V_NAMES, grads["dv"], prefix="dMSE_d"))
    out.update(_name_entries({"b1": (0,), "b2": (1,)}, grads["db"], prefix="dMSE_d"))
    out.update(_name_entries({"b3": (0,), "b4": (1,)}, grads["dc"], prefix="dMSE_d"))
    slopes = activation_slopes(net, cache, "hidden")
    out.update(_name_entries({"dh3_dh1": (0, 0), "dh4_dh2": (0, 1)}, slopes))
    # The exam splits dMSE/dw21 into its path through o1 and its path through o2 (w21 only reaches h1).
    x2, relu_slope = EXAM_X[0, 1], out["dh3_dh1"]
    for k, unit in enumerate(("o1", "o2")):
        out[f"dMSE_dw21_via_{unit}"] = float(grads["ds"][0, k] * net.v[0, k] * relu_slope * x2)
    out["w21_new"] = float(net.w[1, 0] - lr * grads["dw"][1, 0])
    return out
