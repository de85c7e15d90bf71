"""Streaming scoring: draw (or mutate) architectures in chunks, validate and prune them, drop
isomorphs met before, score the rest with a fitted predictor and keep a running top-k.

``stream_top_k(space, predictor, n, k=..., seed=...)`` returns a :class:`StreamResult` (the top-k
keys, scores and arch strings, and :class:`StreamStats`: counts per stage, validation reasons,
seconds per stage). The stages run on a backend (``BACKENDS``: ``cpu``, and ``gpu``: raw NB101
streams sampled, validated, canonicalized and de-duplicated on a CUDA device), chosen by
``device="auto" | "cpu" | "gpu"``.
``pyengine score --sample N --top-k K`` and ``pyengine bench pipeline`` drive it from the command
line.
"""

from ._backend import BACKENDS, BLOCK, SPACES, Backend, CpuBackend, GpuBackend, block_rng, resolve_device
from ._stream import STAGES, StreamResult, StreamStats, stream_top_k

__all__ = [
    "BACKENDS",
    "BLOCK",
    "SPACES",
    "STAGES",
    "Backend",
    "CpuBackend",
    "GpuBackend",
    "StreamResult",
    "StreamStats",
    "block_rng",
    "resolve_device",
    "stream_top_k",
]
