"""Predictor-guided searchers: BANANAS, NPENAS and the Neural Predictor workflow of Wen et al.,
with acquisition functions and the soft-Pareto selection for cost-constrained search."""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np
from scipy.stats import norm

from .._batch import batch_len, concat, first_unique, take
from .._validation import check_positive_int
from ..errors import InvalidTypeError, InvalidValueError
from ..predictors import PREDICTORS
from ._base import Searcher

__all__ = ["Bananas", "Npenas", "NeuralPredictorSearch", "soft_pareto", "ACQUISITIONS", "acquisition_scores"]

ACQUISITIONS = ("its", "ucb", "ei", "mean")


def acquisition_scores(
    kind: str, mean: np.ndarray, std: np.ndarray, best: float, rng: np.random.Generator, beta: float = 0.5
) -> np.ndarray:
    """Acquisition value of each candidate (larger is better).

    kind : ``its`` (independent Thompson sampling: one draw from N(mean, std) per candidate),
        ``ucb`` (mean + beta * std), ``ei`` (expected improvement over ``best``) or ``mean``
    mean, std : arrays of shape (n_candidates,)
    """
    if kind == "its":
        return mean + std * rng.standard_normal(len(mean))
    if kind == "ucb":
        return mean + beta * std
    if kind == "ei":
        s = np.maximum(std, 1e-12)
        z = (mean - best) / s
        return np.where(std > 0, (mean - best) * norm.cdf(z) + s * norm.pdf(z), np.maximum(mean - best, 0.0))
    if kind == "mean":
        return mean
    raise InvalidValueError(f"Unknown acquisition {kind!r}. Valid names: {', '.join(ACQUISITIONS)}.")


def soft_pareto(pred: Any, cost: Any, j: int = 6) -> np.ndarray:
    """Wen et al.'s soft-Pareto selection: sort by increasing cost and keep a model when its
    predicted accuracy is higher than the minimum over the previous ``j`` kept models (``j=1`` is
    the usual Pareto front). Returns the kept positions, in increasing cost.

    pred, cost : arrays of shape (n,); rows with a non-finite value are never kept
    """
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    c = np.asarray(cost, dtype=np.float64).reshape(-1)
    if p.shape != c.shape:
        raise InvalidValueError(f"soft_pareto needs pred and cost of one shape. Got {p.shape} and {c.shape}.")
    j = check_positive_int(j, "j", "soft_pareto")
    ok = np.flatnonzero(np.isfinite(p) & np.isfinite(c))
    order = ok[np.lexsort((-p[ok], c[ok]))]
    kept: list[int] = []
    window: deque[float] = deque(maxlen=j)
    for i in order.tolist():
        if not window or p[i] > min(window):
            kept.append(i)
            window.append(float(p[i]))
    return np.asarray(kept, dtype=np.int64)


def _check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidValueError(
            f"The '{name}' parameter of {owner} must be one of {', '.join(choices)}. Got {value!r}."
        )
    return str(value)


class _PredictorGuided(Searcher):
    """Shared by BANANAS and NPENAS: a random initial design, then each ask fits the predictor on
    everything told so far, generates candidates by mutating the best architectures, scores them
    in one batched call and proposes the best by acquisition value."""

    ask_size = 10
    #: each searcher's defaults for the parameters left as None
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        space: Any,
        *,
        n_init: int = 10,
        predictor: str | None = None,
        predictor_params: dict | None = None,
        acquisition: str | None = None,
        n_candidates: int | None = None,
        n_parents: int | None = None,
        max_edits: int | None = None,
        ucb_beta: float = 0.5,
        **kwargs: Any,
    ) -> None:
        d = self._defaults
        if predictor is None:
            predictor = d["predictor"]
            if predictor_params is None:
                predictor_params = dict(d.get("predictor_params", {}))
        acquisition = d["acquisition"] if acquisition is None else acquisition
        n_candidates = d["n_candidates"] if n_candidates is None else n_candidates
        n_parents = d["n_parents"] if n_parents is None else n_parents
        max_edits = d["max_edits"] if max_edits is None else max_edits
        super().__init__(space, **kwargs)
        owner = type(self).__name__
        self.n_init = check_positive_int(n_init, "n_init", owner)
        self.predictor = PREDICTORS.canonical_name(predictor)
        if predictor_params is not None and not isinstance(predictor_params, dict):
            raise InvalidTypeError(
                f"The 'predictor_params' parameter of {owner} must be a dict. Got {predictor_params!r}."
            )
        self.predictor_params = dict(predictor_params or {})
        if self.predictor in ("bananas", "mlp") and "encoding" not in self.predictor_params:
            from ..encodings import supports

            if not supports(self.space, "path"):  # e.g. chain spaces: no paths to count
                self.predictor_params["encoding"] = "adjacency_one_hot"
        self.acquisition = _check_choice(owner, "acquisition", acquisition, ACQUISITIONS)
        self.n_candidates = check_positive_int(n_candidates, "n_candidates", owner)
        self.n_parents = check_positive_int(n_parents, "n_parents", owner)
        if max_edits not in (1, 2):
            raise InvalidValueError(f"The 'max_edits' parameter of {owner} must be 1 or 2. Got {max_edits!r} instead.")
        self.max_edits = int(max_edits)
        self.ucb_beta = float(ucb_beta)
        self._n_asked = 0
        self.n_fits_ = 0

    def params(self) -> dict:
        return {
            **super().params(),
            "n_init": self.n_init,
            "predictor": self.predictor,
            "predictor_params": self.predictor_params,
            "acquisition": self.acquisition,
            "n_candidates": self.n_candidates,
            "n_parents": self.n_parents,
            "max_edits": self.max_edits,
        }

    def plan(self, budget: int) -> None:
        super().plan(budget)
        if budget < self.n_init:
            raise InvalidValueError(
                f"A budget of {budget} is smaller than {type(self).__name__}'s initial design of {self.n_init} "
                "random architectures; lower 'n_init' or raise the budget."
            )

    def _fit(self, batch: Any, values: np.ndarray) -> Any:
        seed = int(self._rng.integers(2**31 - 1))
        model = PREDICTORS.create(self.predictor, space=self.space, random_state=seed, **self.predictor_params)
        model.fit(batch, values)
        self.n_fits_ += 1
        return model

    def _candidates(self, parents: Any) -> Any:
        cand, _ = self._neighbourhood(parents, max_edits=self.max_edits)
        n = batch_len(cand)
        if n > self.n_candidates:
            cand = take(cand, np.sort(self._rng.choice(n, size=self.n_candidates, replace=False)))
        elif n < self.n_candidates:
            fill = self._random(self.n_candidates - n, reserve=False)
            if fill is not None:
                both = concat([cand, fill])
                cand = take(both, first_unique(self.space.canonical_keys(both)))
        return cand

    def _ask(self, n: int) -> Any:
        if self._n_asked < self.n_init:
            got = self._random(min(n, self.n_init - self._n_asked))
            self._n_asked += 0 if got is None else batch_len(got)
            return got
        if self.n_told < self.n_init:
            return None  # the initial design is still being evaluated
        obs, vals = self.observed()
        ok = np.flatnonzero(np.isfinite(vals))
        if len(ok) < 2:  # nothing to fit on yet: keep exploring
            got = self._random(n)
            self._n_asked += 0 if got is None else batch_len(got)
            return got
        x, y = take(obs, ok), vals[ok]
        model = self._fit(x, y)
        parents = take(x, np.argsort(-y, kind="stable")[: self.n_parents])
        cand = self._candidates(parents)
        if batch_len(cand) == 0:
            return None
        if self.acquisition == "mean":
            mean, std = np.asarray(model.predict(cand), np.float64), np.zeros(batch_len(cand))
        else:
            mean, std = model.predict(cand, return_std=True)
        score = acquisition_scores(self.acquisition, mean, std, float(y.max()), self._rng, self.ucb_beta)
        pick = np.argsort(-score, kind="stable")[:n]
        out = take(cand, pick)
        self._mark(self.space.canonical_keys(out))
        self._n_asked += batch_len(out)
        return out


class Bananas(_PredictorGuided):
    """BANANAS (White et al. 2021): an ensemble of 5 MLPs on the path encoding, independent
    Thompson sampling (``its``; also ``ucb``, ``ei``, ``mean``), and mutation-based acquisition
    optimisation: the fresh one- and two-edit children of the ``n_parents`` best architectures
    (``n_candidates`` of them, filled with random architectures where too few exist), scored in
    one batched call; each ask proposes the top ``n``.

    Defaults: ``n_init=10`` random, ``predictor="bananas"`` (any registered predictor with
    uncertainty works; on spaces without a path encoding it reads the one-hot adjacency),
    ``n_candidates=200``, ``n_parents=5``, ``max_edits=2``; asks of 10.
    """

    name = "bananas"
    _defaults = {"predictor": "bananas", "acquisition": "its", "n_candidates": 200, "n_parents": 5, "max_edits": 2}


class Npenas(_PredictorGuided):
    """NPENAS (Wei et al. 2020), the neural-predictor variant (NPENAS-NP): a graph predictor
    (by default the GCN, trained 100 epochs, batch 16, with the tuned defaults) fitted on
    everything evaluated; the candidates are the fresh one-edit children of the
    ``n_parents=10`` best architectures (``n_candidates=300``), ranked by predicted mean
    (``acquisition="its"`` with ``predictor_params={"n_ensemble": 5}`` gives the NPENAS-BO
    variant). Asks of 10 after ``n_init=10`` random."""

    name = "npenas"
    _defaults = {
        "predictor": "gcn",
        "predictor_params": {"defaults": "tuned", "epochs": 100, "batch_size": 16},
        "acquisition": "mean",
        "n_candidates": 300,
        "n_parents": 10,
        "max_edits": 1,
    }


class NeuralPredictorSearch(Searcher):
    """The Neural Predictor workflow of Wen et al.: evaluate ``n_train`` random architectures
    (de-isomorphic by default), fit the predictor once, score every candidate (the pool, the whole
    enumerable space such as NB201's 15,625 or NB101's 423,624 cells, or ``n_candidates`` random
    ones), then propose them best-predicted first; no isomorph of an evaluated architecture is
    proposed again.

    Parameters
    ----------
    n_train : int, optional
        N. By default half the budget given to :meth:`plan` (the rest is K), or 172 (the paper's
        NB101 figure) when no budget is planned.
    predictor : str, default ``"gcn"``; ``two_stage=True`` uses ``"gcn_two_stage"``
    predictor_params : dict, optional; parameters of the predictor
    n_candidates : int, optional; score this many random architectures instead of all
    pareto_j : int, optional
        With ``cost``: propose the soft-Pareto set (:func:`soft_pareto` with this J; Wen et al.
        use 6) first, best-predicted first, then the rest.
    deiso : bool, default True; draw the N uniformly over isomorphism classes
    """

    name = "np"
    ask_size = 10

    def __init__(
        self,
        space: Any,
        *,
        n_train: int | None = None,
        predictor: str = "gcn",
        predictor_params: dict | None = None,
        two_stage: bool = False,
        n_candidates: int | None = None,
        pareto_j: int | None = None,
        deiso: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(space, **kwargs)
        owner = "NeuralPredictorSearch"
        self.n_train = None if n_train is None else check_positive_int(n_train, "n_train", owner)
        if self.n_train is not None and self.n_train < 2:
            raise InvalidValueError(f"The 'n_train' parameter of {owner} must be at least 2. Got {n_train}.")
        if not isinstance(two_stage, bool) or not isinstance(deiso, bool):
            raise InvalidTypeError(f"The 'two_stage' and 'deiso' parameters of {owner} must be bools.")
        self.predictor = PREDICTORS.canonical_name("gcn_two_stage" if two_stage else predictor)
        self.predictor_params = dict(predictor_params or {})
        self.two_stage = two_stage
        self.n_candidates = None if n_candidates is None else check_positive_int(n_candidates, "n_candidates", owner)
        if pareto_j is not None:
            pareto_j = check_positive_int(pareto_j, "pareto_j", owner)
            if self.cost is None:
                raise InvalidValueError(f"The 'pareto_j' parameter of {owner} needs a 'cost' function.")
        self.pareto_j = pareto_j
        self.deiso = deiso
        self._n = self.n_train if self.n_train is not None else 172
        self._n_asked = 0
        self._ranked: Any = None
        self._order: np.ndarray = np.empty(0, dtype=np.int64)
        self._cursor = 0
        self.model_: Any = None

    def params(self) -> dict:
        return {
            **super().params(),
            "n_train": self._n,
            "predictor": self.predictor,
            "predictor_params": self.predictor_params,
            "n_candidates": self.n_candidates,
            "pareto_j": self.pareto_j,
            "deiso": self.deiso,
        }

    def plan(self, budget: int) -> None:
        super().plan(budget)
        if self.n_train is None:
            if budget < 4:
                raise InvalidValueError(
                    f"A budget of {budget} leaves the Neural Predictor fewer than 2 architectures to fit."
                )
            self._n = budget // 2
        elif budget <= self.n_train:
            raise InvalidValueError(
                f"A budget of {budget} leaves nothing after the N={self.n_train} training architectures; "
                "lower 'n_train' or raise the budget."
            )

    def _score_set(self) -> Any:
        """What the predictor scores: the pool, the whole space, or n_candidates random ones."""
        if self.n_candidates is not None:
            return self._random(self.n_candidates, reserve=False)
        if self.pool is not None:
            return take(self.pool, self._pool_rows[self._pool_free])
        try:
            every = self.space.all()
        except ValueError:
            return self._random(100_000, reserve=False)
        return take(every, np.flatnonzero(self._feasible(every)))

    def _rank(self) -> None:
        obs, vals = self.observed()
        ok = np.flatnonzero(np.isfinite(vals))
        if len(ok) < 2:
            raise InvalidValueError(
                f"The Neural Predictor needs at least 2 successful evaluations to fit; {len(ok)} of {len(vals)} "
                "succeeded."
            )
        seed = int(self._rng.integers(2**31 - 1))
        self.model_ = PREDICTORS.create(self.predictor, space=self.space, random_state=seed, **self.predictor_params)
        self.model_.fit(take(obs, ok), vals[ok])
        cand = self._score_set()
        if cand is None or batch_len(cand) == 0:
            self._ranked, self._order = None, np.empty(0, dtype=np.int64)
            return
        pred = np.asarray(self.model_.predict(cand), dtype=np.float64)
        order = np.argsort(-pred, kind="stable")
        if self.pareto_j is not None:
            front = soft_pareto(pred, np.asarray(self.cost(cand), np.float64), self.pareto_j)  # type: ignore[misc]
            front = front[np.argsort(-pred[front], kind="stable")]
            rest = order[~np.isin(order, front)]
            order = np.concatenate([front, rest])
        self._ranked, self._order, self._cursor = cand, order, 0
        self.predictions_ = pred

    def _ask(self, n: int) -> Any:
        if self._n_asked < self._n:
            got = self._random(min(n, self._n - self._n_asked), unique=self.deiso)
            self._n_asked += 0 if got is None else batch_len(got)
            return got
        if self._ranked is None:
            if self._pending:
                return None  # waiting for the N training architectures
            self._rank()
            if self._ranked is None:
                return None
        picked: list[int] = []
        while len(picked) < n and self._cursor < len(self._order):
            rows = self._order[self._cursor : self._cursor + 4 * n + 64]
            self._cursor += len(rows)
            keys = self.space.canonical_keys(take(self._ranked, rows))
            for r, k in zip(rows.tolist(), keys.tolist(), strict=True):
                if k not in self._seen:
                    self._seen.add(k)
                    picked.append(r)
                    if len(picked) == n:
                        # give back the rows read past the last pick
                        self._cursor -= len(rows) - 1 - rows.tolist().index(r)
                        break
        if not picked:
            return None
        out = take(self._ranked, np.asarray(picked))
        self._mark(self.space.canonical_keys(out))
        self._n_asked += len(picked)
        return out
