"""Streaming scoring: draw (or mutate) architectures in chunks, validate and prune them, drop
isomorphs met before, score the rest with a fitted predictor and keep a running top-k.

``stream_top_k(space, predictor, n, k=..., seed=...)`` returns a :class:`StreamResult` (the top-k
keys, scores and arch strings, and :class:`StreamStats`: counts per stage, validation reasons,
seconds per stage). The stages run on a backend (``BACKENDS``: ``cpu``; a GPU backend registers
itself as ``gpu`` by deriving from :class:`Backend`), chosen by ``device="auto" | "cpu" | "gpu"``.
``pyengine score --sample N --top-k K`` and ``pyengine bench pipeline`` drive it from the command
line.
"""

from ._backend import BACKENDS, BLOCK, SPACES, Backend, CpuBackend, block_rng, resolve_device
from ._stream import STAGES, StreamResult, StreamStats, stream_top_k

__all__ = [
    "BACKENDS",
    "BLOCK",
    "SPACES",
    "STAGES",
    "Backend",
    "CpuBackend",
    "StreamResult",
    "StreamStats",
    "block_rng",
    "resolve_device",
    "stream_top_k",
]
