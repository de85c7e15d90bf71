"""Files written atomically: the one way the package replaces a result file.

A reader (or a run resumed after a crash) sees the old file or the new one, never a half-written
one. This module imports nothing of the package.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from typing import IO, Any

from .errors import InvalidValueError

__all__ = ["atomic_write", "write_records", "json_record"]


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, fsync: bool = False, encoding: str = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; when the block ends without an error,
    replace ``path`` with it (``os.replace``), else remove it and re-raise.

    Parameters
    ----------
    path : str or path-like
        The file to write, exactly this path.
    mode : {"w", "wb"}
        Text (``encoding``) or binary.
    fsync : bool
        Flush the data to disk before the replace (checkpoints that must survive a power cut).
    """
    if mode not in ("w", "wb"):
        raise InvalidValueError(f"The 'mode' parameter of atomic_write must be 'w' or 'wb'. Got {mode!r} instead.")
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"  # beside it: same file system
    try:
        with open(tmp, mode, encoding=None if mode == "wb" else encoding) as fh:
            yield fh
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_records(records: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write records as a JSON list, atomically (a crash never leaves a half-written file)."""
    with atomic_write(path) as fh:
        json.dump(records, fh, indent=1)


def json_record(line: str, where: str) -> dict[str, Any]:
    """The JSON object on one line of a JSON-lines file; ``InvalidValueError`` naming ``where``
    (e.g. "FILE, line 3") for invalid JSON or a value that is not an object."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        raise InvalidValueError(f"{where}: invalid JSON ({err.msg} at column {err.colno}).") from None
    if not isinstance(rec, dict):
        raise InvalidValueError(f"{where}: expected an object. Got {type(rec).__name__}.")
    return rec
