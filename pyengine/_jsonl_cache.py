"""Results cached as JSON lines under one folder per machine (``$PYENGINE_CACHE_DIR`` or
``~/.cache/pyengine``): appended and fsynced a group at a time, so a killed run keeps every group
it finished; a partial last line (killed mid-write) is cut off on the next read."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from typing import Any

from .errors import InvalidValueError

__all__ = ["default_cache_dir", "read_records", "append_records"]

log = logging.getLogger(__name__)


def default_cache_dir() -> str:
    """``$PYENGINE_CACHE_DIR`` or ``~/.cache/pyengine`` (the compilation cache's folder too)."""
    return os.environ.get("PYENGINE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "pyengine")


def read_records(path: str, what: str) -> list[dict[str, Any]]:
    """The records of a cache file (none when it does not exist). A partial last line is cut off;
    any other unreadable line raises ValueError naming the file, the line and ``what`` it caches."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as fh:
        raw = fh.read()
    good = raw.rfind(b"\n") + 1
    if good < len(raw):
        log.warning("Cutting a partial last line off the %s cache %s.", what, path)
        with open(path, "r+b") as fh:
            fh.truncate(good)
    out = []
    for n, line in enumerate(raw[:good].splitlines(), 1):
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if not isinstance(rec, dict):
            raise InvalidValueError(f"The {what} cache {path} is corrupt at line {n}; delete it to compute it again.")
        out.append(rec)
    return out


def append_records(path: str, records: Iterable[dict[str, Any]]) -> None:
    """Append records to a cache file and fsync it."""
    with open(path, "a") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
