"""JAX's persistent compilation cache, so a second process starts without recompiling."""

from __future__ import annotations

import logging
import os

__all__ = ["enable_compilation_cache", "cache_dir"]

log = logging.getLogger(__name__)


def cache_dir() -> str:
    """``$PYENGINE_CACHE_DIR/xla`` or ``~/.cache/pyengine/xla``."""
    from ._jsonl_cache import default_cache_dir

    return os.path.join(default_cache_dir(), "xla")


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Point JAX's persistent compilation cache at ``path`` (default :func:`cache_dir`) for every
    program that takes at least a second to compile. Returns the folder, or None when it cannot be
    created (the cache is then left off, with a logged message)."""
    import jax

    path = path or cache_dir()
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        log.info("Compilation cache off: cannot create %s (%s).", path, e)
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
