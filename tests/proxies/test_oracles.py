"""The zero-cost proxies of ``ProxyScorer`` against an independent float64 numpy oracle
(``tests/oracles/proxies_numpy.py``, written from shared/docs/reference.md section 1) on a small
NB201 network (C=2, one cell per stage) with the scorer's own weights, images and labels.

Tolerances are relative, per proxy, for float32 programs against the float64 oracle, about
ten times the largest error measured: the gradient proxies sum thousands of float32 products;
plain and grasp are signed sums; jacob_cov and epe_nas go through a correlation matrix; nwot's
ReLU codes may flip where a unit's input is within float32 rounding of zero; grasp's oracle
takes a central difference of gradients. A wrong definition (a missing absolute value, the
global instead of the per-layer norm, unused weights scored, Fisher without its fan-in) moves a
score by 60% or more on these cells. ``MAX_REL_ERR`` collects the
largest relative error measured per proxy (the oracle itself is checked against finite
differences first).
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from oracles import proxies_numpy as oracle

from pyengine.proxies import PROXIES, ProxyScorer
from pyengine.proxies import _nb201 as nb
from pyengine.proxies._defs import epe_nas_host
from pyengine.spaces import get_space

CHANNELS, CELLS = 2, 1
BATCH, SEED = 8, 7
# none / skip / conv1x1 / conv3x3 / pool mixes, the six edges each time in a different role
CELL_STRINGS = (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|",
    "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
)
# relative tolerance of each proxy (float32 program against the float64 oracle)
RTOL_F32 = {
    "jacob_cov": 1e-5,
    "epe_nas": 1e-4,
    "nwot": 1e-5,
    "synflow": 2e-5,
    "snip": 1e-5,
    "grasp": 5e-4,  # a signed sum; the oracle's central difference adds about 1e-7
    "fisher": 1e-5,
    "grad_norm": 1e-5,
    "plain": 2e-4,  # a signed sum: cancellation magnifies float32 rounding
    "l2_norm": 1e-6,
    "zen": 1e-5,
    "params": 0.0,
    "flops": 0.0,
}
FAST = [n for n in PROXIES.names() if n != "grasp"]
MAX_REL_ERR: dict[str, float] = {}


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), np.finfo(np.float64).tiny)


def _check(name: str, got: np.ndarray, want: list[float], record: Any) -> None:
    err = max(_rel(float(g), w) for g, w in zip(got, want, strict=True))
    MAX_REL_ERR[name] = max(MAX_REL_ERR.get(name, 0.0), err)
    record(f"max_rel_err_{name}", err)
    np.testing.assert_allclose(got, want, rtol=RTOL_F32[name], atol=0, err_msg=name)


@pytest.fixture(scope="module")
def cells():
    space = get_space("nb201")
    batch = space.as_batch(list(CELL_STRINGS))
    return batch, [tuple(int(o) for o in row) for row in np.asarray(batch.ops)]


@pytest.fixture(scope="module")
def scored(cells):
    """The tiny network's scores of every proxy but grasp, with its weights and batch."""
    batch, ops = cells
    scorer = ProxyScorer("nb201", FAST, channels=CHANNELS, cells_per_stage=CELLS, batch_size=BATCH, seed=SEED)
    out = scorer.score(batch)
    variables = scorer._init(BATCH)
    p = oracle.weights_from_flax(variables["params"], CELLS)
    return scorer, out, p, np.asarray(scorer.images, np.float64), np.asarray(scorer.labels)


def test_oracle_gradients_match_finite_differences(scored, cells):
    """The oracle's hand-written backward pass against central differences of its forward
    pass, for weights of every kind of layer and for the input."""
    _, _, p, x, labels = scored
    ops = cells[1][3]
    rng = np.random.default_rng(0)
    x = x[:4]  # a smaller batch: its own BN statistics, the same layers
    labels = labels[:4]
    _, g, _, gx = oracle.loss_and_grads(p, x, labels, ops, CELLS)

    def loss(q, xx):
        logits = oracle.forward(q, xx, ops, CELLS)[0]
        return oracle._cross_entropy(logits, labels)[0]

    h = 1e-6
    for path, grad in g.items():
        for _ in range(2):
            i = tuple(int(rng.integers(d)) for d in grad.shape)
            plus, minus = dict(p), dict(p)
            plus[path], minus[path] = p[path].copy(), p[path].copy()
            plus[path][i] += h
            minus[path][i] -= h
            fd = (loss(plus, x) - loss(minus, x)) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-9), path
    for _ in range(8):
        i = tuple(int(rng.integers(d)) for d in x.shape)
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        assert gx[i] == pytest.approx((loss(p, xp) - loss(p, xm)) / (2 * h), rel=1e-5, abs=1e-9)


def test_network_proxies_equal_the_numpy_oracle(scored, cells, record_property):
    scorer, out, p, x, labels = scored
    _, ops = cells
    want = {name: [] for name in FAST if name != "zen"}
    for cell in ops:
        for name, value in oracle.scores(p, x, labels, cell, scorer.n_classes, CELLS).items():
            if name in want:
                want[name].append(value)
    for name, values in want.items():
        _check(name, out[name], values, record_property)


def _zen_draws(scorer, variables):
    """The weights and inputs zen draws from the scorer's seed (one normal draw for every
    conv / linear weight, in the program's path order; the batch; its perturbation)."""
    key = jax.random.fold_in(jax.random.key(scorer.seed), 1)
    k_w, k_x, k_e = jax.random.split(key, 3)
    flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["params"]))
    order = sorted(k for k in flat if k[-1] in nb.WEIGHT_NAMES)
    sizes = [int(np.prod(flat[k].shape)) for k in order]
    draw = np.asarray(jax.random.normal(k_w, (sum(sizes),), jnp.float32))
    starts = np.cumsum([0, *sizes])
    drawn = dict(flat)
    for i, k in enumerate(order):
        drawn[k] = draw[starts[i] : starts[i + 1]].reshape(flat[k].shape)
    shape = scorer.images.shape
    x = jax.random.normal(k_x, shape, jnp.float32)
    x2 = x + 0.01 * jax.random.normal(k_e, shape, jnp.float32)
    tree = flax.traverse_util.unflatten_dict(drawn)
    return oracle.weights_from_flax(tree, CELLS), np.asarray(x, np.float64), np.asarray(x2, np.float64)


def test_zen_equals_the_numpy_oracle(scored, cells, record_property):
    scorer, out, _, _, _ = scored
    weights, x, x2 = _zen_draws(scorer, scorer._init(BATCH))
    _check("zen", out["zen"], [oracle.zen(weights, x, x2, cell, CELLS) for cell in cells[1]], record_property)


def test_epe_nas_many_classes_branch_equals_the_oracle():
    """EPE-NAS over more than 100 classes (ImageNet16-120) averages class differences: the host
    formula against the oracle's on the same Jacobian rows, classes of 1 to 4 samples."""
    rng = np.random.default_rng(3)
    jac = rng.standard_normal((12, 40)) + rng.standard_normal(40)
    labels = np.array([0, 0, 5, 5, 5, 9, 17, 17, 17, 17, 119, 2])
    jc = jac - jac.mean(1, keepdims=True)
    for n_classes in (10, 120):
        got = epe_nas_host(jc @ jc.T, {"labels": labels, "n_classes": n_classes})
        want = oracle.epe_nas_from_jacobian(jac, labels, n_classes)
        assert got == pytest.approx(want, rel=1e-10), n_classes


@pytest.mark.slow
def test_grasp_equals_the_numpy_oracle(scored, cells, record_property):
    """grasp (its program alone costs a minute or more to compile on CPU: a Hessian-vector
    product through the network's hand-written convolution and switch gradients)."""
    scorer, _, p, x, labels = scored
    batch, ops = cells
    grasp = ProxyScorer(
        "nb201", ["grasp"], channels=CHANNELS, cells_per_stage=CELLS, images=scorer.images, labels=scorer.labels,
        seed=SEED,
    ).score(batch)["grasp"]  # fmt: skip
    _check("grasp", grasp, [oracle.grasp(p, x, labels, cell, CELLS) for cell in ops], record_property)


def test_network_size_is_validated():
    with pytest.raises(ValueError, match="'channels' parameter of ProxyScorer must be a positive int"):
        ProxyScorer("nb201", ["params"], channels=0)
    with pytest.raises(TypeError, match="'cells_per_stage' parameter of ProxyScorer"):
        ProxyScorer("nb201", ["params"], cells_per_stage=2.0)
    with pytest.raises(ValueError, match="'channels' parameter of ProxyScorer must be None for space 'nb101'"):
        ProxyScorer("nb101", ["params"], channels=8)


def test_scanned_stages_equal_the_oracle(cells, record_property):
    """Two cells per stage (the stages run under ``nn.scan``, their weights with a leading cell
    axis; the benchmark's network is checked against the records in test_records.py): the
    weight-only proxies against the oracle."""
    batch, ops = cells
    k = 2
    scorer = ProxyScorer("nb201", ["params", "flops", "l2_norm"], channels=3, cells_per_stage=k, batch_size=2)
    out = scorer.score(batch)
    p = oracle.weights_from_flax(scorer._init(2)["params"], k)
    _check("l2_norm", out["l2_norm"], [oracle.l2_norm(p, c, k) for c in ops], record_property)
    _check("params", out["params"], [oracle.params_m(p, c, k) for c in ops], record_property)
    _check("flops", out["flops"], [oracle.flops_m(p, scorer.input_shape, c, k) for c in ops], record_property)
