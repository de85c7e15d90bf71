"""Zero-cost proxies: scores of untrained networks from one minibatch (or none), computed by one
compiled JAX program per (space, proxies, input shape) that takes the architecture as data.

``PROXIES`` is the registry (jacob_cov, nwot, synflow, snip, grasp, fisher, grad_norm, plain,
l2_norm, epe_nas, params, flops, zen; defined as in Abdelfattah et al. 2021 and NASLib);
``ProxyScorer`` scores batches of architectures; ``DATASETS`` maps NASLib's dataset keys to
(classes, input shape); ``cached_scores`` keeps scores on disk per architecture.
"""

from __future__ import annotations

from ._cache import CachedScores, cached_scores
from ._defs import Proxy
from ._scorer import DATASETS, PROXIES, ProxyError, ProxyScorer, score_proxies

__all__ = [
    "PROXIES",
    "Proxy",
    "ProxyScorer",
    "ProxyError",
    "DATASETS",
    "score_proxies",
    "cached_scores",
    "CachedScores",
]
