"""pyengine: a high-performance engine for neural architecture performance prediction and search.

Subpackages
-----------
graph
    The native NAS-Bench-101/201 graph core: validation, pruning, the official NB101 hash, exact
    canonical forms, enumeration of the NB101 space, and NB201 isomorphism classes.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pyengine")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

from . import graph

__all__ = ["graph", "__version__"]
