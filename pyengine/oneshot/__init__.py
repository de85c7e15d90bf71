"""One-shot (weight-sharing) estimators and Ning et al.'s evaluation of them.

``Supernet``: the NB201 supernet (every edge holds all five ops) trained by path sampling
(``uniform``, de-isomorphic ``deiso``, FairNAS-style ``fair``), scoring any batch of
architectures by their sub-networks' accuracy and loss with the inherited weights, with the
temporal ensemble and per-sub-network batch-norm recalibration. ``OneShotPredictor``: the same
as the registry's ``oneshot`` predictor. ``ground_truth``: stand-alone training of a fixed set
by the trainer, cached per machine. ``evaluate_oneshot``: the study (ranking quality against
supernet epochs per strategy and trick, biases, zero-cost proxies on the same ground truth);
``plot_oneshot`` draws it.
"""

from __future__ import annotations

from ._predictor import OneShotPredictor
from ._study import DEFAULT_PROXIES, evaluate_oneshot, nb201_complexity, plot_oneshot, ranking_record, truth_set
from ._supernet import STRATEGIES, Supernet, SupernetDivergedError, SupernetError, sample_paths
from ._truth import GroundTruth, default_cache_dir, ground_truth

__all__ = [
    "Supernet",
    "SupernetError",
    "SupernetDivergedError",
    "STRATEGIES",
    "sample_paths",
    "OneShotPredictor",
    "GroundTruth",
    "ground_truth",
    "default_cache_dir",
    "evaluate_oneshot",
    "plot_oneshot",
    "ranking_record",
    "truth_set",
    "nb201_complexity",
    "DEFAULT_PROXIES",
]
