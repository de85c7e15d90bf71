"""NB101 graph core: golden official hashes, enumeration, parity with the official code, properties."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import nb101_official as official

from pyengine.graph import md5_backend, md5_backends, nb101, set_md5_backend
from pyengine.tables import read_csv_columns, read_nb101_cells_json

NAMES = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]


# ---------------------------------------------------------------- golden files (official data)


def test_reproduces_all_official_hashes_of_1k_file(data_dir):
    rec = read_nb101_cells_json(data_dir / "nb101" / "nb101_1k_cells.json")
    res = nb101.validate(rec.matrices, rec.labels)  # -3 padding dropped before hashing
    assert res.valid.all()
    assert (res.hashes == rec.hashes).all()


def test_canonical_form_is_the_official_representative(data_dir):
    rec = read_nb101_cells_json(data_dir / "nb101" / "nb101_1k_cells.json")
    cells, valid = nb101.canonical(rec.matrices, rec.labels)
    assert valid.all()
    np.testing.assert_array_equal(cells.matrices, rec.matrices)
    np.testing.assert_array_equal(cells.labels, rec.labels)


def test_enumeration_finds_every_hash_of_20k_file(data_dir, nb101_space):
    cols = read_csv_columns(data_dir / "nb101" / "nb101_20k_by_hash.csv")
    assert len(cols["hash"]) == 20001
    assert np.isin(cols["hash"], nb101_space.hashes).all()


# ---------------------------------------------------------------- enumeration


def test_enumeration_size_order_and_uniqueness(nb101_space):
    sp = nb101_space
    assert len(sp.cells) == nb101.SPACE_SIZE == 423624
    assert (np.diff(sp.canonical_keys) > 0).all()
    assert len(np.unique(sp.hashes)) == len(sp.hashes)


def test_enumerated_cells_are_valid_canonical_and_hash_consistent(nb101_space):
    sp = nb101_space
    res = nb101.validate(sp.cells)
    assert res.valid.all()
    np.testing.assert_array_equal(res.canonical_keys, sp.canonical_keys)
    np.testing.assert_array_equal(res.hashes, sp.hashes)
    np.testing.assert_array_equal(nb101.hash_compact(sp.cells), sp.hashes)
    dec = nb101.cells_from_keys(sp.canonical_keys[::997])
    np.testing.assert_array_equal(dec.matrices, sp.cells.matrices[::997])


def test_enumeration_matches_official_generator_for_small_cells(nb101_space):
    buckets, _ = official.enumerate_graphs(vertices_range=range(2, 6))
    small = nb101_space.cells.num_vertices <= 5
    assert list(buckets.keys()) == nb101_space.hashes[small].tolist()
    for (matrix, labeling), i in zip(buckets.values(), np.flatnonzero(small), strict=True):
        n = len(labeling)
        assert nb101_space.cells.matrices[i, :n, :n].tolist() == matrix
        assert nb101_space.cells.labels[i, :n].tolist() == labeling


def test_index_of_joins_isomorphs(nb101_space):
    sp = nb101_space
    idx = np.array([0, 5, 1000, 423623])
    assert sp.index_of(sp.canonical_keys[idx]).tolist() == idx.tolist()
    assert sp.index_of(np.array([-1, 3])).tolist() == [-1, -1]


# ---------------------------------------------------------------- parity with the official code


@st.composite
def raw_cells(draw, max_n=9):
    n = draw(st.integers(1, max_n))
    upper = draw(st.booleans()) or n == 1
    p = draw(st.floats(0.1, 0.9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = (rng.random((n, n)) < p).astype(np.int64)
    m = np.triu(m, 1) if upper or draw(st.integers(0, 9)) > 0 else m
    pool = NAMES + ["input", "output", "conv5x5"]
    ops = [draw(st.sampled_from(pool)) for _ in range(n)]
    if draw(st.integers(0, 9)) > 0:
        ops[0] = "input"
    if draw(st.integers(0, 9)) > 0:
        ops[-1] = "output"
    if draw(st.integers(0, 4)) > 0:
        ops[1:-1] = [draw(st.sampled_from(NAMES)) for _ in range(n - 2)] if n > 2 else ops[1:-1]
    return m, ops


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_cells(), min_size=1, max_size=12))
def test_validate_prune_hash_equals_official(cells):
    res = nb101.validate(nb101.pack_cells(cells), threads=1)
    for k, (m, ops) in enumerate(cells):
        reason, h, pm, po = official.prune_and_hash(m, ops)
        assert res.reasons()[k] == reason
        assert (str(res.hashes[k]) or None) == h
        n = int(res.pruned.num_vertices[k])
        if pm is None:
            assert n == 0
        else:
            assert res.pruned.matrices[k, :n, :n].tolist() == pm
            assert [op for op, kept in zip(ops, res.kept[k][: len(ops)], strict=True) if kept] == po


def _random_valid(rng, count):
    out = []
    while len(out) < count:
        m = np.triu((rng.random((7, 7)) < 0.45).astype(np.int64), 1)
        ops = ["input"] + list(rng.choice(NAMES, 5)) + ["output"]
        if official.reason_of(m, ops)[0] is None:
            out.append((m, ops))
    return out


def test_hash_equals_official_on_random_valid_cells():
    cells = _random_valid(np.random.default_rng(1), 300)
    got = nb101.hash_cells(nb101.pack_cells(cells))
    want = [official.prune_and_hash(m, o)[1] for m, o in cells]
    assert got.tolist() == want


def test_every_md5_backend_gives_the_same_hashes(nb101_space):
    sample = nb101.CellBatch(*(a[::211] for a in nb101_space.cells))
    before = md5_backend()
    try:
        results = {}
        for be in md5_backends():
            set_md5_backend(be)
            assert md5_backend() == be
            results[be] = nb101.hash_compact(sample)
    finally:
        set_md5_backend(before)
    for be, h in results.items():
        np.testing.assert_array_equal(h, nb101_space.hashes[::211], err_msg=be)


# ---------------------------------------------------------------- properties


def _random_topological_relabel(m, ops, rng):
    """Relabel vertices by a random topological order (input first, output last)."""
    n = len(ops)
    placed, order = {0}, [0]
    while len(order) < n - 1:
        avail = [v for v in range(1, n - 1) if v not in placed and all(u in placed for u in range(n) if m[u, v])]
        v = int(rng.choice(avail))
        placed.add(v)
        order.append(v)
    order.append(n - 1)
    perm = np.array(order)
    return m[np.ix_(perm, perm)], [ops[v] for v in order]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_relabelling_never_changes_hash_or_canonical_form(seed):
    rng = np.random.default_rng(seed)
    m, ops = _random_valid(rng, 1)[0]
    m2, ops2 = _random_topological_relabel(m, ops, rng)
    res = nb101.validate(nb101.pack_cells([(m, ops), (m2, ops2)]), threads=1)
    assert res.hashes[0] == res.hashes[1]
    assert res.canonical_keys[0] == res.canonical_keys[1]
    assert nb101.is_isomorphic(m, ops, m2, ops2)


@settings(max_examples=100, deadline=None)
@given(st.lists(raw_cells(max_n=7), min_size=1, max_size=8))
def test_canonicalization_is_idempotent(cells):
    can, valid = nb101.canonical(nb101.pack_cells(cells))
    if not valid.any():
        return
    again, valid2 = nb101.canonical(nb101.CellBatch(*(a[valid] for a in can)))
    assert valid2.all()
    np.testing.assert_array_equal(again.matrices, can.matrices[valid])
    np.testing.assert_array_equal(again.labels, can.labels[valid])


def test_canonical_key_separates_non_isomorphic_cells():
    chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert not nb101.is_isomorphic(chain, ["input", NAMES[0], "output"], chain, ["input", NAMES[1], "output"])
    # two parallel branches: swapping them is an isomorphism
    m = np.zeros((4, 4), dtype=int)
    m[0, 1] = m[0, 2] = m[1, 3] = m[2, 3] = 1
    a = ["input", NAMES[0], NAMES[2], "output"]
    b = ["input", NAMES[2], NAMES[0], "output"]
    assert nb101.is_isomorphic(m, a, m, b)


# ---------------------------------------------------------------- answers and errors


def _one(matrix, ops):
    res = nb101.validate(nb101.pack_cells([(matrix, ops)]), threads=1)
    return res.reasons()[0], res


def test_each_rejection_reason():
    assert _one([[0, 1], [1, 0]], ["input", "output"])[0] == "not_upper_triangular"
    assert _one([[1, 1], [0, 0]], ["input", "output"])[0] == "not_upper_triangular"  # diagonal
    assert _one([[0, 0], [0, 0]], ["input", "output"])[0] == "disconnected"
    assert _one([[0]], ["input"])[0] == "disconnected"
    big = np.triu(np.ones((8, 8), dtype=int), 1)
    assert _one(big, ["input"] + [NAMES[0]] * 6 + ["output"])[0] == "too_many_vertices"
    dense = np.triu(np.ones((6, 6), dtype=int), 1)  # 15 edges
    assert _one(dense, ["input"] + [NAMES[0]] * 4 + ["output"])[0] == "too_many_edges"
    chain = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert _one(chain, ["output", NAMES[0], "output"])[0] == "bad_first_op"
    assert _one(chain, ["input", NAMES[0], "input"])[0] == "bad_last_op"
    assert _one(chain, ["input", "conv5x5", "output"])[0] == "bad_ops"
    assert _one(chain, [-1, 7, -2])[0] == "bad_ops"
    assert _one(chain, [-1, 0, -2])[0] is None


def test_cells_valid_only_after_pruning():
    # 8 vertices, one of them dangling: valid once pruned to 7
    m = np.zeros((8, 8), dtype=int)
    for i in range(6):
        m[i, i + 1] = 1
    m[5, 7] = 1
    m[6, 7] = 0
    m[0, 6] = 1  # vertex 6 has no way to the output
    ops = ["input"] + [NAMES[0]] * 5 + ["conv5x5", "output"]  # unknown op only on the pruned vertex
    reason, res = _one(m, ops)
    assert reason is None and res.pruned.num_vertices[0] == 7
    # 11 edges before pruning, 9 after
    m = np.zeros((7, 7), dtype=int)
    for i in range(6):
        m[i, i + 1] = 1
    m[0, 6] = m[1, 6] = m[2, 6] = 1
    m2 = np.zeros((9, 9), dtype=int)
    m2[:7, :7] = m
    m2[:7, 8] = m[:7, 6]
    m2[:7, 6] = 0
    m2[6, 8] = 1
    m2[0, 7] = m2[1, 7] = 1  # vertex 7 is a dead end
    m2[6, 7] = 0
    ops = ["input"] + [NAMES[1]] * 7 + ["output"]
    assert official.reason_of(m2, ops)[0] == _one(m2, ops)[0]


@pytest.mark.parametrize(
    "cells, err, match",
    [
        ([([[0, 1], [0]], ["input", "output"])], ValueError, "square"),
        ([([[0, 2], [0, 0]], ["input", "output"])], ValueError, r"\[0\]\[1\].*0 or 1"),
        ([([[0, 1], [0, 0]], ["input"])], ValueError, "must match"),
        ([([[0, 0.5], [0, 0]], ["input", "output"])], TypeError, "integer 0 or 1"),
        ([([], [])], ValueError, "at least one vertex"),
        ([([[0, 1], [0, 0]], ["input", 1.5])], TypeError, "op 1"),
        ([], ValueError, "at least one cell"),
    ],
)
def test_malformed_input_raises_named_errors(cells, err, match):
    with pytest.raises(err, match=match):
        nb101.pack_cells(cells)


def test_array_api_validates_shapes_and_values():
    with pytest.raises(ValueError, match="shape"):
        nb101.validate(np.zeros((2, 3, 4), dtype=np.uint8), np.zeros((2, 3), dtype=np.int8))
    with pytest.raises(ValueError, match="0 and 1"):
        nb101.validate(np.full((1, 2, 2), 3), np.array([[-1, -2]]))
    with pytest.raises(ValueError, match="empty batch"):
        nb101.validate(np.zeros((0, 2, 2)), np.zeros((0, 2), dtype=np.int8))
    with pytest.raises(ValueError, match="vertices"):
        nb101.validate(np.zeros((1, 2, 2)), np.array([[-1, -2]]), np.array([3]))
    with pytest.raises(TypeError, match="threads"):
        nb101.validate(np.zeros((1, 2, 2)), np.array([[-1, -2]]), threads="2")
    with pytest.raises(ValueError, match="key 0"):
        nb101.cells_from_keys(np.array([5]))
    with pytest.raises(ValueError, match="MD5 backend"):
        set_md5_backend("sse9")
