"""Saved predictors: ``predictor.save(path)`` and ``pyengine.load(path)``.

Format (version 1). One file, a zip archive of ``.npy`` arrays (numpy's ``.npz`` layout, read
with ``allow_pickle=False``), written to exactly the path given:

- ``__header__``: a uint8 array holding UTF-8 JSON::

    {"format": "pyengine-predictor", "format_version": 1, "pyengine_version": "0.1.0",
     "predictor": "gcn", "class": "GCNPredictor", "space": "nb201", "encoding": "gcn",
     "params": {...}, "state": {...}, "arrays": {"NAME": {"shape": [...], "dtype": "<f4"}, ...}}

  ``params`` are the estimator's ``get_params()``; ``state`` its fitted attributes (the names
  ending in ``_``). Values are JSON; tuples, dicts, arrays, flax modules and fitted models are
  tagged objects ``{"$type": ...}`` (``tuple``, ``dict``, ``array`` (a reference to an array of
  the archive), ``tree`` (a pytree of arrays: flax parameters), ``module`` (a flax module's
  fields), ``forest``, ``ngboost``, ``xgboost``, ``lightgbm``, ``gp``, ``blr``, ``svr``,
  ``predictor`` (a fitted predictor inside another, described like the file's top level)).
- every other member: an array named in the header, with the recorded shape and dtype.

Format version 2 (written now) adds one tagged object, ``space``: a search space instance that
is not its registered name's default (a ``macro`` chain with other layers, choices or blocks,
the ``proxyless`` chain) is written, where the ``space`` parameter holds it, as
``{"$type": "space", "name": "macro", "params": {"n_layers": 6, "choices": ..., ...}}`` (its
constructor's arguments); loading rebuilds it with ``get_space(name, **params)``. A space equal to
its name's default stays that name (``"nb201"``), as in version 1, and the top-level ``"space"``
is always the name. Version 1 files hold names only and load unchanged: the reader takes every
version up to ``FORMAT_VERSION`` and refuses newer ones.

Loading builds objects only from an allow-list of classes and never unpickles: tree ensembles
come back as arrays walked by numpy, XGBoost and LightGBM models from their own text or binary
model formats.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._io import atomic_write
from ..errors import InvalidTypeError, InvalidValueError, ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "save_predictor",
    "load_predictor",
    "read_header",
    "header_space",
    "register_codec",
    "register_module",
]

FORMAT = "pyengine-predictor"
FORMAT_VERSION = 2
_HEADER = "__header__"


# -- the registry of model codecs -----------------------------------------------------------------
class Codec(NamedTuple):
    """How one kind of fitted model is written to and read from a model file.

    ``claims(value)`` says whether the codec writes ``value``; ``encode(writer, value, key)``
    returns the header entry (without ``$type``; arrays go to ``writer.array(name, a)`` under
    names starting with ``key``); ``decode(reader, entry)`` rebuilds the model
    (``reader.array(ref)`` reads an array back)."""

    claims: Callable[[Any], bool]
    encode: Callable[[Any, Any, str], dict[str, Any]]
    decode: Callable[[Any, dict[str, Any]], Any]


_CORE_TAGS = ("tuple", "dict", "array", "tree", "predictor", "space", "module")
_CODECS: dict[str, Codec] = {}
_MODULES: dict[str, type] = {}


def register_codec(
    tag: str,
    claims: Callable[[Any], bool],
    encode: Callable[[Any, Any, str], dict[str, Any]],
    decode: Callable[[Any, dict[str, Any]], Any],
) -> None:
    """Register how a fitted model is saved as ``{"$type": tag, ...}``; the module defining the
    model calls this at import, so loading a predictor (which imports its class) registers what
    its state needs."""
    known = _CODECS.get(tag)
    if tag in _CORE_TAGS or (known is not None and known.encode.__module__ != encode.__module__):
        raise InvalidValueError(f"The model-file entry type {tag!r} is already registered.")
    _CODECS[tag] = Codec(claims, encode, decode)


def register_module(cls: type) -> type:
    """Register a flax module class saved by its dataclass fields (``{"$type": "module"}``);
    usable as a class decorator."""
    _MODULES[cls.__name__] = cls
    return cls


# -- encoding values ------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, key: str, a: Any) -> dict[str, Any]:
        self.arrays[key] = np.asarray(a)
        return {"$type": "array", "key": key}

    def value(self, v: Any, key: str) -> Any:
        """JSON for ``v``; its arrays go to the archive under names starting with ``key``."""
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v)
        if isinstance(v, tuple):
            return {"$type": "tuple", "items": [self.value(x, f"{key}/{i}") for i, x in enumerate(v)]}
        if isinstance(v, list):
            return [self.value(x, f"{key}/{i}") for i, x in enumerate(v)]
        if isinstance(v, np.ndarray) or type(v).__module__.startswith(("jax", "jaxlib")):
            return self.array(key, v)
        if isinstance(v, dict):
            if all(isinstance(x, dict) or _is_array(x) for x in v.values()) and _has_array(v):
                from flax import traverse_util

                flat = traverse_util.flatten_dict(dict(v), sep="/")
                return {"$type": "tree", "keys": {k: self.array(f"{key}/{k}", a)["key"] for k, a in flat.items()}}
            return {"$type": "dict", "items": {str(k): self.value(x, f"{key}/{k}") for k, x in v.items()}}
        return self.model(v, key)

    def model(self, v: Any, key: str) -> dict[str, Any]:
        import dataclasses

        if hasattr(v, "save") and hasattr(v, "get_params") and isinstance(getattr(v, "name", None), str):
            return {"$type": "predictor", **_describe(v, self, key)}  # a fitted predictor inside another

        from ..spaces import SearchSpace

        if isinstance(v, SearchSpace):
            return self.space(v, key)
        if _MODULES.get(type(v).__name__) is type(v):
            fields = {f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.name not in ("parent", "name")}
            return {"$type": "module", "class": type(v).__name__, "fields": self.value(fields, key)}
        for tag, codec in _CODECS.items():
            if codec.claims(v):
                return {"$type": tag, **codec.encode(self, v, key)}
        raise InvalidTypeError(f"Cannot save a value of type {type(v).__name__} ({key}).")

    def space(self, space: Any, key: str) -> Any:
        """A space's name where it equals that name's default, else its tagged definition."""
        from ..spaces import get_space

        try:
            if get_space(space.name) == space:
                return space.name
        except (KeyError, TypeError, ValueError):
            pass  # a name without a default instance
        return {"$type": "space", "name": space.name, "params": self.value(_space_params(space), f"{key}/space")}


def _space_params(space: Any) -> dict[str, Any]:
    """The constructor arguments that rebuild ``space`` (each stored as an attribute of that name)."""
    import inspect

    out = {}
    for p in list(inspect.signature(type(space).__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or not hasattr(space, p.name):
            raise InvalidTypeError(f"Cannot save the space {space!r}: its parameter {p.name!r} is not an attribute.")
        out[p.name] = getattr(space, p.name)
    return out


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or type(x).__module__.startswith(("jax", "jaxlib"))


def _has_array(d: dict) -> bool:
    return any(_is_array(x) or (isinstance(x, dict) and _has_array(x)) for x in d.values())


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def array(self, ref: Any) -> np.ndarray:
        key = ref["key"] if isinstance(ref, dict) else ref
        if key not in self.arrays:
            raise ModelFileError(f"The header names an array {key!r} that the file does not hold.")
        return self.arrays[key]

    def value(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, dict):
            return v
        kind = v.get("$type")
        try:
            if kind == "tuple":
                return tuple(self.value(x) for x in v["items"])
            if kind == "dict":
                return {k: self.value(x) for k, x in v["items"].items()}
            if kind == "array":
                return self.array(v)
            if kind == "tree":
                from flax import traverse_util

                return traverse_util.unflatten_dict({k: self.array(a) for k, a in v["keys"].items()}, sep="/")
            return self.model(kind, v)
        except (KeyError, TypeError, AttributeError) as err:
            raise ModelFileError(f"A {kind!r} entry of the header is malformed ({err!r}).") from None

    def model(self, kind: Any, v: dict[str, Any]) -> Any:
        if kind == "predictor":
            return _build(v, self, "nested predictor")
        if kind == "space":
            from ..spaces import get_space

            params = self.value(v["params"])
            if not isinstance(params, dict):
                raise InvalidTypeError(f"space parameters are {type(params).__name__}, not a dict")
            try:
                return get_space(v["name"], **params)
            except ValueError as err:
                raise ModelFileError(f"The file's {v['name']!r} space cannot be rebuilt: {err}") from None
        if kind == "module":
            if v["class"] not in _MODULES:
                raise ModelFileError(f"Unknown module class {v['class']!r} in the file (known: {sorted(_MODULES)}).")
            return _MODULES[v["class"]](**self.value(v["fields"]))
        if kind not in _CODECS:
            raise ModelFileError(
                f"Unknown entry type {kind!r} in the file's header (known: {sorted((*_CORE_TAGS, *_CODECS))})."
            )
        return _CODECS[kind].decode(self, v)


# -- files ----------------------------------------------------------------------------------------
def _space_name(space: Any) -> str | None:
    if space is None or isinstance(space, str):
        return space
    return str(getattr(space, "name", space))


def _describe(est: Any, w: _Writer, key: str) -> dict[str, Any]:
    """Name, class, parameters and fitted state of a predictor; arrays go to ``w`` under ``key``."""
    from . import PREDICTORS

    params = est.get_params(deep=False)
    prefix = f"{key}/" if key else ""
    return {
        "predictor": PREDICTORS.canonical_name(est.name),
        "class": type(est).__name__,
        "space": _space_name(params.get("space")),
        "encoding": est._encoding() if hasattr(est, "_encoding") else params.get("encoding"),
        "params": w.value(params, f"{prefix}params"),
        "state": {
            k: w.value(v, f"{prefix}state/{k}")
            for k, v in sorted(vars(est).items())
            if k.endswith("_") and not k.startswith("_")
        },
    }


def save_predictor(est: Any, path: str | os.PathLike) -> None:
    """Write a fitted predictor to exactly ``path`` (no extension added; replaced atomically).
    ``Predictor.save`` checks that it is fitted first."""
    from .. import __version__

    w = _Writer()
    try:
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "pyengine_version": __version__,
            **_describe(est, w, ""),
        }
    except TypeError as err:
        raise InvalidTypeError(f"{type(est).__name__} cannot be saved: {err}") from None
    header["arrays"] = {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in w.arrays.items()}
    blob = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **{_HEADER: blob}, **w.arrays)


def _open(path: str | os.PathLike) -> tuple[dict[str, Any], Any]:
    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise ModelFileError(f"Cannot read the model file {p}: {err.strerror or err}.") from None
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        if not hasattr(npz, "files"):
            raise InvalidValueError("a bare array")
        if _HEADER not in npz.files:
            raise ModelFileError(f"{p} is not a pyengine model file (no header).")
        header = json.loads(npz[_HEADER].tobytes().decode())
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{p} is not a readable pyengine model file (truncated or corrupt: {err}).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{p} is not a pyengine model file (format {header.get('format')!r}).")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{p} was written in model format version {version} by pyengine {header.get('pyengine_version')}; "
            f"this pyengine reads format versions up to {FORMAT_VERSION}. Upgrade pyengine to load it."
        )
    return header, npz


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a model file (predictor, space, encoding, parameters), checked."""
    header, _ = _open(path)
    return header


def header_space(header: dict[str, Any]) -> Any:
    """The space a model file's header describes: None, a registered name, or the
    :class:`~pyengine.spaces.SearchSpace` its ``space`` parameter defines (format version 2)."""
    params = header.get("params")
    if isinstance(params, dict) and params.get("$type") == "dict":
        params = params.get("items")
    spec = params.get("space") if isinstance(params, dict) else None
    if isinstance(spec, dict) and spec.get("$type") == "space":
        return _Reader({}).value(spec)
    return header.get("space")


def load_predictor(path: str | os.PathLike) -> Any:
    """The predictor saved at ``path``, fitted, predicting exactly as it did when saved."""

    header, npz = _open(path)
    p = os.fspath(path)
    listed = header.get("arrays")
    if not isinstance(listed, dict):
        raise ModelFileError(f"{p}: the header lists no arrays.")
    present = set(npz.files) - {_HEADER}
    if present != set(listed):
        missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
        raise ModelFileError(f"{p}: the header and the arrays differ (missing {missing[:5]}, unlisted {extra[:5]}).")
    arrays = {}
    for k, meta in listed.items():
        try:
            a = npz[k]
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as err:
            raise ModelFileError(f"{p}: the array {k!r} cannot be read (truncated or corrupt: {err}).") from None
        if list(a.shape) != meta.get("shape") or a.dtype.str != meta.get("dtype"):
            raise ModelFileError(
                f"{p}: the array {k!r} has shape {list(a.shape)} and dtype {a.dtype.str}; "
                f"the header says {meta.get('shape')} and {meta.get('dtype')}."
            )
        arrays[k] = a
    return _build(header, _Reader(arrays), p)


def _build(desc: dict[str, Any], r: _Reader, p: str) -> Any:
    """A predictor from its description (see ``_describe``)."""
    from . import PREDICTORS

    try:
        cls = PREDICTORS.get(desc["predictor"])
    except (KeyError, ValueError) as err:
        raise ModelFileError(f"{p}: unknown predictor in the file ({err}).") from None
    if cls.__name__ != desc.get("class"):
        raise ModelFileError(f"{p}: the predictor {desc['predictor']!r} is {cls.__name__}, not {desc.get('class')}.")
    params = r.value(desc["params"])
    for old, new in getattr(cls, "_renamed_params", {}).items():  # files of earlier parameter names
        if isinstance(params, dict) and old in params and new not in params:
            params[new] = params.pop(old)
    for name, value in getattr(cls, "_earlier_defaults", {}).items():  # parameters added since a file was written
        if isinstance(params, dict):
            params.setdefault(name, value)
    try:
        est = cls(**params)
    except (KeyError, TypeError) as err:
        raise ModelFileError(f"{p}: the saved parameters do not fit {cls.__name__} ({err}).") from None
    for k, v in (desc.get("state") or {}).items():
        if not (isinstance(k, str) and k.endswith("_") and not k.startswith("_")):
            raise ModelFileError(f"{p}: {k!r} is not a fitted attribute.")
        setattr(est, k, r.value(v))
    return est
