"""Zero-cost scores of a table's architectures, joined from a NAS-Bench-Suite-Zero file."""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

import numpy as np

from ._benchmarks import naslib_zc_table
from ._files import read_naslib_zc
from ._table import Table

__all__ = ["ZeroCostScores", "join_naslib_zc"]

logger = logging.getLogger(__name__)


class ZeroCostScores(NamedTuple):
    """The rows of a table that a NAS-Bench-Suite-Zero file scores, with their scores.

    Attributes
    ----------
    table : Table
        The scored rows of the given table, in the table's order (the given table itself when the
        file scores every row).
    rows : array of shape (n_scored,), int64
        Their positions in the given table.
    scores : dict of str to array of shape (n_scored,), float64
        One column per zero-cost proxy of the file (its accuracy column left out), aligned with
        ``table``; NaN where a record lacks the proxy.
    seconds : dict of str to array of shape (n_scored,), float64
        The seconds each score took, for the proxies whose records give one (NaN where a record
        does not); empty when the file records no times.
    """

    table: Table
    rows: np.ndarray
    scores: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]


def join_naslib_zc(
    table: Table, path: str | os.PathLike[str] | None = None, *, dataset: str | None = None
) -> ZeroCostScores:
    """Match the records of a NAS-Bench-Suite-Zero file to the rows of a table.

    A row matches a record of the same labelled architecture: zero-cost scores belong to the
    network a labelling builds, not to its isomorphism class, so an isomorphic cell of another
    labelling does not count. Rows without a record are left out of the result (logged).

    Parameters
    ----------
    table : Table
        The benchmark table, for example ``load_table("nb201_cifar10_200ep")``.
    path : str or path-like, optional
        The NAS-Bench-Suite-Zero JSON (the CIFAR-10 extracts of the data folder or NASLib's original
        layout). Default: the extract of the table's space.
    dataset : str, optional
        The file's top-level dataset key (default: its first).

    Returns
    -------
    ZeroCostScores
        ``(table, rows, scores, seconds)``: the scored rows as a table, their positions in
        ``table``, and the score and seconds columns aligned with them, ready for
        ``PredictorEvaluator(result.table, ..., zc=result.scores, zc_seconds=result.seconds)``.

    Raises
    ------
    DataFileError
        The file is missing, is not a NAS-Bench-Suite-Zero file, or holds architectures of
        another space than the table's.
    InvalidValueError
        No file is given and the table's space has no default file.

    Examples
    --------
    >>> from pyengine.tables import join_naslib_zc, load_table
    >>> zc = join_naslib_zc(load_table("nb201_cifar10_200ep"))  # doctest: +SKIP
    >>> zc.scores["synflow"].shape == (len(zc.table),)  # doctest: +SKIP
    True
    """
    records = read_naslib_zc(path, space=table.space.name, dataset=dataset)
    scored = naslib_zc_table(records)
    idx = scored.indices(table.archs, exact=True)
    rows = np.flatnonzero(idx >= 0)
    at = idx[rows]
    if rows.size < len(table):
        logger.info(
            "%d of the %d architectures of %s have zero-cost scores in %s",
            rows.size,
            len(table),
            table.name,
            scored.name,
        )
        table = table.subset(rows)
    scores = {c: scored.column(c)[at] for c in scored.metric_names if c != scored.default_metric}
    seconds = {c: t[at] for c, t in (records.times or {}).items()}
    return ZeroCostScores(table, rows, scores, seconds)
