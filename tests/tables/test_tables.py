"""Benchmark tables on the real files: sizes, joins, isomorph lookups, user CSVs, bad files."""

import numpy as np
import pytest

from pyengine.spaces import get_space
from pyengine.tables import TABLES, DataFileError, load_csv, load_table

SIZES = {
    "nb201_cifar10_200ep": 15625,
    "nb201_12ep": 15625,
    "nb201_latency": 15625,
    "nb201_learning_curves": 200,
    "nb101_1k": 1000,
    "nb101_20k": 20001,
    "naslib_zc_nb101": 500,
    "naslib_zc_nb201": 725,
    "naslib_zc_darts": 725,
    "nas_bench_macro": 6561,
}


@pytest.mark.parametrize("name", TABLES.names())
def test_every_registered_table_loads(name, data_dir):
    t = load_table(name)
    assert len(t) == SIZES[name]
    assert "index" not in t.metric_names
    if t.default_metric is not None:
        assert np.isfinite(t.column()).mean() > 0.99
        row, value = t.best()
        assert value == np.nanmax(t.column())
    # every architecture finds its own record
    assert (t.indices(t.archs) == np.arange(len(t))).all() or name.startswith("naslib_zc_nb101")


def test_nb201_columns_stay_apart_and_isomorphs_find_their_record(data_dir):
    t = load_table("nb201_12ep")
    assert {"cifar10_valid_valacc", "cifar100_valacc", "imagenet16_valacc", "imagenet16_testacc"} <= set(t.metric_names)
    sp = t.space
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    assert t.query([arch], "cifar100_valacc")[0] != t.query([arch], "cifar100_testacc")[0]
    # an edge that feeds nothing: swapping its op gives an isomorph; a table without it still answers
    dead = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    twin = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    assert sp.is_isomorphic([dead], [twin])[0]
    keep = np.flatnonzero(np.array(t.strings()) != twin)
    sub = t.subset(keep)
    members = np.flatnonzero(sp.canonical_keys(t.archs) == sp.canonical_keys(sp.as_batch([twin]))[0])
    assert len(members) > 1
    assert sub.query([twin])[0] in t.column()[members]
    assert t.query([twin])[0] == t.column()[t.strings().index(twin)]  # exact labelling first


def test_nb101_20k_joins_through_the_enumerated_space(data_dir):
    t = load_table("nb101_20k")
    cells = load_table("nb101_1k")
    idx = t.indices(cells.archs)
    both = idx >= 0
    assert both.sum() > 10
    assert np.allclose(t.column("valacc_108")[idx[both]], cells.column("valacc_108")[both])


def test_learning_curves_and_macro(data_dir):
    lc = load_table("nb201_learning_curves")
    assert lc.curves["val_acc"].shape == (200, 200)
    assert np.allclose(lc.curves["val_acc"][:, -1], lc.column("cifar10_valid_valacc"))
    assert np.array_equal(lc.query_curve(lc.strings()[5:7], "val_acc"), lc.curves["val_acc"][5:7])
    with pytest.raises(ValueError, match="Curves: train_acc, val_acc"):
        lc.query_curve(lc.strings()[:1], "loss")
    arch, cols = next(iter(lc))
    assert cols["cifar10_valid_valacc"] == lc.column()[0]
    assert sum(len(b.ops) for b, _ in lc.iter_batches(64)) == 200
    full = load_table("nb201_cifar10_200ep")
    assert np.allclose(full.query(lc.archs), lc.column(), atol=0.01)
    macro = load_table("macro")
    assert macro.default_metric == "mean_acc" and "test_acc_0" in macro.metric_names


def test_user_csv_with_dashed_column_names(tmp_path):
    sp = get_space("nb201")
    archs = sp.to_strings(sp.sample(5, 0))
    p = tmp_path / "mine.csv"
    p.write_text("arch_str,ImageNet16-120_valacc,note\n" + "".join(f"{a},{70 + i},x\n" for i, a in enumerate(archs)))
    t = load_csv(p)
    assert t.space.name == "nb201" and t.metric_names == ["ImageNet16-120_valacc"]
    assert list(t.query(archs[::-1], "ImageNet16-120_valacc")) == [74, 73, 72, 71, 70]
    with pytest.raises(ValueError, match="Unknown metric 'cifar10_testacc'"):
        t.column("cifar10_testacc")
    with pytest.raises(ValueError, match="no default metric"):
        t.column()


def test_bad_files_get_typed_errors(tmp_path):
    with pytest.raises(DataFileError, match="not found"):
        load_csv(tmp_path / "nope.csv")
    p = tmp_path / "bad.csv"
    p.write_text("arch_str,acc\n|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n")
    with pytest.raises(DataFileError, match="bogus"):
        load_csv(p)
    p.write_text("name,acc\nfoo,1\n")
    with pytest.raises(DataFileError, match="no architecture column"):
        load_csv(p)
    j = tmp_path / "zc.json"
    j.write_text("{not json")
    with pytest.raises(DataFileError, match="not valid JSON"):
        load_table("naslib_zc_nb201", path=j)
    with pytest.raises(ValueError, match="Valid names"):
        load_table("nb999_table")
