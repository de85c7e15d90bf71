"""NAS-Bench-101 zero-cost proxies: the padded network's masks, fan-ins and batch-norm weights
against the plain network of one fixed cell, and the closed forms against NASLib's records."""

import types

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyengine.nets import NB101Net, init_variables, nb101_cell_data, nb101_rescale, nb101_split
from pyengine.proxies import PROXIES, ProxyScorer
from pyengine.proxies import _nb101 as nb
from pyengine.proxies._scorer import _Context, merge_small_groups
from pyengine.spaces._base import take
from pyengine.tables import load_table

SMALL = dict(channels=8, stacks=2, cells_per_stack=2, n_classes=10)
PARITY = ("snip", "grad_norm", "plain", "fisher", "l2_norm", "grasp", "jacob_cov", "nwot")


@pytest.fixture(scope="module")
def zc(data_dir):
    return load_table("naslib_zc_nb101")


def test_params_and_flops_equal_naslib_records(zc):
    np.testing.assert_array_equal(np.round(nb.params_m(zc.archs, 10), 6), np.round(zc.column("params"), 6))
    np.testing.assert_allclose(nb.flops_m(zc.archs, 10, (32, 32)), zc.column("flops"), rtol=0, atol=1e-9)


def _flat(tree):
    return flax.traverse_util.flatten_dict(flax.core.unfreeze(tree))


def _fixed_adapter(labels_by_slot):
    """Specifics of a network built for one fixed cell: every layer it has exists whole (only
    the vertex kernel of the other conv op is unused)."""

    def weight_mask(path, cell, shape):
        if path[-1] in ("conv3x3", "conv1x1"):
            want = 0 if path[-1] == "conv3x3" else 1
            return float(labels_by_slot[int(path[-2][-1])] == want)
        return 1.0

    def probe_fan(path, params, cell):
        parent, name = path[:-1], path[-1]
        if name == "fisher_stem":
            return float(np.prod(params[parent + ("stem",)].shape[:-1]))
        if name == "fisher_classifier":
            return float(params[parent + ("classifier",)].shape[-2])
        if parent[-1].startswith("proj"):
            return float(params[parent + ("proj",)].shape[-2])
        op = labels_by_slot[int(parent[-1][-1])]
        k = params[parent + ("conv3x3" if op == 0 else "conv1x1",)]
        return float(np.prod(k.shape[-4:-1]))

    return types.SimpleNamespace(
        WEIGHT_NAMES=nb.WEIGHT_NAMES,
        prepare=lambda p, c: p,
        scanned=nb.scanned,
        weight_mask=weight_mask,
        probe_fan=probe_fan,
    )


def _raw(adapter, net, variables, cell, x, labels, names=PARITY):
    ctx = _Context(adapter, net, variables, cell, x, labels, zen_key=jax.random.key(1))
    return {name: PROXIES.get(name).device(ctx) for name in names}


@pytest.mark.slow
def test_padded_network_scores_equal_the_fixed_cell_network(zc):
    """Every proxy but zen (its N(0, 1) redraw differs with the tensors' shapes) computed through
    the padded network, its masks and fan-ins equals the same proxy on the cell's own network."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(6, 8, 8, 3)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, 10, 6))
    cells = zc.archs
    data = nb101_cell_data(cells, SMALL["channels"], SMALL["stacks"])
    k = nb101_split(data)
    picks = [int(np.flatnonzero(k == j)[0]) for j in (1, 3)]
    padded_adapter = types.SimpleNamespace(
        **{n: getattr(nb, n) for n in ("WEIGHT_NAMES", "scanned", "weight_mask", "probe_fan", "bn_log_sd")},
        prepare=lambda p, c: nb101_rescale(p, c, "nb101", SMALL["channels"]),
    )
    net = NB101Net(**SMALL)
    one = jax.tree.map(lambda a: jnp.asarray(a[0]), data)
    variables = init_variables(net, jax.random.key(5), x, one, train=False)
    padded = jax.jit(lambda v, c: _raw(padded_adapter, net, v, c, x, labels, (*PARITY, "zen")))
    for i in picks:
        cell = jax.tree.map(lambda a, i=i: jnp.asarray(a[i]), data)
        n = int(cells.num_vertices[i])
        spec = (tuple(map(tuple, cells.matrices[i, :n, :n].tolist())), tuple(cells.labels[i, :n].tolist()))
        fixed = NB101Net(**SMALL, spec=spec)
        shapes = _flat(jax.eval_shape(lambda kk, f=fixed: f.init(kk, x, train=False), jax.random.key(0)))
        scaled = _flat({**variables, "params": nb101_rescale(variables["params"], cell, "nb101", SMALL["channels"])})
        fixed_vars = flax.traverse_util.unflatten_dict(
            {p: scaled[p][tuple(slice(0, d) for d in s.shape)] for p, s in shapes.items()}
        )
        slot = list(range(n - 1)) + [6]
        labels_by_slot = {slot[v]: int(cells.labels[i, v]) for v in range(1, n - 1)}
        got = padded(variables, cell)
        adapter = _fixed_adapter(labels_by_slot)
        want = jax.jit(lambda v, f=fixed, a=adapter: _raw(a, f, v, None, x, labels))(fixed_vars)
        for name in PARITY:
            rtol = 5e-3 if name == "grasp" else 2e-4  # a Hessian-vector product: float32 cancellation
            np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=1e-6, err_msg=f"{name}, cell {i}")
        assert np.isfinite(float(got["zen"]))


@pytest.mark.slow
def test_scorer_on_the_benchmark_network(zc):
    """The full-size network of three cells of one group: synflow and l2_norm land on NASLib's
    records (same initialisation scheme, other draws), zen is finite, results are per cell."""
    groups = nb.groups(nb.cell_data(zc.archs))
    rows = np.flatnonzero(groups == groups[0])[:3]
    batch = take(zc.archs, rows)
    scores = ProxyScorer("nb101", ["synflow", "l2_norm", "params"]).score(batch)
    np.testing.assert_allclose(np.log(scores["synflow"]), zc.column("synflow")[rows], atol=1.5)
    np.testing.assert_allclose(scores["l2_norm"], zc.column("l2_norm")[rows], rtol=0.01)
    np.testing.assert_allclose(scores["params"], zc.column("params")[rows])


@pytest.mark.slow
def test_small_groups_run_in_a_wider_program_with_the_same_scores(zc):
    """A group with fewer architectures than min_group_size runs in the next wider group's
    program (no compile of its own) and scores exactly as in its own program."""
    np.testing.assert_array_equal(merge_small_groups(np.array([0, 1, 1, 2, 3, 3]), 3), [0, 0, 0, 2, 2, 2])
    np.testing.assert_array_equal(merge_small_groups(np.array([0, 1, 1, 2, 3, 3]), 4), [0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(merge_small_groups(np.array([0, 2, 2]), 5), [0, 0, 0])
    groups = nb.groups(nb.cell_data(zc.archs))
    rows = np.concatenate([np.flatnonzero(groups == 2)[:2], np.flatnonzero(groups == 3)[:3]])
    batch = take(zc.archs, rows)
    own = ProxyScorer("nb101", ["synflow"], min_group_size=1)
    a = own.score(batch)["synflow"]
    assert own.groups_used == {2: 2, 3: 3}
    wide = ProxyScorer("nb101", ["synflow"], min_group_size=4)
    b = wide.score(batch)["synflow"]
    assert wide.groups_used == {2: 5}
    np.testing.assert_allclose(b, a, rtol=1e-4)
    np.testing.assert_allclose(np.log(a), zc.column("synflow")[rows], atol=1.5)
    with pytest.raises(ValueError, match="min_group_size"):
        ProxyScorer("nb101", ["synflow"], min_group_size=0)
