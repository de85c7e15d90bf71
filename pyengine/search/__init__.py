"""NAS search loops with an ask/tell interface (registry ``SEARCHERS``).

Searchers: ``rs`` (random search, optionally de-isomorphic), ``re`` (regularized evolution),
``ls`` (local search), ``bananas``, ``npenas`` and ``np`` (the Neural Predictor workflow of Wen et
al.). Each proposes batches with ``ask(n)`` and learns from ``tell(batch, values)``; ``run``
drives one against a table (simulated NAS) or a Python function (real NAS) and records a
:class:`History` that can be written as it grows and resumed. ``simulate`` runs many searchers
over many seeds on a table, and ``summarize`` / ``plot_trajectories`` report them.
"""

from __future__ import annotations

from typing import Any

from .._registry import Registry
from ._base import ExhaustedError, Searcher
from ._harness import default_tolerance, oracle, plot_trajectories, simulate, summarize
from ._history import History, HistoryError
from ._model import ACQUISITIONS, Bananas, NeuralPredictorSearch, Npenas, acquisition_scores, soft_pareto
from ._objective import Evaluation, FunctionObjective, Objective, TableColumn, TableObjective, as_objective
from ._run import run
from ._simple import LocalSearch, RandomSearch, RegularizedEvolution

__all__ = [
    "SEARCHERS",
    "get_searcher",
    "Searcher",
    "ExhaustedError",
    "RandomSearch",
    "RegularizedEvolution",
    "LocalSearch",
    "Bananas",
    "Npenas",
    "NeuralPredictorSearch",
    "ACQUISITIONS",
    "acquisition_scores",
    "soft_pareto",
    "History",
    "HistoryError",
    "Objective",
    "Evaluation",
    "TableObjective",
    "FunctionObjective",
    "TableColumn",
    "as_objective",
    "run",
    "simulate",
    "summarize",
    "plot_trajectories",
    "oracle",
    "default_tolerance",
]

SEARCHERS: Registry[Searcher] = Registry("searcher")
SEARCHERS.register("rs", "pyengine.search._simple:RandomSearch", aliases=("random",))
SEARCHERS.register("re", "pyengine.search._simple:RegularizedEvolution", aliases=("evolution", "regularized_evolution"))
SEARCHERS.register("ls", "pyengine.search._simple:LocalSearch", aliases=("local_search",))
SEARCHERS.register("bananas", "pyengine.search._model:Bananas")
SEARCHERS.register("npenas", "pyengine.search._model:Npenas")
SEARCHERS.register("np", "pyengine.search._model:NeuralPredictorSearch", aliases=("neural_predictor",))


def get_searcher(name: str, space: Any, **params: Any) -> Searcher:
    """A fresh searcher registered as ``name`` over ``space`` with ``params``."""
    return SEARCHERS.create(name, space=space, **params)
