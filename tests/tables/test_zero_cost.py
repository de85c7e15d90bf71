"""join_naslib_zc: a NAS-Bench-Suite-Zero file's scores matched to a table's rows, by labelling."""

import numpy as np
import pytest

from pyengine.errors import DataFileError
from pyengine.tables import join_naslib_zc, load_table, read_naslib_zc


@pytest.fixture(scope="module")
def nb201(data_dir):
    return load_table("nb201_cifar10_200ep")


def test_every_scored_row_gets_its_own_records_scores_and_seconds(nb201):
    zc = join_naslib_zc(nb201)
    scored = load_table("naslib_zc_nb201")
    rec = read_naslib_zc(space="nb201")
    assert len(zc.table) == len(zc.rows) == len(scored)  # NB201 lists every labelled cell
    assert (np.diff(zc.rows) > 0).all()  # the table's order
    assert zc.table.strings() == [nb201.strings()[r] for r in zc.rows]
    np.testing.assert_array_equal(zc.table.column(), nb201.column()[zc.rows])
    at = scored.indices(zc.table.archs, exact=True)
    assert (at >= 0).all()
    assert set(zc.scores) == set(scored.metric_names) - {"val_accuracy"}
    for name, col in zc.scores.items():
        assert col.shape == (len(zc.table),) and col.dtype == np.float64
        np.testing.assert_array_equal(col, scored.column(name)[at])
    assert zc.seconds and set(zc.seconds) == set(rec.times)
    for name, t in zc.seconds.items():
        np.testing.assert_array_equal(t, rec.times[name][at])


def test_a_relabelled_isomorph_of_a_scored_cell_does_not_count(nb201):
    zc = join_naslib_zc(nb201)
    keys = nb201.space.canonical_keys(nb201.archs)  # array of shape (n,): the isomorphism class
    outside = np.setdiff1d(np.arange(len(nb201)), zc.rows)
    iso = int(outside[np.isin(keys[outside], keys[zc.rows])][0])  # an unscored cell of a scored class
    rows = np.array([*zc.rows[:3], iso])
    part = join_naslib_zc(nb201.subset(rows))
    assert part.rows.tolist() == [0, 1, 2]
    assert part.table.strings() == [nb201.strings()[r] for r in zc.rows[:3]]


def test_a_table_the_file_covers_comes_back_whole(nb201):
    zc = join_naslib_zc(nb201)
    whole = nb201.subset(zc.rows[:10])
    again = join_naslib_zc(whole, dataset="cifar10")
    assert again.table is whole and again.rows.tolist() == list(range(10))


def test_a_file_of_another_space_or_a_missing_file_is_a_data_file_error(nb201, data_dir):
    nb101 = load_table("nb101_1k")
    with pytest.raises(DataFileError, match="holds nb201 architectures, not nb101"):
        join_naslib_zc(nb101, data_dir / "naslib_zc" / "zc_nasbench201_cifar10.json")
    with pytest.raises(DataFileError, match="not found"):
        join_naslib_zc(nb201, data_dir / "naslib_zc" / "missing.json")
    with pytest.raises(DataFileError, match="no dataset 'cifar100'"):
        join_naslib_zc(nb201, dataset="cifar100")
