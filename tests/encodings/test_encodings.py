"""Encodings: brute-force parity, layouts, the no-recompile contract and bad input."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import encodings as oracle

from pyengine.encodings import BUCKETS, ENCODINGS, GraphBatch, encode
from pyengine.encodings import _kernels as K
from pyengine.graph import nb101
from pyengine.spaces import SPACES, InvalidArchitectureError, NB201Batch, get_space
from pyengine.spaces._base import take

EXPECTED_DIMS = {
    ("nb101", "adjacency_one_hot"): 36,
    ("nb101", "categorical"): 26,
    ("nb101", "path"): 364,
    ("nb101", "path_trunc"): 40,
    ("nb201", "adjacency_one_hot"): 30,
    ("nb201", "categorical"): 6,
    ("nb201", "path"): 155,
    ("nb201", "path_trunc"): 40,
    ("darts", "adjacency_one_hot"): 196,
    ("darts", "categorical"): 32,
    ("darts", "path"): 11200,
    ("macro", "adjacency_one_hot"): 24,
    ("macro", "categorical"): 8,
    ("nb101", "op_counts"): 4,
    ("nb201", "op_counts"): 5,
    ("darts", "op_counts"): 14,
    ("macro", "op_counts"): 3,
    ("nb101", "graf"): 45,
    ("nb201", "graf"): 95,
    ("darts", "graf"): 1538,
}
CELL_ONLY = ("path", "path_trunc", "graf")  # encodings the chain spaces refuse
GCN_SHAPES = {"nb101": (7, 5), "nb201": (8, 7), "darts": (30, 12), "macro": (10, 5), "proxyless": (23, 9)}


@pytest.mark.parametrize("space_name", SPACES.names())
@pytest.mark.parametrize("enc", ENCODINGS.names())
def test_every_encoding_has_its_shape_or_a_clear_refusal(space_name, enc):
    sp = get_space(space_name)
    b = sp.sample(300, 0)
    if enc in CELL_ONLY and space_name in ("macro", "proxyless"):
        with pytest.raises(ValueError, match="not defined for the macro space"):
            encode(sp, enc, b)
        return
    out = encode(sp, enc, b)
    if enc == "gcn":
        assert isinstance(out, GraphBatch)
        n, f = GCN_SHAPES[space_name]
        assert out.adjacency.shape == (300, n, n) and out.features.shape == (300, n, f) and out.mask.shape == (300, n)
        # every real node has exactly one type; padded nodes have none (DARTS adds a cell flag)
        types = out.features[..., :-1] if space_name == "darts" else out.features
        assert (types.sum(-1) == out.mask).all()
        return
    assert out.dtype == np.float32 and out.shape[0] == 300 and np.isfinite(out).all()
    if (space_name, enc) in EXPECTED_DIMS:
        assert out.shape[1] == EXPECTED_DIMS[(space_name, enc)]
    # the same architectures as strings give the same encoding
    assert np.array_equal(encode(space_name, enc, sp.to_strings(take(b, np.arange(20)))), out[:20])


def _random_nb101_cells(seed: int, n: int) -> nb101.CellBatch:
    rng = np.random.default_rng(seed)
    xs, ys = np.triu_indices(7, k=1)
    m = np.zeros((n, 7, 7), np.uint8)
    m[:, xs, ys] = rng.random((n, 21)) < rng.uniform(0.2, 0.7)
    lab = np.concatenate([np.full((n, 1), -1), rng.integers(0, 3, (n, 5)), np.full((n, 1), -2)], axis=1)
    v = nb101.validate(m, lab.astype(np.int8), hashes=False)
    return take(v.pruned, np.flatnonzero(v.valid))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_nb101_path_encoding_matches_brute_force(seed):
    cells = _random_nb101_cells(seed, 200)
    got = encode("nb101", "path", cells)
    trunc = encode("nb101", "path_trunc", cells, k=40)
    one_hot = encode("nb101", "adjacency_one_hot", cells)
    for i in range(len(cells.num_vertices)):
        n = int(cells.num_vertices[i])
        m, lab = cells.matrices[i, :n, :n], cells.labels[i, :n].tolist()
        want = oracle.nb101_path_encoding(m, lab)
        assert np.array_equal(got[i], want)
        assert np.array_equal(trunc[i], want[:40])
        assert np.array_equal(one_hot[i], oracle.nb101_adjacency_one_hot(m, lab))


def test_nb101_path_encoding_of_real_cells_counts_paths(data_dir):
    from pyengine.tables import read_nb101_cells_json

    rec = read_nb101_cells_json(data_dir / "nb101" / "nb101_1k_cells.json")
    cells = nb101.cell_batch(rec.matrices, rec.labels)
    got = encode("nb101", "path", cells)
    for i in range(len(cells.num_vertices)):
        n = int(cells.num_vertices[i])
        want = oracle.nb101_path_encoding(cells.matrices[i, :n, :n], cells.labels[i, :n].tolist())
        assert np.array_equal(got[i], want)
    # isomorphic cells (any vertex order) encode identically under the path encoding
    sp = get_space("nb101")
    canon = nb101.cells_from_keys(sp.canonical_keys(sp.check(cells)))
    assert np.array_equal(encode(sp, "path", canon), got)


def test_nb201_path_encoding_matches_brute_force_on_the_whole_space():
    sp = get_space("nb201")
    everything = sp.all()
    got = encode(sp, "path", everything)
    want = np.array([oracle.nb201_path_encoding(row.tolist()) for row in everything.ops])
    assert np.array_equal(got, want)
    # four real paths, so 1..4 distinct entries; 0->3 alone decides the length-1 block
    assert set(got.sum(1).astype(int).tolist()) <= {2, 3, 4}
    assert (got[:, :5].sum(1) == 1).all()


def test_nb201_adjacency_one_hot_uses_naslib_layout():
    sp = get_space("nb201")
    b = sp.from_naslib([(0, 2, 3, 2, 3, 1)])
    want = np.zeros((6, 5))
    want[np.arange(6), [0, 2, 3, 2, 3, 1]] = 1
    assert np.array_equal(encode(sp, "onehot", b)[0], want.reshape(-1))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_darts_path_encoding_matches_brute_force(seed):
    sp = get_space("darts")
    b = sp.sample(100, seed)
    got = encode(sp, "path", b)
    for i in range(100):
        assert np.array_equal(got[i], oracle.darts_path_encoding(b.cells[i]))


def test_encodings_are_invariant_where_the_architecture_is():
    """Swapping the two edges of every DARTS node changes no encoding but categorical."""
    sp = get_space("darts")
    b = sp.sample(200, 3)
    cells = b.cells.copy()
    cells[:, :, 0::2], cells[:, :, 1::2] = b.cells[:, :, 1::2], b.cells[:, :, 0::2]
    swapped = type(b)(cells)
    for enc in ("path", "adjacency_one_hot"):
        assert np.array_equal(encode(sp, enc, b), encode(sp, enc, swapped))


def test_second_call_of_a_bucket_does_not_recompile():
    sp = get_space("nb101")
    a = sp.sample(300, 0)
    b = sp.sample(700, 1)  # same bucket (1024) with a different row count
    encode(sp, "path", a)
    size = K.nb101_path._cache_size()
    encode(sp, "path", b)
    encode(sp, "path", a)
    assert K.nb101_path._cache_size() == size
    encode(sp, "path", sp.sample(BUCKETS[-1] + 5, 2))  # two chunks: the top bucket and the smallest
    size = K.nb101_path._cache_size()
    encode(sp, "path", sp.sample(BUCKETS[-1] + 50, 3))
    assert K.nb101_path._cache_size() == size


def test_jit_and_eager_kernels_agree():
    sp = get_space("nb101")
    b = sp.sample(64, 5)
    jitted = np.asarray(K.nb101_path(*b))
    with jax.disable_jit():
        eager = np.asarray(K.nb101_path(*b))
    assert np.array_equal(jitted, eager)
    d = get_space("darts").sample(16, 5)
    jitted = np.asarray(K.darts_path(d.cells))
    with jax.disable_jit():
        eager = np.asarray(K.darts_path(d.cells))
    assert np.array_equal(jitted, eager)


def test_bad_input_gets_typed_errors():
    with pytest.raises(ValueError, match="Valid names"):
        encode("nb201", "pathh", ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(ValueError, match="Empty"):
        encode("nb201", "path", [])
    with pytest.raises(ValueError, match="nor_conv_9x9"):
        encode("nb201", "path", ["|nor_conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    ops = np.zeros((5, 6), np.int8)
    ops[[1, 3], 2] = 9
    with pytest.raises(InvalidArchitectureError) as err:
        encode("nb201", "path", NB201Batch(ops))
    assert err.value.rows == (1, 3)
    with pytest.raises(ValueError, match="shape"):
        encode("nb201", "path", NB201Batch(np.zeros((5, 7), np.int8)))
    with pytest.raises(ValueError, match="'k' parameter"):
        encode("nb101", "path_trunc", get_space("nb101").sample(3, 0), k=400)
    with pytest.raises(TypeError, match="NB201Batch"):
        get_space("nb201").check(get_space("nb101").sample(2, 0))


def test_op_counts_count_the_ops_of_real_architectures(data_dir):
    """op_counts against counts taken by hand: the NB201 cells of the 200-epoch table, the
    1,000 real NB101 cells (interior ops of the pruned cell and its edges), DARTS and chains."""
    from pyengine.tables import load_table

    nb = load_table("nb201_cifar10_200ep").archs
    got = encode("nb201", "op_counts", nb)
    want = np.stack([(nb.ops == k).sum(axis=1) for k in range(5)], axis=1)
    assert np.array_equal(got, want) and (got.sum(axis=1) == 6).all()

    cells = load_table("nb101_1k").archs
    got = encode("nb101", "op_counts", cells)
    pruned = nb101.validate(cells.matrices, cells.labels, hashes=False).pruned
    for i in range(0, len(got), 37):
        n = int(pruned.num_vertices[i])
        lab = pruned.labels[i, :n]
        assert list(got[i, :3]) == [int((lab == k).sum()) for k in range(3)], i
        assert got[i, 3] == pruned.matrices[i, :n, :n].sum(), i

    sp = get_space("darts")
    cells = sp.sample(50, 1)
    got = encode(sp, "op_counts", cells)
    ops = cells.cells[..., 1]
    assert np.array_equal(got[:, :7], np.stack([(ops[:, 0] == k).sum(1) for k in range(7)], 1))
    assert np.array_equal(got[:, 7:], np.stack([(ops[:, 1] == k).sum(1) for k in range(7)], 1))

    sp = get_space("macro")
    layers = sp.sample(50, 2)
    got = encode(sp, "op_counts", layers)
    cat = encode(sp, "categorical", layers)
    assert np.array_equal(got, np.stack([(cat == k).sum(1) for k in range(got.shape[1])], 1))
