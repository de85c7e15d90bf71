"""NB201 graph core: arch strings, cell indices and the official isomorphism classes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import nb201_official as official

from pyengine.graph import nb201
from pyengine.tables import read_csv_columns


def test_round_trip_of_every_cell():
    cells = nb201.all_cells()
    strs = nb201.format_arch_strs(cells)
    np.testing.assert_array_equal(nb201.parse_arch_strs(strs), cells)
    np.testing.assert_array_equal(nb201.cell_index(cells), np.arange(nb201.NUM_CELLS))
    assert len(set(strs)) == nb201.NUM_CELLS


def test_official_arch_strings_of_the_benchmark_parse(data_dir):
    cols = read_csv_columns(data_dir / "nb201" / "nb201_cifar10_200ep.csv")
    strs = cols["arch_str"].tolist()
    ops = nb201.parse_arch_strs(strs)
    assert nb201.format_arch_strs(ops) == strs
    assert len(np.unique(nb201.cell_index(ops))) == nb201.NUM_CELLS


def test_unique_strings_equal_official_for_every_cell():
    cells = nb201.all_cells()
    ours = nb201.unique_str(cells)
    theirs = [official.unique_str(s) for s in nb201.format_arch_strs(cells)]
    assert ours == theirs


def test_exactly_6466_classes_matching_official_grouping():
    rep, cls = nb201.space_classes()
    assert int(cls.max()) + 1 == nb201.NUM_CLASSES == 6466
    strs = nb201.format_arch_strs(nb201.all_cells())
    first = {}
    for i, s in enumerate(strs):
        first.setdefault(official.unique_str(s), i)
    want = np.array([first[official.unique_str(s)] for s in strs])
    np.testing.assert_array_equal(rep, want)
    rep2, cls2 = nb201.canonicalize(nb201.all_cells())
    np.testing.assert_array_equal(rep2, rep)
    np.testing.assert_array_equal(cls2, cls)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=6, max_size=6))
def test_canonicalization_is_idempotent_and_class_preserving(ops):
    rep, cls = nb201.canonicalize(np.array([ops]))
    rep_ops = nb201.cells_from_index(rep)
    rep2, cls2 = nb201.canonicalize(rep_ops)
    assert rep2[0] == rep[0] and cls2[0] == cls[0]
    assert nb201.unique_str(rep_ops) == nb201.unique_str(np.array([ops]))


def test_known_classes():
    # all three inputs of the output node are zero; the official string keeps one '#' per edge
    zero = nb201.parse_arch_str("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert nb201.unique_str(zero) == ["#+#+#"]
    other = nb201.parse_arch_str("|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert nb201.canonicalize(other)[1][0] == nb201.canonicalize(zero)[1][0]
    skip = nb201.parse_arch_str(
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    )
    assert nb201.unique_str(skip) == ["0+0+0+0"]


@pytest.mark.parametrize(
    "s, match",
    [
        ("|nor_conv_3x3~0|+|none~0|none~1|", "3 '\\+'-separated nodes"),
        ("|conv7~0|+|none~0|none~1|+|none~0|none~1|none~2|", "'conv7~0'.*unknown op"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "'none~1'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "2 inputs"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1"),
    ],
)
def test_bad_arch_strings_name_the_token(s, match):
    with pytest.raises(ValueError, match=match):
        nb201.parse_arch_str(s)


def test_bad_op_arrays():
    with pytest.raises(ValueError, match="shape"):
        nb201.canonicalize(np.zeros((2, 5), dtype=np.int8))
    with pytest.raises(ValueError, match="op index 5"):
        nb201.unique_str(np.array([[0, 0, 5, 0, 0, 0]]))
    with pytest.raises(TypeError, match="integer"):
        nb201.cell_index(np.zeros((1, 6), dtype=float))
    with pytest.raises(ValueError, match="outside 0..15624"):
        nb201.cells_from_index([15625])
    with pytest.raises(TypeError, match="str"):
        nb201.parse_arch_strs([3])
