"""Caches of compiled programs: bounded in-process ones, and persistent ones so a second process
starts without recompiling.

In process, :class:`ProgramCache` (and :func:`cached_programs`, its decorator form for functions
that build jitted programs) holds compiled programs up to a fixed count and drops the least
recently used: every XLA:CPU executable holds about three memory mappings until it is freed, and a
process may hold at most ``vm.max_map_count`` of them (65,530 by default), so no cache of
programs may grow without bound. JAX's own staging caches keep a dropped program's executable
alive too, so after ``FREE_AFTER_EVICTIONS`` programs dropped (by all caches together) they are
cleared (``jax.clear_caches()``): programs still held stay valid, other jitted functions
recompile on their next call.

On disk, two layers, both under one folder:

- JAX's persistent compilation cache keeps XLA's executables: a later process skips XLA's
  compile, but still traces the program in Python and lowers it to StableHLO.
- The program cache (``exported/``) keeps each traced and lowered program, serialized with
  ``jax.export``: a later process deserializes it instead of tracing, and its compile then hits
  the first layer. An entry is keyed by a caller's tag, the abstract signature of the arguments
  (tree structure, shapes, dtypes), the JAX version and backend, and a digest of the package's
  source, so any change to the code that builds a program leads to a new entry. The same folder
  keeps the output shapes of abstract evaluations (a network's variables, :func:`eval_shape_cached`),
  which otherwise trace the whole network.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import pathlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from ._io import atomic_write
from .errors import InvalidValueError

__all__ = [
    "ProgramCache",
    "cached_programs",
    "enable_compilation_cache",
    "cache_dir",
    "compile_program",
    "eval_shape_cached",
    "program_key",
]

log = logging.getLogger(__name__)

_EXPORTED: str | None = None  # the program cache's folder; None when it is off


class ProgramCache:
    """Compiled programs by key, at most ``maxsize`` of them; the least recently used is dropped
    (and freed once no caller holds it) when a new one comes in.

    Parameters
    ----------
    maxsize : int
        How many programs to keep (>= 1).
    """

    def __init__(self, maxsize: int) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise InvalidValueError(
                f"The 'maxsize' parameter of ProgramCache must be a positive int. Got {maxsize!r} instead."
            )
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The program under ``key``, built with ``build()`` and kept if absent."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
            _dropped(1)
        return value

    def clear(self) -> None:
        _dropped(len(self._items))
        self._items.clear()


FREE_AFTER_EVICTIONS = 64
_evicted = 0


def _dropped(n: int) -> None:
    """Count programs dropped from the caches; past ``FREE_AFTER_EVICTIONS``, clear JAX's caches,
    which would otherwise keep the dropped programs' executables."""
    global _evicted
    _evicted += n
    if _evicted >= FREE_AFTER_EVICTIONS:
        import jax

        log.debug("%d compiled programs dropped: clearing JAX's caches to free their executables", _evicted)
        _evicted = 0
        jax.clear_caches()


def cached_programs(maxsize: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for a function that builds a jitted program from hashable arguments: its results
    are kept in a :class:`ProgramCache` of ``maxsize`` (``functools.lru_cache``'s role, with the
    dropped programs counted towards freeing JAX's caches)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        cache = ProgramCache(maxsize)

        @functools.wraps(fn)
        def cached(*args: Any, **kwargs: Any) -> Any:
            key = (args, tuple(sorted(kwargs.items())))
            return cache.get(key, lambda: fn(*args, **kwargs))

        cached.cache = cache  # type: ignore[attr-defined]
        return cached

    return decorate


def cache_dir() -> str:
    """``$PYENGINE_CACHE_DIR/xla`` or ``~/.cache/pyengine/xla``."""
    from ._jsonl_cache import default_cache_dir

    return os.path.join(default_cache_dir(), "xla")


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Point JAX's persistent compilation cache at ``path`` (default :func:`cache_dir`) for every
    program that takes at least a second to compile, and keep traced programs in
    ``path/exported`` (see :func:`compile_program`). Returns the folder, or None when it cannot
    be created (both caches are then left off, with a logged message)."""
    import jax

    global _EXPORTED
    path = path or cache_dir()
    exported = os.path.join(path, "exported")
    try:
        os.makedirs(exported, exist_ok=True)
    except OSError as e:
        log.info("Compilation cache off: cannot create %s (%s).", exported, e)
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _EXPORTED = exported
    return path


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    """sha256 over the package's Python sources (relative paths and contents)."""
    root = pathlib.Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _leaf_signature(a: Any) -> str:
    shape = getattr(a, "shape", ())
    dtype = getattr(a, "dtype", None)
    return f"{tuple(shape)}:{dtype if dtype is not None else type(a).__name__}"


def program_key(tag: str, args: tuple[Any, ...]) -> str:
    """The program cache's key of a program built for ``tag`` and called with ``args``."""
    import jax
    import jaxlib

    leaves, tree = jax.tree.flatten(args)
    device = jax.devices()[0]
    parts = [
        tag,
        str(tree),
        ";".join(_leaf_signature(a) for a in leaves),
        jax.__version__,
        jaxlib.__version__,
        device.platform,
        device.device_kind,
        str(jax.config.jax_enable_x64),
        str(jax.config.jax_default_matmul_precision),
        str(jax.config.jax_threefry_partitionable),
        _source_digest(),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _serialization_available() -> bool:
    return importlib.util.find_spec("flatbuffers") is not None


def _read(path: str) -> Any:
    """The exported program stored at ``path``, or None when there is none or it cannot be read
    (a truncated or foreign file is removed, with a logged message)."""
    import jax

    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        log.warning("Program cache: cannot read %s (%s); tracing the program again.", path, e)
        return None
    try:
        return jax.export.deserialize(bytearray(data))
    except Exception as e:  # a corrupt flatbuffer raises whatever its reader meets
        log.warning("Program cache: %s is not a serialized program (%s); tracing it again.", path, e)
        try:
            os.remove(path)
        except OSError:
            pass
        return None


def _write(path: str, exported: Any) -> None:
    """Store ``exported`` at ``path`` atomically; a failure is logged, never raised."""
    try:
        data = exported.serialize()
    except Exception as e:
        log.warning("Program cache: cannot serialize the program for %s (%s).", path, e)
        return
    _write_bytes(path, data)


def _write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a failure is logged, never raised."""
    try:
        with atomic_write(path, "wb") as f:
            f.write(data)
    except Exception as e:
        log.warning("Program cache: cannot store %s (%s).", path, e)


def compile_program(fn: Any, args: tuple[Any, ...], tag: str, *, folder: str | None = None) -> Any:
    """``fn.lower(*args).compile()`` through the program cache.

    fn : a jitted function
    args : its example arguments (arrays or ``jax.ShapeDtypeStruct``)
    tag : names the program among those of the caller: everything that selects the function
        and is not in ``args``' shapes (space, proxies, options)
    folder : the program cache's folder; default the one :func:`enable_compilation_cache` set

    With no folder (the cache off), or without the ``flatbuffers`` package that serialization
    needs, this is ``fn.lower(*args).compile()``. Otherwise the program is traced and exported
    once, stored, and every later call with the same key deserializes it instead of tracing.
    The compiled program computes exactly what ``fn`` does (the same StableHLO).
    """
    import jax

    folder = _EXPORTED if folder is None else folder
    if folder is None or " at 0x" in tag or not _serialization_available():  # an address: no stable key
        return fn.lower(*args).compile()
    path = os.path.join(folder, program_key(tag, args) + ".jaxexport")
    exported = _read(path)
    if exported is None:
        exported = jax.export.export(fn)(*args)
        _write(path, exported)
    return jax.jit(exported.call).lower(*args).compile()


def eval_shape_cached(fn: Any, args: tuple[Any, ...], tag: str, *, folder: str | None = None) -> Any:
    """``jax.eval_shape(fn, *args)`` for a function returning nested dicts of arrays (a network's
    variables), kept in the program cache as JSON under the same kind of key as
    :func:`compile_program`'s. Other outputs, and calls with the cache off, are not kept."""
    import jax
    import numpy as np
    from flax import traverse_util

    folder = _EXPORTED if folder is None else folder
    if folder is None or " at 0x" in tag:
        return jax.eval_shape(fn, *args)
    path = os.path.join(folder, program_key("eval_shape " + tag, args) + ".shapes.json")
    try:
        with open(path) as f:
            rows = json.load(f)
        flat = {tuple(p): jax.ShapeDtypeStruct(tuple(shape), np.dtype(dtype)) for p, shape, dtype in rows}
        return traverse_util.unflatten_dict(flat)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, TypeError) as e:  # truncated or foreign JSON, rows of the wrong form
        log.warning("Program cache: %s is not a table of shapes (%s); evaluating them again.", path, e)
    out = jax.eval_shape(fn, *args)
    if not isinstance(out, dict):
        return out
    flat = traverse_util.flatten_dict(out)
    if not all(all(isinstance(k, str) for k in p) and hasattr(a, "shape") for p, a in flat.items()):
        return out
    rows = [[list(p), list(a.shape), str(a.dtype)] for p, a in flat.items()]
    _write_bytes(path, json.dumps(rows).encode())
    return out
