"""Native graph core for the NAS-Bench-101 and NAS-Bench-201 cell spaces.

``pyengine.graph.nb101``: validation and pruning exactly as the official API, the official module
hash, exact canonical forms and the enumeration of all 423,624 cells.

``pyengine.graph.nb201``: arch strings, cell indices and the official isomorphism classes (6,466).

``pyengine.graph.device``: the same on a CUDA device (kernels compiled at run time by NVRTC
through CuPy, results identical to the CPU core's).

``pyengine.graph.md5_backend`` / ``set_md5_backend`` / ``md5_backends`` choose the MD5 kernel
(``"scalar"``, ``"avx2"``, ``"avx512"``); the fastest one the CPU supports is used by default.
"""

from .._native import core as _core
from ..errors import InvalidTypeError
from . import darts, device, nb101, nb201

__all__ = ["darts", "device", "nb101", "nb201", "md5_backend", "md5_backends", "set_md5_backend"]


def md5_backends() -> list[str]:
    """Names of the MD5 kernels this CPU can run."""
    return list(_core.md5_backends())


def md5_backend() -> str:
    """Name of the MD5 kernel in use."""
    return str(_core.md5_backend())


def set_md5_backend(name: str) -> None:
    """Select the MD5 kernel by name (process-wide). Raises ValueError for an unavailable one."""
    if not isinstance(name, str):
        raise InvalidTypeError(
            f"The 'name' parameter of set_md5_backend must be a str. Got {type(name).__name__} instead."
        )
    _core.set_md5_backend(name)
