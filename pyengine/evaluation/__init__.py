"""Predictor evaluation on benchmark tables (``PredictorEvaluator``, ``pyengine evaluate``) and the
cost axes of White et al. (``training_time``, ``cost_grid``, ``plot_grid``), and the published
protocol of the NAS predictor papers (``get_protocol``, ``protocol_evaluator``,
``PUBLISHED_RESULTS``)."""

from ._costs import TrainingTime, cost_grid, plot_grid, training_time
from ._evaluator import DEFAULT_TRAIN_SIZES, PredictorEvaluator, plot_kendall, summarize, write_records
from ._protocol import (
    PROTOCOLS,
    PUBLISHED_RESULTS,
    Protocol,
    PublishedResult,
    get_protocol,
    metric_dataset,
    protocol_evaluator,
    protocol_summary,
    published_results,
)

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
    "Protocol",
    "PublishedResult",
    "PROTOCOLS",
    "PUBLISHED_RESULTS",
    "get_protocol",
    "protocol_evaluator",
    "protocol_summary",
    "published_results",
    "metric_dataset",
]
