"""Predictor evaluation on benchmark tables (``PredictorEvaluator``, ``pyengine evaluate``) and the
cost axes of White et al. (``training_time``, ``cost_grid``, ``plot_grid``)."""

from ._costs import TrainingTime, cost_grid, plot_grid, training_time
from ._evaluator import DEFAULT_TRAIN_SIZES, PredictorEvaluator, plot_kendall, summarize, write_records

__all__ = [
    "PredictorEvaluator",
    "DEFAULT_TRAIN_SIZES",
    "summarize",
    "plot_kendall",
    "write_records",
    "TrainingTime",
    "training_time",
    "cost_grid",
    "plot_grid",
]
