"""Search spaces as immutable value objects over batches.

Every space (``SPACES``: ``nb101``, ``nb201``, ``darts``, ``macro``, ``proxyless``) offers
``sample(n, rng, unique=False)``, ``mutate(batch, rng)``, ``neighbors(arch)``, ``size``,
``n_classes``, ``canonical_keys``, ``is_isomorphic``, ``unique``, string and NASLib formats
(``from_strings`` / ``to_strings``, ``from_naslib`` / ``to_naslib``) and ``as_batch`` for any of
them; nb101, nb201 and the small chain spaces list themselves (``all``, ``iter_batches``).
Randomness comes only from the ``rng`` argument (a ``numpy.random.Generator`` or an int seed).
"""

from __future__ import annotations

from typing import Any

from .._registry import Registry
from ..errors import InvalidTypeError
from ._base import InvalidArchitectureError, SearchSpace
from ._darts import DartsBatch, DartsSpace
from ._macro import MacroBatch, MacroSpace
from ._nb101 import NB101Space
from ._nb201 import NB201Batch, NB201Space

__all__ = [
    "SPACES",
    "get_space",
    "SearchSpace",
    "InvalidArchitectureError",
    "NB101Space",
    "NB201Space",
    "NB201Batch",
    "DartsSpace",
    "DartsBatch",
    "MacroSpace",
    "MacroBatch",
]

SPACES: Registry[SearchSpace] = Registry("search space")
SPACES.register("nb101", "pyengine.spaces._nb101:NB101Space", aliases=("nasbench101",))
SPACES.register("nb201", "pyengine.spaces._nb201:NB201Space", aliases=("nasbench201",))
SPACES.register("darts", "pyengine.spaces._darts:DartsSpace", aliases=("nb301", "nasbench301"))
SPACES.register("macro", "pyengine.spaces._macro:MacroSpace", aliases=("nas_bench_macro",))
SPACES.register("proxyless", "pyengine.spaces._macro:MacroSpace.proxyless")


def get_space(name: str | SearchSpace, **kwargs: Any) -> SearchSpace:
    """The space registered as ``name`` (built with ``kwargs``), or ``name`` itself if it is a space."""
    if isinstance(name, SearchSpace):
        if kwargs:
            raise InvalidTypeError("get_space takes no keyword arguments with a SearchSpace instance.")
        return name
    return SPACES.create(name, **kwargs)
