"""The one place that imports the compiled extension ``pyengine._core``.

A source tree imported without its own build (a script run from the repository root, where the
working directory's ``pyengine/`` shadows the installed package) borrows the installed
distribution's extension, but only when that distribution has the source's version and its
``_core.pyi`` (the extension's interface) is the source's; otherwise the import error says how to
install the source in place.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

from .errors import InvalidTypeError, InvalidValueError

DISTRIBUTION = "pyengine-nas"  # the name on the package index; the import name is pyengine

_HERE = Path(__file__).resolve().parent
logger = logging.getLogger(__name__)


def _source_version(pyproject: Path) -> str | None:
    """``[project] version`` of a pyproject.toml, None where it has none."""
    section = None
    for line in pyproject.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("["):
            section = s
        elif section == "[project]" and s.partition("=")[0].strip() == "version":
            return s.partition("=")[2].strip().strip("\"'")
    return None


def _installed_extension() -> tuple[Path | None, str]:
    """The installed distribution's extension file where it can stand in for this source tree's
    missing build, else None and the reason it cannot."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None, f"{DISTRIBUTION} is not installed"
    want = _source_version(_HERE.parent / "pyproject.toml")
    if dist.version != want:
        return None, f"the installed {DISTRIBUTION} is version {dist.version}, this source {want}"
    files = {f.name: Path(str(dist.locate_file(f))) for f in dist.files or () if f.parts[:-1] == ("pyengine",)}
    names = [f"_core{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    ext = next((files[n] for n in names if n in files and files[n].is_file()), None)
    if ext is None or ext.resolve().parent == _HERE:
        return None, f"the installed {DISTRIBUTION} {dist.version} has no extension for this Python"
    stub, own = files.get("_core.pyi"), _HERE / "_core.pyi"
    if stub is None or not stub.is_file() or not own.is_file() or stub.read_bytes() != own.read_bytes():
        return None, f"the installed {DISTRIBUTION} {dist.version} was built from other sources (_core.pyi differs)"
    return ext, ""


def _load_core() -> ModuleType:
    try:
        from . import _core
    except ImportError as err:  # pragma: no cover - depends on the install
        built = any((_HERE / f"_core{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)
        if built or not (_HERE.parent / "pyproject.toml").is_file():
            raise ImportError(
                "pyengine's native extension pyengine._core is not built or does not match this Python. "
                "Install the package with a C++17 compiler available: `pip install .` from the source tree "
                f"(original error: {err})"
            ) from err
        ext, why = _installed_extension()
        if ext is None:
            raise ImportError(
                f"pyengine's native extension pyengine._core is not built in the source tree {_HERE.parent}, "
                f"which this import found on the path (as the working directory, for instance), and the "
                f"installed package cannot stand in for it: {why}. Install the source in place with "
                "`pip install -e .` (needs a C++17 compiler), or run from another folder so that the "
                f"installed package is imported (no pyengine/_core extension for this Python in {_HERE})"
            ) from err
        name = f"{__package__}._core"
        spec = importlib.util.spec_from_file_location(name, ext)
        if spec is None or spec.loader is None:
            raise ImportError(f"pyengine: no loader for the installed extension {ext} (original error: {err})") from err
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        sys.modules[__package__]._core = module
        logger.info("pyengine._core is not built in %s: using the installed %s's %s", _HERE.parent, DISTRIBUTION, ext)
        return module
    return _core


core = _load_core()

__all__ = ["DISTRIBUTION", "core", "resolve_threads"]


def resolve_threads(threads: int | None) -> int:
    """Validate a ``threads`` argument: None or 0 means every core, otherwise a positive int."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise InvalidTypeError(f"The 'threads' parameter must be an int or None. Got {type(threads).__name__} instead.")
    if threads < 0:
        raise InvalidValueError(f"The 'threads' parameter must be a non-negative int. Got {threads} instead.")
    return threads
