"""The package's typed errors, in one place.

Every error that pyengine raises for a problem of the user's input, files or environment derives
from :class:`PyengineError`, so ``except pyengine.errors.PyengineError`` catches them all. Each
also derives from the builtin it has always been (``ValueError`` for bad values and files,
``RuntimeError`` for a computation that failed), so ``except ValueError`` keeps working. A wrong
parameter value or type raises :class:`InvalidValueError` / :class:`InvalidTypeError` (a
``ValueError`` / ``TypeError``) with a message naming the parameter; the native core's refusals
(``std::invalid_argument``, ``std::out_of_range``) arrive as :class:`InvalidValueError` /
:class:`InvalidIndexError`.

The errors are importable from here and from the package that raises them (``pyengine.tables``,
``pyengine.predictors``, ...). This module imports nothing of the package; :func:`require`
imports an optional dependency or raises :class:`MissingDependencyError` naming the extra that
installs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "PyengineError",
    "CheckpointError",
    "CliError",
    "CurveError",
    "DataFileError",
    "DatasetError",
    "DeviceUnavailableError",
    "ExhaustedError",
    "HistoryError",
    "InvalidArchitectureError",
    "InvalidIndexError",
    "InvalidTypeError",
    "InvalidValueError",
    "MissingDependencyError",
    "ModelFileError",
    "NoUncertaintyError",
    "ProxyError",
    "RayUnavailableError",
    "SupernetDivergedError",
    "SupernetError",
    "TrainMemoryError",
    "require",
]


class PyengineError(Exception):
    """Base of pyengine's typed errors."""


class InvalidValueError(PyengineError, ValueError):
    """A parameter or input with a value pyengine refuses; the message names it and what it got."""


class InvalidTypeError(PyengineError, TypeError):
    """A parameter or input of a type pyengine refuses; the message names it and what it got."""


class InvalidIndexError(PyengineError, IndexError):
    """An index or size outside what the native core accepts (a vertex count, a cell index)."""


class CliError(PyengineError):
    """A command line error reported as 'pyengine: error: ...' with exit status 1."""


class DataFileError(PyengineError, ValueError):
    """A data file is missing, truncated or not in the expected format."""


class InvalidArchitectureError(PyengineError, ValueError):
    """Some architectures of a batch are invalid; ``rows`` lists their positions."""

    def __init__(self, message: str, rows: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.rows = tuple(int(r) for r in rows)


class ModelFileError(PyengineError, ValueError):
    """A model file that cannot be read: not a pyengine model, truncated, from a newer format
    version, or a header that does not match its arrays."""


class NoUncertaintyError(PyengineError, ValueError):
    """``predict(X, return_std=True)`` on a model that has no spread to give (an ensemble of one
    member); the message says how to fit one that has."""


class CurveError(PyengineError, ValueError):
    """Curves that cannot serve a request: shorter than the fidelity, NaN epochs within it, a curve
    a predictor needs and the input lacks."""


class ProxyError(PyengineError, RuntimeError):
    """A proxy produced a value that is neither a number nor a documented degenerate value.
    ``partial`` holds the scores computed before it (name -> array, NaN where not computed)."""

    def __init__(self, message: str, partial: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.partial = partial


class ExhaustedError(PyengineError, ValueError):
    """No architecture is left to propose: every one of the pool (or space) was already proposed."""


class HistoryError(PyengineError, ValueError):
    """A history file is malformed, from a newer format, or does not match the run resuming it."""


class CheckpointError(PyengineError, ValueError):
    """A checkpoint that cannot be used: unreadable, from another job, or not matching its output."""


class DatasetError(PyengineError, ValueError):
    """A dataset the trainer cannot use (shapes, NaN pixels, labels, splits, unreadable files)."""


class TrainMemoryError(PyengineError, ValueError):
    """The requested group of architectures would not fit in memory."""


class SupernetError(PyengineError, ValueError):
    """A supernet cannot do what was asked (untrained, other space, dataset shape, bad settings)."""


class SupernetDivergedError(SupernetError):
    """Supernet training produced a NaN or infinite loss. Training stopped; the checkpoints taken
    before stay on the supernet (``checkpoints_``) and in its checkpoint folder.

    Attributes: ``epoch`` (1-based, the epoch whose loss went non-finite), ``checkpoint_epochs``.
    """

    def __init__(self, message: str, epoch: int, checkpoint_epochs: list[int]) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.checkpoint_epochs = checkpoint_epochs


class RayUnavailableError(PyengineError, ValueError):
    """Ray is not installed, or the cluster address does not answer."""


class DeviceUnavailableError(PyengineError, RuntimeError):
    """A computation was asked to run on a device this machine or installation cannot use (no CUDA
    device, no CuPy, no backend for that device); the message names what is missing."""


class MissingDependencyError(PyengineError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, *, extra: str, needed_by: str) -> Any:
    """Import and return ``module``, or raise :class:`MissingDependencyError` saying that
    ``needed_by`` needs it and which extra of the distribution installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"{needed_by} needs the {module} package, which is not installed. "
            f"Install it with: pip install 'pyengine-nas[{extra}]'"
        ) from err
