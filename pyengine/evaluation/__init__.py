"""Predictor evaluation on benchmark tables (``PredictorEvaluator``, ``pyengine evaluate``)."""

from ._evaluator import DEFAULT_TRAIN_SIZES, PredictorEvaluator, plot_kendall, summarize, write_records

__all__ = ["PredictorEvaluator", "DEFAULT_TRAIN_SIZES", "summarize", "plot_kendall", "write_records"]
