"""pyengine: a high-performance engine for neural architecture performance prediction and search.

Subpackages
-----------
graph
    The native NAS-Bench-101/201 graph core: validation, pruning, the official NB101 hash, exact
    canonical forms, enumeration of the NB101 space, and NB201 isomorphism classes.
"""

from importlib.metadata import PackageNotFoundError, version

from ._native import DISTRIBUTION

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

from . import graph


def load(path: str) -> object:
    """A predictor saved with ``predictor.save(path)``, fitted and ready to ``predict``.

    Raises ``pyengine.predictors.ModelFileError`` for a file that is not a pyengine model, is
    truncated, comes from a newer format version or whose header does not match its arrays.
    """
    from .predictors._persist import load_predictor

    return load_predictor(path)


__all__ = ["graph", "load", "__version__"]
