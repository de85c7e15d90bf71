"""Data-file readers: real files, a user's own path, typed errors on bad files."""

import numpy as np
import pytest

from pyengine.tables import DataFileError, read_csv_columns, read_nb101_cells_json


def test_reads_nb101_cells_file(data_dir):
    rec = read_nb101_cells_json(data_dir / "nb101" / "nb101_1k_cells.json")
    assert rec.matrices.shape == (1000, 7, 7) and rec.labels.shape == (1000, 7)
    assert set(rec.valacc) == {4, 12, 36, 108}
    assert np.all((rec.valacc[108] > 0) & (rec.valacc[108] < 1))


def test_csv_columns_numeric_and_text(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text("arch_str,cifar100_valacc,ImageNet16-120_valacc\n|a|,1.5,2\n|b|,3,4\n")
    cols = read_csv_columns(p)
    assert cols["arch_str"].tolist() == ["|a|", "|b|"]
    np.testing.assert_allclose(cols["ImageNet16-120_valacc"], [2.0, 4.0])


@pytest.mark.parametrize(
    "content, match",
    [("", "empty file"), ("a,b\n", "no data rows"), ("a,b\n1,2\n3\n", "line 3: 1 fields")],
)
def test_bad_csv_files(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataFileError, match=match):
        read_csv_columns(p)


def test_bad_json_files(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"cells": [')
    with pytest.raises(DataFileError, match="not valid JSON"):
        read_nb101_cells_json(p)
    p.write_text('{"cells": [{"hash": "x", "matrix": [[0]], "labels": [-1]}]}')
    with pytest.raises(DataFileError, match="7x7"):
        read_nb101_cells_json(p)
    with pytest.raises(DataFileError, match="not found"):
        read_nb101_cells_json(tmp_path / "missing.json")
