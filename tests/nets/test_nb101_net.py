"""The NB101 network with the cell as data (padded vertices, channel masks, switches) against the
network built at one fixed cell's own widths, on cells of the NAS-Bench-Suite-Zero records."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyengine.nets import NB101Net, init_variables, nb101_cell_data, nb101_rescale, nb101_split
from pyengine.nets._nb101 import max_pool_2x2, max_pool_3x3, nb101_vertex_channels
from pyengine.tables import load_table

KW = dict(channels=8, stacks=2, cells_per_stack=2, n_classes=5)


@pytest.fixture(scope="module")
def cells(data_dir):
    return load_table("naslib_zc_nb101").archs


def _spec(cells, i):
    n = int(cells.num_vertices[i])
    return tuple(map(tuple, cells.matrices[i, :n, :n].tolist())), tuple(cells.labels[i, :n].tolist())


def _flat(tree):
    return flax.traverse_util.flatten_dict(flax.core.unfreeze(tree))


def _sliced(padded, shapes):
    """Leading slices of the padded tree's leaves, shaped as ``shapes`` (the fixed network's)."""
    flat = _flat(padded)
    return flax.traverse_util.unflatten_dict(
        {k: flat[k][tuple(slice(0, d) for d in s.shape)] for k, s in _flat(shapes).items()}
    )


def _picked(cells, batch_cells):
    """Indices of a cell of each kind: 1-4 vertices feeding the output, the input alone, pools."""
    k = nb101_split(batch_cells)
    nv = np.asarray(cells.num_vertices)
    picks = [int(np.flatnonzero(k == j)[0]) for j in (1, 2, 3, 4)]
    picks.append(int(np.flatnonzero(nv == 2)[0]) if (nv == 2).any() else 0)
    picks.append(int(np.flatnonzero((np.asarray(cells.labels) == 2).sum(1) >= 2)[0]))
    return list(dict.fromkeys(picks))


def test_vertex_channels_split_the_output_and_never_grow(cells):
    data = nb101_cell_data(cells, channels=128, stacks=3)
    adj, ch = data["adj"], data["channels"]
    feeds = adj[:, 1:6, 6] > 0
    for s, c in enumerate((128, 256, 512)):
        total = (ch[:, s, 1:6] * feeds).sum(1)
        only_input = ~feeds.any(1)
        assert np.all(total[~only_input] == c)
        # channels never grow along an edge between interior vertices
        grow = (adj[:, 1:6, 1:6] > 0) & (ch[:, s, 1:6, None] < ch[:, s, None, 1:6])
        assert not grow.any()
        # every interior vertex fits the padding of its group
        assert np.all(ch[:, s, 1:6] <= -(-c // nb101_split(data))[:, None])
    # the official example: four vertices feeding the output of a 128-channel cell
    m = np.zeros((6, 6), int)
    m[0, 1:5] = 1
    m[1:5, 5] = 1
    assert nb101_vertex_channels(m, 128, 128) == [128, 32, 32, 32, 32, 128]
    m = np.zeros((6, 6), int)  # input -> 1 -> (2, 3, 4) -> output: vertex 1 takes its successors' max
    m[0, 1] = m[1, 2] = m[1, 3] = m[1, 4] = m[2, 5] = m[3, 5] = m[4, 5] = 1
    assert nb101_vertex_channels(m, 128, 128) == [128, 43, 43, 43, 42, 128]


def test_max_pools_match_autodiff_with_ties():
    x = jax.nn.relu(jnp.asarray(np.random.default_rng(0).normal(size=(2, 7, 6, 3)), jnp.float32))  # many zeros
    refs = {
        max_pool_3x3: lambda a: jax.lax.reduce_window(
            a, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 1, 1, 1), ((0, 0), (1, 1), (1, 1), (0, 0))
        ),
        max_pool_2x2: lambda a: jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
    }
    for fn, ref in refs.items():
        y = fn(x)
        np.testing.assert_array_equal(y, ref(x))
        w = jnp.asarray(np.random.default_rng(1).normal(size=y.shape), jnp.float32)
        g = jax.grad(lambda a, f=fn, w=w: (f(a) * w).sum())(x)
        g_ref = jax.grad(lambda a, f=ref, w=w: (f(a) * w).sum())(x)
        np.testing.assert_allclose(g, g_ref, atol=1e-6)


def _objective(logits):
    return (logits * jnp.arange(5.0)).sum() + jnp.square(logits).sum()


@pytest.mark.slow
def test_cell_as_data_equals_fixed_network(cells):
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 8, 8, 3)), jnp.float32)
    data = nb101_cell_data(cells, channels=KW["channels"], stacks=KW["stacks"])
    splits = nb101_split(data)
    one = jax.tree.map(lambda a: jnp.asarray(a[0]), data)
    full = init_variables(NB101Net(**KW), jax.random.key(3), x, one, train=False)
    grads = {}  # split -> jitted gradient of the data form (the cell is an argument: one compile)
    for i in _picked(cells, data):
        cell = jax.tree.map(lambda a, i=i: jnp.asarray(a[i]), data)
        fixed = NB101Net(**KW, spec=_spec(cells, i))
        shapes = jax.eval_shape(lambda k, f=fixed: f.init(k, x, train=False), jax.random.key(0))
        for split in sorted({1, int(splits[i])}):
            net = NB101Net(**KW, split=split)
            if split not in grads:

                def loss(p, xx, v, c, n=net):
                    logits, st = n.apply({**v, "params": p}, xx, c, train=True, mutable=["batch_stats"])
                    return _objective(logits), (logits, st)

                grads[split] = jax.jit(jax.grad(loss, argnums=(0, 1), has_aux=True))
            net_shapes = jax.eval_shape(lambda k, n=net: n.init(k, x, one, train=False), jax.random.key(0))
            variables = _sliced(full, net_shapes)  # a group's network: slices of the full one
            params = nb101_rescale(variables["params"], cell, "nb101", KW["channels"])
            variables = {**variables, "params": params}
            fixed_vars = _sliced(variables, shapes)

            def fixed_loss(p, xx, v=fixed_vars, n=fixed):
                logits, st = n.apply({**v, "params": p}, xx, train=True, mutable=["batch_stats"])
                return _objective(logits), (logits, st)

            (ga, gxa), (a, sa) = grads[split](params, x, variables, cell)
            (gb, gxb), (b, sb) = jax.jit(jax.grad(fixed_loss, argnums=(0, 1), has_aux=True))(fixed_vars["params"], x)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(gxa, gxb, rtol=1e-4, atol=1e-5)
            flat_a, flat_b = _flat(ga), _flat(gb)
            for k, gk in flat_b.items():
                np.testing.assert_allclose(flat_a[k][tuple(slice(0, d) for d in gk.shape)], gk, rtol=1e-4, atol=1e-5)
            # what the fixed network lacks gets no gradient: absent ops, vertices and channels
            total_a = sum(float(jnp.abs(g).sum()) for g in flat_a.values())
            total_b = sum(float(jnp.abs(g).sum()) for g in flat_b.values())
            np.testing.assert_allclose(total_a, total_b, rtol=1e-4)
            stats_a = _flat(sa["batch_stats"])
            for k, s_b in _flat(sb["batch_stats"]).items():
                np.testing.assert_allclose(stats_a[k][tuple(slice(0, d) for d in s_b.shape)], s_b, rtol=1e-4, atol=1e-5)


def test_bad_arguments(cells):
    x = jnp.zeros((2, 8, 8, 3))
    with pytest.raises(ValueError, match="either"):
        NB101Net(**KW).init(jax.random.key(0), x)
    with pytest.raises(ValueError, match="weight_init"):
        NB101Net(**KW, weight_init="xavier", spec=_spec(cells, 0)).init(jax.random.key(0), x)
