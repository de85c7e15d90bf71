"""Architecture encodings as batched kernels.

``ENCODINGS`` holds ``adjacency_one_hot`` (alias ``onehot``), ``categorical``, ``gcn``, ``graf``,
``op_counts``, ``path`` and ``path_trunc``. ``encode(space, name, archs)`` takes a space (name or object) and
architectures in any form the space reads (a batch, strings, record dicts) and returns a float32
array of shape (n_archs, d), or a :class:`GraphBatch` for ``gcn``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import Registry
from ..spaces import SearchSpace, get_space
from ._encoders import BUCKETS, GraphBatch, kernel, supports

__all__ = ["ENCODINGS", "encode", "kernel", "supports", "GraphBatch", "BUCKETS"]

ENCODINGS: Registry[Any] = Registry("encoding")
ENCODINGS.register("adjacency_one_hot", "pyengine.encodings._encoders:adjacency_one_hot", aliases=("onehot",))
ENCODINGS.register("categorical", "pyengine.encodings._encoders:categorical")
ENCODINGS.register("gcn", "pyengine.encodings._encoders:gcn")
ENCODINGS.register("graf", "pyengine.encodings._encoders:graf")
ENCODINGS.register("op_counts", "pyengine.encodings._encoders:op_counts")
ENCODINGS.register("path", "pyengine.encodings._encoders:path")
ENCODINGS.register("path_trunc", "pyengine.encodings._encoders:path_trunc")


def encode(space: str | SearchSpace, name: str, archs: Any, **params: Any) -> np.ndarray | GraphBatch:
    """Encode architectures.

    Parameters
    ----------
    space : str or SearchSpace
    name : str
        A name in ``ENCODINGS``.
    archs : a batch of the space, or strings / record dicts it reads (see ``SearchSpace.as_batch``)
    **params : encoding parameters (``k`` for ``path_trunc``)

    Returns
    -------
    array of shape (n_archs, d), float32; or GraphBatch for ``gcn``
    """
    fn = ENCODINGS.get(name)
    sp = get_space(space)
    return fn(sp, sp.as_batch(archs), **params)
