"""The graf encoding: parity with a brute-force oracle that enumerates every path, layouts,
determinism, the no-recompile contract, refusals, and a predictor fitted on it."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import encodings as oracle

from pyengine.encodings import BUCKETS, encode
from pyengine.encodings import _kernels as K
from pyengine.errors import InvalidValueError
from pyengine.metrics import kendall_tau
from pyengine.predictors import get_predictor
from pyengine.spaces import get_space
from pyengine.spaces._base import take

DIMS = {"nb101": 45, "nb201": 95, "darts": 1538}


def _oracle_rows(space_name, batch):
    if space_name == "nb101":
        rows = []
        for i in range(len(batch.num_vertices)):
            n = int(batch.num_vertices[i])
            rows.append(oracle.nb101_graf(batch.matrices[i, :n, :n], batch.labels[i, :n].tolist()))
        return np.stack(rows)
    if space_name == "nb201":
        return np.stack([oracle.nb201_graf(row.tolist()) for row in batch.ops])
    return np.stack([oracle.darts_graf(c) for c in batch.cells])


@pytest.mark.parametrize(("space_name", "n"), [("nb101", 400), ("nb201", 400), ("darts", 200)])
def test_graf_matches_brute_force_path_enumeration(space_name, n):
    sp = get_space(space_name)
    batch = sp.sample(n, np.random.default_rng(20240))
    got = encode(sp, "graf", batch)
    assert got.shape == (n, DIMS[space_name]) and got.dtype == np.float32
    np.testing.assert_array_equal(got, _oracle_rows(space_name, batch))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_graf_matches_brute_force_on_any_seed(seed):
    for space_name, n in (("nb101", 40), ("nb201", 40), ("darts", 10)):
        batch = get_space(space_name).sample(n, np.random.default_rng(seed))
        np.testing.assert_array_equal(encode(space_name, "graf", batch), _oracle_rows(space_name, batch))


def test_graf_matches_brute_force_on_the_whole_nb201_space():
    sp = get_space("nb201")
    everything = sp.all()
    got = encode(sp, "graf", everything)
    np.testing.assert_array_equal(got, _oracle_rows("nb201", everything))
    # counts, then per subset (shortest, longest, ...): the all-ops subset (the last) of a cell
    # without none edges has the four real paths of lengths 1..3
    full = (everything.ops > 0).all(axis=1)
    last = got[full, 5 + 14 * 6 : 5 + 15 * 6]
    assert (last[:, 0] == 1).all() and (last[:, 1] == 3).all()
    assert (last[:, 2] == 3).all() and (last[:, 3] == 3).all()


def test_graf_layout_of_hand_built_cells():
    sp = get_space("nb201")
    # conv3x3 on 0->1 and 1->3, skip on 0->3, none elsewhere
    row = encode(sp, "graf", ["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"])[0]
    assert row[:5].tolist() == [3, 1, 0, 2, 0]
    block = row[5:].reshape(15, 6)
    # subset p holds ops t + 1 with bit t of p + 1 set: {skip} p=0, {conv3x3} p=3, {skip, conv3x3} p=4
    assert block[0].tolist() == [1, 1, 1, 1, 1, 1]
    assert block[3].tolist() == [2, 2, 1, 1, 1, 1]
    assert block[4].tolist() == [1, 2, 2, 2, 1.5, 1.5]
    assert block[1].tolist() == [0, 0, 0, 0, 0, 0]  # {conv1x1}: no edge, no path
    # NB101: input -> conv1x1 -> output and input -> output
    cell = {"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv1x1-bn-relu", "output"]}
    row = encode("nb101", "graf", [cell])[0]
    assert row[:3].tolist() == [0, 1, 0]
    block = row[3:].reshape(7, 6)
    assert block[0].tolist() == [1, 1, 1, 1, 1, 1]  # {conv3x3}: only input -> output
    assert block[1].tolist() == [1, 2, 2, 2, 1.5, 1.5]  # {conv1x1}: both paths


def test_graf_is_deterministic_and_rows_do_not_depend_on_their_batch():
    for space_name in ("nb101", "nb201", "darts"):
        sp = get_space(space_name)
        batch = sp.sample(300, 7)
        first = encode(sp, "graf", batch)
        np.testing.assert_array_equal(first, encode(sp, "graf", batch))
        rows = np.array([5, 0, 299, 17])
        np.testing.assert_array_equal(encode(sp, "graf", take(batch, rows)), first[rows])
        # the same architectures as strings give the same rows
        np.testing.assert_array_equal(encode(space_name, "graf", sp.to_strings(take(batch, rows))), first[rows])


def test_graf_of_isomorphic_cells_is_the_same():
    sp = get_space("darts")
    b = sp.sample(100, 3)
    cells = b.cells.copy()
    cells[:, :, 0::2], cells[:, :, 1::2] = b.cells[:, :, 1::2], b.cells[:, :, 0::2]
    np.testing.assert_array_equal(encode(sp, "graf", b), encode(sp, "graf", type(b)(cells)))


def _random_topological_relabel(cells, rng):
    """Each cell with its vertices renumbered along a random topological order (input first,
    output last: a pruned cell has no other source or sink)."""
    m, lab = cells.matrices.copy(), cells.labels.copy()
    for i in range(len(cells.num_vertices)):
        n = int(cells.num_vertices[i])
        a = cells.matrices[i, :n, :n]
        order, indeg = [], a.sum(axis=0).astype(int)
        ready = [v for v in range(n) if indeg[v] == 0]
        while ready:
            v = ready.pop(int(rng.integers(len(ready))))
            order.append(v)
            for w in np.flatnonzero(a[v]):
                indeg[w] -= 1
                if indeg[w] == 0:
                    ready.append(int(w))
        m[i, :n, :n] = a[np.ix_(order, order)]
        lab[i, :n] = cells.labels[i, order]
    return type(cells)(m, lab, cells.num_vertices)


def test_graf_of_nb101_cells_does_not_depend_on_vertex_order():
    sp = get_space("nb101")
    cells = sp.sample(300, 11)
    moved = _random_topological_relabel(cells, np.random.default_rng(3))
    assert (moved.labels != cells.labels).any()
    np.testing.assert_array_equal(encode(sp, "graf", moved), encode(sp, "graf", cells))


def test_jit_and_eager_graf_kernels_agree():
    for space_name, fn in (("nb101", K.nb101_graf), ("nb201", K.nb201_graf), ("darts", K.darts_graf)):
        batch = get_space(space_name).sample(16, 5)
        jitted = np.asarray(fn(*batch))
        with jax.disable_jit():
            eager = np.asarray(fn(*batch))
        np.testing.assert_array_equal(jitted, eager)


@pytest.mark.parametrize("space_name", ["nb101", "nb201", "darts"])
def test_second_call_of_a_bucket_does_not_recompile(space_name):
    sp = get_space(space_name)
    fn = {"nb101": K.nb101_graf, "nb201": K.nb201_graf, "darts": K.darts_graf}[space_name]
    encode(sp, "graf", sp.sample(300, 0))
    size = fn._cache_size()
    encode(sp, "graf", sp.sample(700, 1))  # the same bucket (1,024 rows) with another row count
    encode(sp, "graf", sp.sample(BUCKETS[0] - 3, 2))
    encode(sp, "graf", sp.sample(BUCKETS[0] - 3, 2))
    assert fn._cache_size() <= size + 1  # the 128-row bucket at most, once
    size = fn._cache_size()
    encode(sp, "graf", sp.sample(650, 3))
    encode(sp, "graf", sp.sample(BUCKETS[0] - 50, 4))
    assert fn._cache_size() == size


@pytest.mark.parametrize("space_name", ["macro", "proxyless"])
def test_chain_spaces_are_refused_with_a_typed_error(space_name):
    sp = get_space(space_name)
    with pytest.raises(InvalidValueError, match="'graf' encoding is not defined for the .* space"):
        encode(sp, "graf", sp.sample(4, 0))


def test_random_forest_on_graf_ranks_real_nb201_cells(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    y = t.column()
    perm = np.random.default_rng(0).permutation(len(t))
    train, test = perm[:50], perm[50:1050]
    est = get_predictor("rf", space="nb201", encoding="graf", n_jobs=1, random_state=0)
    assert est.fit(t.subset(train).archs, y[train]) is est
    pred = est.predict(t.subset(test).archs)
    assert pred.shape == (1000,) and np.isfinite(pred).all()
    # the same features given as an array fit the same forest
    x = encode(t.space, "graf", t.archs)
    plain = get_predictor("rf", n_jobs=1, random_state=0).fit(x[train], y[train]).predict(x[test])
    np.testing.assert_allclose(pred, plain, rtol=1e-6)
    assert kendall_tau(y[test], pred) > 0.3
