"""Readers for benchmark result files (the formats of ``../shared/data``, or a user's own files
of the same format).

``default_data_dir()`` finds the data folder: ``$PYENGINE_DATA`` if set, else the first
``shared/data`` beside or above the working directory.
"""

from ._files import (
    DataFileError,
    MacroRecords,
    NaslibZcRecords,
    Nb101CellRecords,
    default_data_dir,
    read_csv_columns,
    read_nas_bench_macro,
    read_naslib_zc,
    read_nb101_cells_json,
)

__all__ = [
    "DataFileError",
    "MacroRecords",
    "NaslibZcRecords",
    "Nb101CellRecords",
    "default_data_dir",
    "read_csv_columns",
    "read_nas_bench_macro",
    "read_naslib_zc",
    "read_nb101_cells_json",
]
