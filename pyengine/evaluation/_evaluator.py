"""The predictor evaluator: disjoint train/test draws from a benchmark table, every metric per
(predictor, training size, seed), timings, and the summary table and plot."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from .. import _plotting
from .._io import write_records
from .._progress import reporting
from ..errors import InvalidTypeError, InvalidValueError, require
from ..metrics import all_metrics
from ..predictors._base import get_tags
from ..tables import Table
from ._costs import fidelity_seconds, init_seconds, metric_epochs, training_time

__all__ = ["PredictorEvaluator", "DEFAULT_TRAIN_SIZES", "summarize", "plot_kendall", "write_records"]

DEFAULT_TRAIN_SIZES = (5, 8, 14, 24, 42, 71, 121, 205, 500)
SAMPLINGS = ("uniform", "mutation")


class PredictorEvaluator:
    """Evaluate predictors on a benchmark table.

    Parameters
    ----------
    table : Table
    predictors : sequence of registered names (``pyengine.predictors.PREDICTORS``) or estimators
    metric : str, optional; the table column to predict (default: the table's default metric)
    train_sizes : sequence of int, default (5, 8, 14, 24, 42, 71, 121, 205, 500)
    seeds : int or sequence of int, default 10; an int N means seeds 0..N-1
    test_size : int or "rest", default 1000
        An int: one test set of that size per seed, shared by the training sizes. ``"rest"``:
        for each training size, every other row of the table with a value of the metric (the
        split of the published NAS predictor protocols; uniform sampling only), so the test set
        is the complement of the training set and shrinks as it grows.
    sampling : "uniform" or "mutation"
        uniform: the test set and, disjoint from it, each training set are uniform draws from the
        table. mutation (White et al.): the test set is drawn from the one-edit neighbours of the
        table's top 5% architectures (the candidates a local search ranks); training sets are
        uniform over the rest.
    encoding : str, optional
        Encoding for the predictors that take one (feature-based, ``mlp``, ``bananas``). Default:
        each predictor's own (``adjacency_one_hot``; ``path`` for ``bananas``); graph models
        (``gcn``) always read the ``gcn`` encoding. Each encoding of the table is computed once.
    predictor_params : dict, optional
        Parameters per registered name, e.g. ``{"gcn_two_stage": {"threshold": 0.91}}``.
    tune : bool, default False; cross-validated hyperparameter search on each training set
    defaults : "tuned" or "library", default "tuned"; the registered predictors' starting
        hyperparameters (this engine's, or the underlying libraries' own)
    k : float, default 0.05; the K of P@topK, P@bottomK, BR@K, WR@K (a fraction of the test set)
    fidelity : int, optional; epochs seen at query time. The learning-curve predictors and OMNI
        get the table's own curves cut there, or, with ``fidelity_table``, that table's
        ``fidelity_metric`` as the value at epoch ``fidelity`` of the same architectures.
    fidelity_table, fidelity_metric : a second table of the same architectures and its column
    zc : mapping name -> array of shape (n_table_rows,), optional; zero-cost scores aligned with
        the table's rows, features for OMNI and for the predictors given ``zc_features``. A
        zero-cost feature that a predictor names and ``zc`` lacks is computed by
        :func:`pyengine.proxies.cached_scores` (``zc_settings``: its dataset, batch size and
        seed, default CIFAR-10 shapes, 32, 0) for the rows the run uses, once per machine.
    zc_seconds : mapping name -> array of shape (n_table_rows,), optional; seconds each score
        took (NAS-Bench-Suite-Zero records them; computed scores bring their own)
    zc_settings : dict, optional; ``dataset``, ``batch_size``, ``seed`` of computed scores
    omni_features : str or list, optional; OMNI's features (default: its own)
    zc_features : str or list, optional; zero-cost scores (names of ``pyengine.proxies.PROXIES``,
        e.g. "synflow,params,flops") appended to the inputs of every predictor that takes a
        ``zc`` parameter (the feature-based ones, ``mlp``, ``bananas``, ``dngo``, ``gcn``,
        ``gcn_two_stage``); a predictor without one (other than OMNI, which names its own) is
        an error. Their seconds count in ``zc_seconds`` and ``query_seconds``.
    time_column : str, optional; the table's training-time column for the cost fields (default:
        the first column named ``train_seconds_E`` / ``train_time_E``, E epochs in total, or
        ``train_seconds_per_epoch`` / ``train_time_per_epoch``; see :func:`training_time`)

    Notes
    -----
    ``run()`` returns one record per (predictor, train_size, seed) holding ``predictor``,
    ``train_size``, ``seed``, every metric of :func:`pyengine.metrics.all_metrics`,
    ``fit_seconds`` and ``query_seconds_per_arch``. For a seed the training sets of the sizes are
    nested (each a prefix of one draw), so larger sizes only add architectures; with
    ``test_size="rest"`` each test set is the rest of that draw, and a record's ``test_size`` is
    the number of rows it was scored on.

    The cost axes of White et al. (2021), from the table's training-time column (``time_column``:
    its name, None without one):

    - ``init_seconds``: seconds to train the labelled set, the sum over the training rows of the
      time column scaled to the metric's epochs (the metric's ``_E`` suffix, e.g. ``valacc_36``;
      else the epochs of a total-time column; else the length of the table's curves): a total
      over E epochs times epochs / E, a per-epoch time times epochs. NAS-Bench-101's
      ``train_seconds_108`` with ``valacc_108`` is the plain sum. None without a time column.
    - ``fidelity_seconds``: for a predictor that reads the fidelity, seconds to train one
      architecture to ``fidelity`` epochs (the time column scaled by fidelity / E), mean over the
      test set; 0 for one that does not; None when unknown.
    - ``zc_seconds``: for a predictor that reads zero-cost scores, the seconds those scores took
      per architecture, mean over the test set (0 for one that reads none; None when unknown).
    - ``query_seconds``: ``fidelity_seconds`` plus ``zc_seconds`` plus
      ``query_seconds_per_arch``; None when either of the former is.

    A row without a time makes its record's value None.
    """

    def __init__(
        self,
        table: Table,
        predictors: Sequence[Any],
        *,
        metric: str | None = None,
        train_sizes: Iterable[int] = DEFAULT_TRAIN_SIZES,
        seeds: int | Iterable[int] = 10,
        test_size: int | str = 1000,
        sampling: str = "uniform",
        encoding: str | None = None,
        tune: bool = False,
        defaults: str = "tuned",
        k: float = 0.05,
        predictor_params: dict[str, dict[str, Any]] | None = None,
        fidelity: int | None = None,
        fidelity_table: Table | None = None,
        fidelity_metric: str | None = None,
        zc: dict[str, Any] | None = None,
        omni_features: Any = None,
        time_column: str | None = None,
        zc_seconds: dict[str, Any] | None = None,
        zc_settings: dict[str, Any] | None = None,
        zc_features: Any = None,
    ) -> None:
        self.table = table
        self.predictors = predictors
        self.metric = metric
        self.train_sizes = train_sizes
        self.seeds = seeds
        self.test_size = test_size
        self.sampling = sampling
        self.encoding = encoding
        self.tune = tune
        self.defaults = defaults
        self.k = k
        self.predictor_params = predictor_params
        self.fidelity = fidelity
        self.fidelity_table = fidelity_table
        self.fidelity_metric = fidelity_metric
        self.zc = zc
        self.omni_features = omni_features
        self.time_column = time_column
        self.zc_seconds = zc_seconds
        self.zc_settings = zc_settings
        self.zc_features = zc_features

    def _curves(self) -> Any:
        """Partial curves of every table row at the fidelity (None without a fidelity)."""
        from ..predictors import partial_curves, point_curves

        if self.fidelity is None:
            if self.fidelity_table is not None:
                raise InvalidValueError("A fidelity table needs a fidelity (the epochs its values were measured at).")
            return None
        if isinstance(self.fidelity, bool) or not isinstance(self.fidelity, (int, np.integer)) or self.fidelity < 1:
            raise InvalidValueError(
                f"The 'fidelity' parameter of PredictorEvaluator must be an int >= 1. Got {self.fidelity!r}."
            )
        if self.fidelity_table is not None:
            ft = self.fidelity_table
            if not isinstance(ft, Table):
                raise InvalidTypeError(f"The 'fidelity_table' parameter must be a Table. Got {type(ft).__name__}.")
            idx = ft.indices(self.table.archs)
            if (idx < 0).any():
                raise InvalidValueError(
                    f"{int((idx < 0).sum())} architectures of {self.table.name} are not in the fidelity table "
                    f"{ft.name}."
                )
            return point_curves(ft.column(self.fidelity_metric)[idx], int(self.fidelity))
        if not self.table.curves:
            raise InvalidValueError(
                f"Table {self.table.name} has no learning curves; give a fidelity table (--fidelity-table) for "
                f"fidelity {self.fidelity}."
            )
        return partial_curves(self.table.curves, int(self.fidelity))

    def _check(self) -> tuple[list[int], list[int], list[tuple[str, Any]]]:
        if not isinstance(self.table, Table):
            got = type(self.table).__name__
            raise InvalidTypeError(f"The 'table' parameter of PredictorEvaluator must be a Table. Got {got}.")
        sizes = [int(n) for n in self.train_sizes]
        if not sizes or any(n < 2 for n in sizes):
            raise InvalidValueError(
                f"The 'train_sizes' parameter of PredictorEvaluator must be ints >= 2. Got {sizes!r}."
            )
        seeds = list(range(self.seeds)) if isinstance(self.seeds, int) else [int(s) for s in self.seeds]
        if not seeds or (isinstance(self.seeds, int) and self.seeds < 1):
            raise InvalidValueError(
                f"The 'seeds' parameter of PredictorEvaluator must be a positive int or a list. Got {self.seeds!r}."
            )
        rest = self.test_size == "rest"
        if not rest and (isinstance(self.test_size, bool) or not isinstance(self.test_size, int) or self.test_size < 2):
            raise InvalidValueError(
                f"The 'test_size' parameter of PredictorEvaluator must be an int >= 2 or 'rest'. "
                f"Got {self.test_size!r}."
            )
        if self.sampling not in SAMPLINGS:
            raise InvalidValueError(
                f"The 'sampling' parameter of PredictorEvaluator must be one of {SAMPLINGS}. Got {self.sampling!r}."
            )
        if rest and self.sampling != "uniform":
            raise InvalidValueError(
                f"test_size='rest' (every row outside the training set) needs uniform sampling. "
                f"Got sampling={self.sampling!r}."
            )
        if not self.predictors:
            raise InvalidValueError(
                "The 'predictors' parameter of PredictorEvaluator must name at least one predictor."
            )
        from ..predictors import PREDICTORS

        extra = self.predictor_params or {}
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise InvalidTypeError("The 'predictor_params' parameter of PredictorEvaluator must map names to dicts.")
        for key in extra:
            PREDICTORS.canonical_name(key)
        preds: list[tuple[str, Any]] = []
        for p in self.predictors:
            if isinstance(p, str):
                name = PREDICTORS.canonical_name(p)
                # before any fit, not after some; a blend's follow its members
                for module, extra_name in get_tags(PREDICTORS.create(name)).requires:
                    require(module, extra=extra_name, needed_by=f"The {name!r} predictor")
                preds.append((name, None))
            elif hasattr(p, "fit") and hasattr(p, "predict"):
                preds.append((getattr(p, "name", type(p).__name__), p))
            else:
                raise InvalidTypeError(
                    f"A predictor must be a registered name or an estimator. Got {type(p).__name__}."
                )
        return sizes, seeds, preds

    def _test_pool(self, rows: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.sampling == "uniform":
            return rng.permutation(rows)
        # mutation: neighbours of the top 5% that the table holds
        top = rows[np.argsort(-y[rows], kind="stable")[: max(1, len(rows) // 20)]]
        from .._batch import take

        cand, _ = self.table.space.edits(take(self.table.archs, top))
        idx = self.table.indices(cand)
        near = np.unique(idx[idx >= 0])
        near = np.intersect1d(near, rows)
        return rng.permutation(near)

    def _zero_cost(self, zc: dict[str, np.ndarray] | None, units: list[Any]) -> tuple[Any, Any]:
        """Zero-cost features: ``zc`` as given, plus the proxies that predictors name and ``zc``
        lacks, computed (and cached) for the rows those predictors use; and their seconds."""
        from .._batch import take
        from ..proxies import PROXIES, cached_scores

        zc_s = {str(k): np.asarray(v, dtype=np.float64) for k, v in (self.zc_seconds or {}).items()}
        for k, v in zc_s.items():
            if v.shape != (len(self.table),):
                raise InvalidValueError(
                    f"Zero-cost seconds {k!r} have shape {v.shape}; the table has {len(self.table)} rows."
                )
        want: dict[str, list[np.ndarray]] = {}
        given = {PROXIES.canonical_name(k): k for k in (zc or {}) if k in PROXIES}
        for _meta, model, _enc, train, test in units:
            for name in _zc_read(model):
                if zc is not None and name in zc:
                    continue
                if name in PROXIES and PROXIES.canonical_name(name) in given:  # an alias: jacov, jacob_cov
                    zc = {**zc, name: zc[given[PROXIES.canonical_name(name)]]}  # type: ignore[dict-item]
                    if given[PROXIES.canonical_name(name)] in zc_s:
                        zc_s[name] = zc_s[given[PROXIES.canonical_name(name)]]
                    continue
                if name not in PROXIES:
                    have = sorted(zc) if zc else []
                    raise InvalidValueError(
                        f"Predictor {_meta['predictor']} names the feature {name!r}: it is no zero-cost proxy "
                        f"({', '.join(PROXIES.names())}) and not among the scores given ({have})."
                    )
                want.setdefault(name, []).extend((train, test))
        if not want:
            return zc, zc_s or None
        settings = {"dataset": "cifar10", "batch_size": 32, "seed": 0, **(self.zc_settings or {})}
        zc = dict(zc or {})
        for name, parts in want.items():
            rows = np.unique(np.concatenate(parts))
            got = cached_scores(self.table.space.name, take(self.table.archs, rows), [name], **settings)
            canon = PROXIES.canonical_name(name)
            zc[name] = np.full(len(self.table), np.nan)
            zc[name][rows] = got.scores[canon]
            zc_s[name] = np.full(len(self.table), np.nan)
            zc_s[name][rows] = got.seconds[canon]
        return zc, zc_s

    def run(
        self,
        *,
        progress: bool = False,
        on_record: Callable[[dict[str, Any]], None] | None = None,
        ray: str | None = None,
        workers: int | None = None,
    ) -> list[dict[str, Any]]:
        """Run every (seed, predictor, train size); ``on_record`` is called with each new record.

        ray : optional Ray address ("local" or HOST:PORT): the fits run as Ray tasks (``workers``
        CPUs for a local runtime); records come back in the same (seed, predictor, size) order.
        """
        sizes, seeds, preds = self._check()
        from ..encodings import encode
        from ..predictors import PREDICTORS, get_predictor
        from ..predictors._omni import OmniPredictor

        y_all = self.table.column(self.metric)
        metric = self.metric or self.table.default_metric
        rows = np.flatnonzero(np.isfinite(y_all))
        if len(rows) < 2:
            raise InvalidValueError(f"Column {metric!r} of table {self.table.name} has fewer than 2 finite values.")
        encoded: dict[str, Any] = {}
        curves = self._curves()
        time = training_time(self.table, self.time_column)
        init_epochs = None if time is None else metric_epochs(self.table, metric, time)
        zc = None
        if self.zc is not None:
            zc = {str(k): np.asarray(v, dtype=np.float64) for k, v in self.zc.items()}
            for k, v in zc.items():
                if v.shape != (len(self.table),):
                    raise InvalidValueError(
                        f"Zero-cost scores {k!r} have shape {v.shape}; the table has {len(self.table)} rows."
                    )

        def inputs(model: Any) -> str:
            tags = get_tags(model)
            if tags.arch_input:
                encoded.setdefault("architectures", self.table.archs)
                return "architectures"
            if tags.graph_input:
                name = "gcn"
            else:
                name = str(model.get_params().get("encoding") or self.encoding or "adjacency_one_hot")
            if name not in encoded:
                encoded[name] = encode(self.table.space, name, self.table.archs)
            return name

        if self.encoding is not None:
            from ..encodings import ENCODINGS

            ENCODINGS.canonical_name(self.encoding)
        extra = {PREDICTORS.canonical_name(k): v for k, v in (self.predictor_params or {}).items()}
        # every unit (seed, predictor, size) is planned first: bad sizes fail before any fit
        units: list[tuple[dict[str, Any], Any, str, np.ndarray, np.ndarray]] = []
        rest = self.test_size == "rest"
        if rest and max(sizes) > len(rows) - 2:
            raise InvalidValueError(
                f"Training size {max(sizes)} leaves {max(len(rows) - max(sizes), 0)} test architectures of the "
                f"{len(rows)} in {self.table.name} with a value of {metric!r}; test_size='rest' needs at least 2."
            )
        for seed in seeds:
            rng = np.random.default_rng(seed)
            if rest:  # each training set is a prefix of one permutation, its test set the remainder
                train_pool = rng.permutation(rows)
            else:
                pool = self._test_pool(rows, y_all, rng)
                test = pool[: self.test_size]
                if len(test) < 2:
                    raise InvalidValueError(
                        f"Only {len(test)} test architectures could be drawn from {self.table.name}."
                    )
                train_pool = rng.permutation(np.setdiff1d(rows, test))
                if max(sizes) > len(train_pool):
                    raise InvalidValueError(
                        f"Training size {max(sizes)} exceeds the {len(train_pool)} architectures left after a "
                        f"test set of {len(test)} in {self.table.name}."
                    )
            for name, template in preds:
                for n in sizes:
                    if rest:
                        test = train_pool[n:]
                    if template is None:
                        model = get_predictor(name)
                        wanted = {"random_state": seed, "tune": self.tune, "defaults": self.defaults}
                        if self.encoding is not None and not get_tags(model).graph_input:
                            wanted["encoding"] = self.encoding
                        own = model.get_params()
                        model.set_params(**{k: v for k, v in wanted.items() if k in own}, **extra.get(name, {}))
                    else:
                        model = clone(template)
                        if "random_state" in model.get_params():
                            model.set_params(random_state=seed)
                    if name == "omni" and self.omni_features is not None:
                        model.set_params(features=self.omni_features)
                    if self.zc_features is not None:
                        if "zc" in model.get_params():
                            model.set_params(zc=self.zc_features)
                            model.zc_names()  # an unknown name fails before any fit
                        elif not isinstance(model, OmniPredictor):  # OMNI names its own zero-cost features
                            raise InvalidValueError(
                                f"Predictor {name} takes no zero-cost features (no 'zc' parameter); drop it or "
                                "the zero-cost features."
                            )
                    if model.get_params().get("space", "") is None:  # e.g. seminas draws from the space
                        model.set_params(space=self.table.space.name)
                    # OMNI's "auto" features read the fidelity when there is one
                    optional = curves is not None and getattr(model, "optional_curves", False) is True
                    uses = get_tags(model).needs_curves or optional
                    if uses and curves is None:
                        raise InvalidValueError(f"Predictor {name} reads learning curves: give a fidelity.")
                    meta = {
                        "predictor": name,
                        "train_size": int(n),
                        "seed": int(seed),
                        "test_size": int(len(test)),
                        "table": self.table.name,
                        "metric": metric,
                        "encoding": inputs(model),
                        "sampling": self.sampling,
                        "defaults": self.defaults if template is None else "custom",
                        "fidelity": int(self.fidelity) if uses else None,
                        "time_column": None if time is None else time.column,
                        "init_seconds": init_seconds(time, init_epochs, train_pool[:n]),
                        "fidelity_seconds": fidelity_seconds(time, int(self.fidelity) if uses else None, test),
                    }
                    units.append((meta, model, meta["encoding"], train_pool[:n], test))
        zc, zc_s = self._zero_cost(zc, units)
        shared = (encoded, y_all, self.k, curves, zc, zc_s)
        results: dict[int, dict[str, Any]] = {}
        with reporting(len(units), "evaluate", "fit", progress=progress, on_record=on_record, leave=False) as report:
            if ray is None:
                done: Any = ((i, _fit_unit(shared, *u)) for i, u in enumerate(units))
            else:
                from .._ray import map_unordered

                done = map_unordered(ray, _fit_unit, units, shared=shared, workers=workers)
            for i, rec in done:
                results[i] = rec
                report(rec)
        return [results[i] for i in range(len(units)) if i in results]


def _fit_unit(
    shared: tuple[dict[str, Any], np.ndarray, Any, Any, Any, Any],
    meta: dict[str, Any],
    model: Any,
    enc_name: str,
    train: np.ndarray,
    test: np.ndarray,
) -> dict[str, Any]:
    """One evaluator record: fit ``model`` on ``train``, predict ``test``, the metrics and times."""
    encoded, y_all, k, curves, zc, zc_s = shared
    feats = encoded[enc_name]
    extra: dict[str, Any] = {}
    if meta["fidelity"] is not None:
        extra = {"curves": curves.take(train)}
    zc_names = _zc_read(model)
    if hasattr(model, "zc_names") and zc is not None:  # without given scores a model computes its own
        extra["zc"] = {n: v[train] for n, v in zc.items()}
    t0 = time.perf_counter()
    model.fit(_rows(feats, train), y_all[train], **extra)
    fit_s = time.perf_counter() - t0
    if "curves" in extra:
        extra["curves"] = curves.take(test)
    if "zc" in extra:
        extra["zc"] = {n: v[test] for n, v in zc.items()}
    t0 = time.perf_counter()
    pred = np.asarray(model.predict(_rows(feats, test), **extra), dtype=np.float64)
    query_s = time.perf_counter() - t0
    if not np.isfinite(pred).all():
        raise InvalidValueError(
            f"Predictor {meta['predictor']} returned non-finite predictions "
            f"(train size {meta['train_size']}, seed {meta['seed']})."
        )
    per_arch = query_s / len(test)
    fid_s = meta["fidelity_seconds"]
    zc_secs: float | None = 0.0
    for name in zc_names:
        t = None if zc_s is None or name not in zc_s else zc_s[name][test]
        zc_secs = None if zc_secs is None or t is None or not np.isfinite(t).all() else zc_secs + float(t.mean())
    return {
        **meta,
        **all_metrics(y_all[test], pred, k=k),
        "fit_seconds": fit_s,
        "query_seconds_per_arch": per_arch,
        "zc_seconds": zc_secs,
        "query_seconds": None if fid_s is None or zc_secs is None else fid_s + zc_secs + per_arch,
    }


def _zc_read(model: Any) -> list[str]:
    """The zero-cost scores ``model`` reads: those it names, and those OMNI's "auto" features
    would compute themselves (computed here instead, so that their seconds count)."""
    names = list(model.zc_names()) if hasattr(model, "zc_names") else []
    return names + [n for n in getattr(model, "auto_proxies", list)() if n not in names]


def _rows(x: Any, idx: np.ndarray) -> Any:
    from ..encodings import GraphBatch

    if isinstance(x, GraphBatch):
        return GraphBatch(*(a[idx] for a in x))
    if not isinstance(x, np.ndarray):  # a batch of architectures
        from .._batch import take

        return take(x, idx)
    return x[idx]


def summarize(records: list[dict[str, Any]], field: str = "kendalltau") -> list[dict[str, Any]]:
    """Mean and standard deviation of a field per (predictor, train_size), in first-seen order."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["predictor"], r["train_size"]), []).append(r)
    out = []
    for (pred, n), rs in groups.items():
        vals = [r[field] for r in rs]
        out.append(
            {
                "predictor": pred,
                "train_size": n,
                "runs": len(rs),
                "mean": statistics.fmean(vals),
                "std": statistics.pstdev(vals) if len(vals) > 1 else 0.0,
                "spearman": statistics.fmean(r["spearman"] for r in rs),
                "sparse_kendalltau": statistics.fmean(r["sparse_kendalltau"] for r in rs),
                "fit_seconds": statistics.fmean(r["fit_seconds"] for r in rs),
            }
        )
    return out


def plot_kendall(records: list[dict[str, Any]], path: str | os.PathLike[str], *, title: str = "") -> None:
    """PNG of mean Kendall tau (band: one std) against training size, one line per predictor."""
    rows = summarize(records)
    fig, ax = _plotting.subplots(figsize=(6.4, 4.2), dpi=120)
    for pred in dict.fromkeys(r["predictor"] for r in rows):
        pts = sorted((r["train_size"], r["mean"], r["std"]) for r in rows if r["predictor"] == pred)
        n = np.array([p[0] for p in pts])
        m = np.array([p[1] for p in pts])
        s = np.array([p[2] for p in pts])
        ax.plot(n, m, marker="o", label=pred)
        ax.fill_between(n, m - s, m + s, alpha=0.15)
    ax.set_xscale("log")
    sizes = sorted({r["train_size"] for r in rows})
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training architectures")
    ax.set_ylabel("Kendall tau")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    _plotting.save(fig, path)
