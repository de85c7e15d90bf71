"""The one place that imports the compiled extension ``pyengine._core``."""

from __future__ import annotations

try:
    from . import _core as core
except ImportError as err:  # pragma: no cover - depends on the install
    raise ImportError(
        "pyengine's native extension pyengine._core is not built or does not match this Python. "
        "Install the package with a C++17 compiler available: `pip install .` from the source tree "
        f"(original error: {err})"
    ) from err

__all__ = ["core", "resolve_threads"]


def resolve_threads(threads: int | None) -> int:
    """Validate a ``threads`` argument: None or 0 means every core, otherwise a positive int."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"The 'threads' parameter must be an int or None. Got {type(threads).__name__} instead.")
    if threads < 0:
        raise ValueError(f"The 'threads' parameter must be a non-negative int. Got {threads} instead.")
    return threads
