"""Named evaluation protocols and the published figures they reproduce.

The ``published`` protocol is the split of the NAS predictor papers (TNASP, PINAT, NAR-Former,
NN-Former, HyperNAS): train on N architectures of a benchmark, test on every other one, Kendall
tau. Here the test set is every other row of the benchmark table (``test_size="rest"`` of
:class:`PredictorEvaluator`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import InvalidTypeError, InvalidValueError
from ..tables import Table
from ._evaluator import PredictorEvaluator

__all__ = [
    "Protocol",
    "PublishedResult",
    "PROTOCOLS",
    "PUBLISHED_RESULTS",
    "get_protocol",
    "protocol_evaluator",
    "published_results",
    "metric_dataset",
    "protocol_summary",
]


class Protocol(NamedTuple):
    """An evaluation protocol on one search space.

    name : str; the protocol's name (``published``)
    space : str; the search space (``nb201``, ``nb101``)
    table : str; the registered table whose rows are the pool (training and test sets)
    train_sizes : tuple of int; the training sizes N
    seeds : int; runs per N (seeds 0..seeds-1)
    note : str; how the pool differs from the papers' own
    """

    name: str
    space: str
    table: str
    train_sizes: tuple[int, ...]
    seeds: int
    note: str


class PublishedResult(NamedTuple):
    """One published Kendall tau: a method trained on ``train_size`` architectures of ``space``
    and tested on the rest of it.

    paper, venue : str; year : int; source : str (where the figure is printed)
    method : str; the predictor as the paper names it
    space : str; dataset : str (the benchmark column's dataset, e.g. ``cifar10``)
    train_size : int; kendalltau : float; note : str
    """

    paper: str
    venue: str
    year: int
    method: str
    space: str
    dataset: str
    train_size: int
    kendalltau: float
    source: str
    note: str


PROTOCOLS: dict[str, dict[str, Protocol]] = {
    "published": {
        "nb201": Protocol(
            "published",
            "nb201",
            "nb201_cifar10_200ep",
            (78, 156, 469, 781, 1563),
            5,
            "N = 0.5%, 1%, 3%, 5%, 10% of the 15,625 cells; the test set is every other cell.",
        ),
        "nb101": Protocol(
            "published",
            "nb101",
            "nb101_20k",
            (100, 172, 424, 4236),
            5,
            "The papers test on every other cell of the 423,624; here the test pool is the rest of the "
            "20,001 cells of nb101_20k.",
        ),
    }
}

_NNFORMER = ("NN-Former: Rethinking Graph Structure in Neural Architecture Representation", "CVPR", 2025)
_PINAT = ("PINAT: A Permutation INvariance Augmented Transformer for NAS Predictor", "AAAI", 2023)
_HYPERNAS = ("HyperNAS: Enhancing Architecture Representation for NAS Predictor via Hypernetwork", "arXiv", 2025)
_GRAF = ("Surprisingly Strong Performance Prediction with Neural Graph Features (Kadlecova et al.)", "ICML", 2024)
_SPLIT = "TNASP/NAR-Former split: train on N, test on the rest of the space"

PUBLISHED_RESULTS: tuple[PublishedResult, ...] = (
    PublishedResult(*_NNFORMER, "NN-Former", "nb201", "cifar10", 156, 0.804, "NN-Former, NAS-Bench-201 table", _SPLIT),
    PublishedResult(*_NNFORMER, "NN-Former", "nb101", "cifar10", 172, 0.765, "NN-Former, NAS-Bench-101 table", _SPLIT),
    PublishedResult(*_NNFORMER, "NN-Former", "nb101", "cifar10", 424, 0.809, "NN-Former, NAS-Bench-101 table", _SPLIT),
    PublishedResult(
        *_PINAT, "PINAT + ranking loss", "nb101", "cifar10", 100, 0.717, "PINAT, NAS-Bench-101 results", _SPLIT
    ),
    PublishedResult(*_HYPERNAS, "HyperNAS", "nb201", "cifar10", 78, 0.677, "arXiv:2509.18151, NAS-Bench-201", _SPLIT),
    PublishedResult(*_HYPERNAS, "HyperNAS", "nb201", "cifar10", 469, 0.836, "arXiv:2509.18151, NAS-Bench-201", _SPLIT),
    PublishedResult(
        *_GRAF,
        "GRAF + 13 zero-cost proxies, random forest",
        "nb201",
        "cifar10",
        100,
        0.767,
        "GRAF (ICML 2024), NAS-Bench-201 results",
        "graph features and 13 zero-cost proxies; N = 100 is not a size of the published protocol",
    ),
)


def get_protocol(name: str, space: str) -> Protocol:
    """The protocol ``name`` on ``space``; an :class:`InvalidValueError` naming the valid ones."""
    if not isinstance(name, str) or not isinstance(space, str):
        raise InvalidTypeError(f"A protocol and a space are names (str). Got {name!r} and {space!r}.")
    if name not in PROTOCOLS:
        raise InvalidValueError(f"Unknown protocol {name!r}. Protocols: {', '.join(PROTOCOLS)}.")
    by_space = PROTOCOLS[name]
    if space not in by_space:
        raise InvalidValueError(
            f"Protocol {name!r} has no settings for space {space!r}. Spaces: {', '.join(by_space)}."
        )
    return by_space[space]


def metric_dataset(metric: str) -> str:
    """The dataset a benchmark column measures: ``cifar100`` for ``cifar100_valacc``,
    ``imagenet16`` for ``imagenet16_testacc``; ``cifar10`` otherwise (NB201's ``cifar10_*``
    columns and NB101's ``valacc_E``, which are CIFAR-10)."""
    for name in ("cifar100", "imagenet16"):
        if metric.startswith(name):
            return name
    return "cifar10"


def published_results(
    space: str, *, dataset: str | None = None, train_sizes: Iterable[int] | None = None
) -> list[PublishedResult]:
    """The published rows of ``space`` (and ``dataset`` and ``train_sizes`` when given)."""
    sizes = None if train_sizes is None else {int(n) for n in train_sizes}
    return [
        r
        for r in PUBLISHED_RESULTS
        if r.space == space and (dataset is None or r.dataset == dataset) and (sizes is None or r.train_size in sizes)
    ]


def protocol_evaluator(
    protocol: Protocol,
    table: Table,
    predictors: Sequence[Any],
    *,
    train_sizes: Iterable[int] | None = None,
    seeds: int | Iterable[int] | None = None,
    **kwargs: Any,
) -> PredictorEvaluator:
    """A :class:`PredictorEvaluator` that runs ``protocol`` on ``table``: each training size N
    (the protocol's, or ``train_sizes``), the protocol's seeds (or ``seeds``), and every other
    row of the table with a value of the metric as the test set. ``kwargs`` go to the evaluator
    (``metric``, ``encoding``, ...); ``test_size`` and ``sampling`` are the protocol's.

    Raises :class:`InvalidValueError` when the table is of another space, or a size N leaves
    fewer than 2 test rows.
    """
    if not isinstance(protocol, Protocol):
        raise InvalidTypeError(f"The 'protocol' parameter must be a Protocol. Got {type(protocol).__name__}.")
    if not isinstance(table, Table):
        raise InvalidTypeError(f"The 'table' parameter must be a Table. Got {type(table).__name__}.")
    if table.space.name != protocol.space:
        raise InvalidValueError(
            f"Protocol {protocol.name!r} on {protocol.space} needs a table of {protocol.space} architectures; "
            f"table {table.name} holds {table.space.name}."
        )
    for key in ("test_size", "sampling"):
        if key in kwargs:
            raise InvalidValueError(f"Protocol {protocol.name!r} sets {key!r}; it cannot be given.")
    sizes = [int(n) for n in (protocol.train_sizes if train_sizes is None else train_sizes)]
    n_rows = int(np.isfinite(table.column(kwargs.get("metric"))).sum())
    for n in sizes:
        if n > n_rows - 2:
            raise InvalidValueError(
                f"Training size {n} of protocol {protocol.name!r} leaves {max(n_rows - n, 0)} test "
                f"architectures in table {table.name} ({n_rows} rows with a value); at least 2 are needed."
            )
    return PredictorEvaluator(
        table,
        predictors,
        train_sizes=sizes,
        seeds=protocol.seeds if seeds is None else seeds,
        test_size="rest",
        sampling="uniform",
        **kwargs,
    )


def protocol_summary(records: list[dict[str, Any]], space: str, dataset: str) -> list[dict[str, Any]]:
    """The measured rows (mean and std of Kendall tau over seeds per predictor and N, as
    :func:`summarize`, plus ``test_size``: the mean test-set size) and, after them for each N, the
    published rows of ``space`` and ``dataset`` at that N. Every row has ``kind`` ("measured" or
    "published"), ``train_size``, ``predictor``, ``mean`` (Kendall tau); published rows add
    ``paper``, ``venue``, ``year``, ``source`` and ``note``, and a ``std`` and ``runs`` of None."""
    from ._evaluator import summarize

    measured = summarize(records)
    tests: dict[tuple[str, int], list[int]] = {}
    for r in records:
        tests.setdefault((r["predictor"], r["train_size"]), []).append(int(r["test_size"]))
    sizes = sorted({r["train_size"] for r in measured})
    out: list[dict[str, Any]] = []
    for n in sizes:
        for r in measured:
            if r["train_size"] == n:
                t = tests[(r["predictor"], n)]
                out.append({"kind": "measured", **r, "test_size": sum(t) / len(t)})
        for p in published_results(space, dataset=dataset, train_sizes=[n]):
            out.append(
                {
                    "kind": "published",
                    "predictor": p.method,
                    "train_size": p.train_size,
                    "runs": None,
                    "mean": p.kendalltau,
                    "std": None,
                    "paper": p.paper,
                    "venue": p.venue,
                    "year": p.year,
                    "source": p.source,
                    "note": p.note,
                }
            )
    return out
