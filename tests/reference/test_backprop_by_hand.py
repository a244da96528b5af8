"""reference.backprop_by_hand: its true values, and every per-item formula at the student's own inputs.

Oracles: reference.worked_examples (the same networks with matrices, itself proven against torch) for
the true values, and torch autograd in float64 for the formulas. A formula is meant to compute its item
from whatever values its inputs have, as a student carrying an earlier error forward would. So each
test below replaces one item by another value in a torch network built from the seeds' numbers (a
forward value by shifting the node, a derivative by a gradient hook) and checks that every other item,
computed by the chain of formulas with that same replacement, is what torch then gives.
"""

from __future__ import annotations

import math

import pytest

from reference import backprop_by_hand as bbh
from reference.worked_examples import comp9444_week2_q3, exam_two_layer, mazur_slides

# Our item name -> worked_examples' key, where they differ; None: worked_examples has no such value.
RENAMED = {
    "comp9444_week2_q3": {"e": "E"},
    "mazur_slides": {
        "e_o1": "E_o1", "e_o2": "E_o2", "e_total": "E_total",
        "dout_o1": "dE_dout_o1", "dout_o2": "dE_dout_o2", "dnet_o1": "delta_o1", "dnet_o2": "delta_o2",
        "dout_h1": "dE_dout_h1", "dout_h2": "dE_dout_h2", "dnet_h1": "delta_h1", "dnet_h2": "delta_h2",
        **{f"dw{k}": f"dE_dw{k}" for k in range(1, 9)},
    },
    "exam_two_layer": {
        "mse": "MSE",
        **{f"d{p}": f"dMSE_d{p}" for p in ("w11", "w12", "w21", "w22", "w31", "w32", "w41", "w42")},
        **{f"d{p}": f"dMSE_d{p}" for p in ("b1", "b2", "b3", "b4")},
        **dict.fromkeys(("do1", "do2", "dh1", "dh2", "dh3", "dh4")),
    },
}  # fmt: skip
WORKED = {
    "comp9444_week2_q3": comp9444_week2_q3,
    "mazur_slides": mazur_slides,
    "exam_two_layer": exam_two_layer,
}
DECIMALS = {"comp9444_week2_q3": 4, "mazur_slides": 4, "exam_two_layer": 2}


@pytest.mark.parametrize("name", bbh.NETWORKS)
def test_true_values_agree_with_worked_examples(name):
    worked = WORKED[name]()
    truth = bbh.true_values(name)
    compared = 0
    for item, value in truth.items():
        key = RENAMED[name].get(item, item)
        if key is None:
            continue
        assert value == pytest.approx(worked[key], rel=1e-12, abs=1e-15), item
        compared += 1
    only_torch = [item for item in truth if RENAMED[name].get(item, item) is None]
    assert compared + len(only_torch) == len(truth)
    assert len(only_torch) == (6 if name == "exam_two_layer" else 0)


@pytest.mark.parametrize("name", bbh.NETWORKS)
def test_items_are_ordered_and_ask_for_the_seeds_precision(name):
    net = bbh.network(name)
    seen: set[str] = set()
    for item in net.items:
        assert item.name not in seen
        assert set(item.inputs) <= seen, f"{item.name} uses an item computed after it"
        assert item.decimals == net.decimals == DECIMALS[name]
        assert item.description
        seen.add(item.name)
    plain = [(q["name"], q["decimals"], q["description"], tuple(q["inputs"])) for q in bbh.questions(name)]
    assert plain == [(i.name, i.decimals, i.description, i.inputs) for i in net.items]


def test_the_exams_answers_are_exact_at_two_decimals():
    """Asking 2 decimals loses nothing: the exam's numbers all have at most 2 (0.65 at the end)."""
    for value in bbh.true_values("exam_two_layer").values():
        assert value == pytest.approx(round(value, 2), abs=1e-12)


def test_recompute_uses_the_values_it_is_given():
    # out_h1 = 0.40 gives net_o1 = 0.4 * 0.40 + 0.45 * out_h2 + 0.60 whatever the true out_h1 is.
    got = bbh.recompute("mazur_slides", "net_o1", {"out_h1": 0.40, "out_h2": 0.5})
    assert got == pytest.approx(0.4 * 0.40 + 0.45 * 0.5 + 0.60, rel=1e-15)
    with pytest.raises(KeyError):
        bbh.evaluate("mazur_slides", {"no_such_item": 1.0})


# --------------------------------------------------------------------------------------------------
# The torch oracle: the seeds' networks, one scalar tensor per number, with one value replaced.


class World:
    """A scalar torch graph where a forward node or a derivative can be replaced by a given value."""

    def __init__(self, params: dict[str, float], replace: dict[str, float]):
        import torch

        self.torch = torch
        self.replace = replace
        self.nodes: dict = {}
        self.params = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in params.items()}
        for name, leaf in self.params.items():
            self._hook(leaf, f"d{name}")

    def _hook(self, tensor, key: str) -> None:
        if key in self.replace:
            value = self.torch.tensor(self.replace[key], dtype=self.torch.float64)
            tensor.register_hook(lambda _grad: value)  # every use upstream sees this derivative instead

    def __call__(self, name: str, expr):
        """A forward node; a replaced one keeps its gradient path but takes the given value."""
        if name in self.replace:
            expr = expr + (self.replace[name] - expr.detach())
        expr.retain_grad()
        self._hook(expr, f"d{name}")
        self.nodes[name] = expr
        return expr

    def values(self, loss, rate: float, updated: tuple[str, ...]) -> dict[str, float]:
        """Every node, every derivative of the loss, and the updated parameters, as floats."""
        loss.backward()
        out = {name: node.item() for name, node in self.nodes.items()}
        out.update({f"d{name}": node.grad.item() for name, node in self.nodes.items()})
        out.update({f"d{name}": leaf.grad.item() for name, leaf in self.params.items()})
        for name in updated:
            out[f"{name}_new"] = self.params[name].item() - rate * self.params[name].grad.item()
        return out


def comp9444_world(replace):
    params = dict(w11=0.5, w12=-0.7, w21=0.4, w22=-0.6, b1=-0.9, b2=0.7)
    params.update(v11=0.3, v12=-0.6, v21=-0.4, v22=-0.8, c1=-0.3, c2=0.2)
    g = World(params, replace)
    p, relu = g.params, g.torch.relu
    x1, x2, t1, t2 = 0.5, -0.4, 1.0, 0.0
    u1 = g("u1", p["b1"] + x1 * p["w11"] + x2 * p["w21"])
    u2 = g("u2", p["b2"] + x1 * p["w12"] + x2 * p["w22"])
    y1, y2 = g("y1", relu(u1)), g("y2", relu(u2))
    z1 = g("z1", p["c1"] + y1 * p["v11"] + y2 * p["v21"])
    z2 = g("z2", p["c2"] + y1 * p["v12"] + y2 * p["v22"])
    e = g("e", 0.5 * ((z1 - t1) ** 2 + (z2 - t2) ** 2))
    return g.values(e, 0.5, tuple(params))


def mazur_world(replace):
    params = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55)
    g = World(params, replace)
    p, sigmoid = g.params, g.torch.sigmoid
    i1, i2, b1, b2 = 0.05, 0.10, 0.35, 0.60
    out_h1 = g("out_h1", sigmoid(g("net_h1", p["w1"] * i1 + p["w2"] * i2 + b1)))
    out_h2 = g("out_h2", sigmoid(g("net_h2", p["w3"] * i1 + p["w4"] * i2 + b1)))
    out_o1 = g("out_o1", sigmoid(g("net_o1", p["w5"] * out_h1 + p["w6"] * out_h2 + b2)))
    out_o2 = g("out_o2", sigmoid(g("net_o2", p["w7"] * out_h1 + p["w8"] * out_h2 + b2)))
    e_total = g("e_total", g("e_o1", 0.5 * (0.01 - out_o1) ** 2) + g("e_o2", 0.5 * (0.99 - out_o2) ** 2))
    return g.values(e_total, 0.5, tuple(params))


def exam_world(replace):
    params = dict(w11=1.0, w12=-0.5, w21=0.5, w22=-1.0, w31=0.5, w32=-1.0, w41=-0.5, w42=1.0)
    params.update(b1=0.5, b2=-0.5, b3=-1.0, b4=0.5)
    g = World(params, replace)
    p, relu = g.params, g.torch.relu
    i1, i2, t1, t2 = 2.0, -1.0, 1.0, 0.5
    h3 = g("h3", relu(g("h1", i1 * p["w11"] + i2 * p["w21"] + p["b1"])))
    h4 = g("h4", relu(g("h2", i1 * p["w12"] + i2 * p["w22"] + p["b2"])))
    o1 = g("o1", h3 * p["w31"] + h4 * p["w41"] + p["b3"])
    o2 = g("o2", h3 * p["w32"] + h4 * p["w42"] + p["b4"])
    mse = g("mse", 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2)
    return g.values(mse, 0.1, ("w21",))


WORLDS = {"comp9444_week2_q3": comp9444_world, "mazur_slides": mazur_world, "exam_two_layer": exam_world}


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


# An activation's output is replaced through its input (torch then takes the slope at that input):
# item -> (the input, the input that gives the value). A ReLU output of a negative input is left out:
# no input gives it another value and the same (zero) slope.
THROUGH_INPUT = {
    "comp9444_week2_q3": {"y2": ("u2", float)},
    "mazur_slides": {o: ("net" + o[3:], _logit) for o in ("out_h1", "out_h2", "out_o1", "out_o2")},
    "exam_two_layer": {"h3": ("h1", float)},
}
UNREACHABLE = {"comp9444_week2_q3": {"y1"}, "mazur_slides": set(), "exam_two_layer": {"h4"}}


def _replaced(name: str, item: str, value: float) -> tuple[dict[str, float], set[str]]:
    """What to replace in the torch world, and the items that then legitimately differ."""
    if item in THROUGH_INPUT[name]:
        source, inverse = THROUGH_INPUT[name][item]
        return {source: inverse(value)}, {item, source}
    return {item: value}, {item}


@pytest.mark.parametrize("name", bbh.NETWORKS)
def test_true_values_match_torch(name):
    pytest.importorskip("torch")
    world = WORLDS[name]({})
    for item, value in bbh.true_values(name).items():
        assert value == pytest.approx(world[item], rel=1e-12, abs=1e-15), item


def _cases():
    """Every item some later item is computed from, moved up and down."""
    for name in bbh.NETWORKS:
        used = {source for item in bbh.network(name).items for source in item.inputs}
        for item in bbh.network(name).items:
            if item.name in used and item.name not in UNREACHABLE[name]:
                for shift in (0.137, -0.211):
                    yield pytest.param(name, item.name, shift, id=f"{name}-{item.name}{shift:+}")
    # Across a ReLU's kink: the unit switches on (u1, h2) or off (h1), and its slope with it.
    yield pytest.param("comp9444_week2_q3", "u1", 1.0, id="comp9444_week2_q3-u1-switches-on")
    yield pytest.param("exam_two_layer", "h2", 1.0, id="exam_two_layer-h2-switches-on")
    yield pytest.param("exam_two_layer", "h1", -3.0, id="exam_two_layer-h1-switches-off")


@pytest.mark.parametrize(("name", "item", "shift"), list(_cases()))
def test_every_formula_carries_a_replaced_value_forward_as_torch_does(name, item, shift):
    pytest.importorskip("torch")
    value = bbh.true_values(name)[item] + shift
    replace, differ = _replaced(name, item, value)
    world = WORLDS[name](replace)
    chain = bbh.evaluate(name, {item: value})
    assert world[item] == pytest.approx(value, rel=1e-12, abs=1e-15)  # the replacement took effect
    for other, ours in chain.items():
        if other not in differ:
            assert ours == pytest.approx(world[other], rel=1e-10, abs=1e-13), other


def test_a_replaced_value_reaches_the_items_computed_from_it():
    """The comparison above is not vacuous: a wrong out_h1 moves everything that depends on it."""
    pytest.importorskip("torch")
    truth = bbh.true_values("mazur_slides")
    replace, _ = _replaced("mazur_slides", "out_h1", 0.40)
    world, chain = mazur_world(replace), bbh.evaluate("mazur_slides", {"out_h1": 0.40})
    for item in ("net_o1", "out_o2", "e_total", "dw5", "dnet_h1", "dw1", "w1_new", "w8_new"):
        assert chain[item] != pytest.approx(truth[item], rel=1e-6), item
        assert chain[item] == pytest.approx(world[item], rel=1e-10), item
