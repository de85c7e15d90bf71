"""Whole-space scoring: a saved predictor or a zero-cost proxy over every architecture of a space
(or of a JSON-lines file), streamed to a JSON-lines output in chunks with a checkpoint, resumable
after a crash (``pyengine score``)."""

from ._job import (
    DEFAULT_CHUNK,
    CheckpointError,
    ModelScorer,
    ProxyScoreFn,
    ScoreSource,
    checkpoint_path,
    score_job,
)

__all__ = [
    "DEFAULT_CHUNK",
    "CheckpointError",
    "ModelScorer",
    "ProxyScoreFn",
    "ScoreSource",
    "checkpoint_path",
    "score_job",
]
