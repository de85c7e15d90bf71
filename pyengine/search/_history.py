"""The record of a search: every query in order, kept in memory and optionally appended to a JSON
Lines file as each one finishes, so a crash never loses what was evaluated and a run resumes."""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._io import atomic_write
from ..errors import HistoryError

__all__ = ["History", "HistoryError", "HISTORY_FORMAT", "HISTORY_VERSION"]

log = logging.getLogger(__name__)

HISTORY_FORMAT = "pyengine-search-history"
HISTORY_VERSION = 1


def _num(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


class History:
    """Queries of one search in order.

    Each entry is a dict: ``query`` (1-based), ``arch`` (the space's string form), ``value`` (the
    searched metric, None when the evaluation failed), ``test`` (reported metric or None),
    ``error`` (why it failed, or None) and ``seconds``.

    File format (JSON Lines): a header ``{"format": "pyengine-search-history", "version": 1,
    "space": ..., "searcher": ..., "params": {...}}`` then one entry per line, appended and
    flushed as each query finishes.
    """

    def __init__(self, space: str, searcher: str = "", params: dict | None = None) -> None:
        self.space = str(space)
        self.searcher = str(searcher)
        self.params = dict(params or {})
        self.entries: list[dict] = []
        self.stop_reason: str | None = None
        self._file: IO[str] | None = None
        self.path: Path | None = None

    # -- recording ---------------------------------------------------------------------------------
    def header(self) -> dict:
        return {
            "format": HISTORY_FORMAT,
            "version": HISTORY_VERSION,
            "space": self.space,
            "searcher": self.searcher,
            "params": self.params,
        }

    def attach(self, path: str | os.PathLike[str], existing: list[dict] | None = None) -> None:
        """Append every later entry to ``path``, written now (atomically) with the header and
        ``existing`` entries (default: the entries so far)."""
        self.close()
        self.path = Path(path)
        with atomic_write(self.path) as f:
            for line in [self.header(), *(self.entries if existing is None else existing)]:
                f.write(json.dumps(line) + "\n")
        self._file = open(self.path, "a")

    def replay(self, entry: dict) -> None:
        """Take an entry of an earlier run that the file already holds (not written again)."""
        self.entries.append(dict(entry, query=len(self.entries) + 1))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append(self, arch: str, value: float, test: float | None, error: str | None, seconds: float) -> dict:
        entry = {
            "query": len(self.entries) + 1,
            "arch": arch,
            "value": _num(value),
            "test": None if test is None else _num(test),
            "error": error,
            "seconds": float(seconds) if math.isfinite(float(seconds)) else None,
        }
        self.entries.append(entry)
        if self._file is not None:
            self._file.write(json.dumps(entry) + "\n")
            self._file.flush()
        return entry

    # -- views -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"History(space={self.space!r}, searcher={self.searcher!r}, queries={len(self)})"

    @property
    def archs(self) -> list[str]:
        return [e["arch"] for e in self.entries]

    @property
    def values(self) -> np.ndarray:
        """Searched metric per query, shape (n_queries,), NaN where the evaluation failed."""
        return np.array([np.nan if e["value"] is None else e["value"] for e in self.entries], dtype=np.float64)

    @property
    def tests(self) -> np.ndarray:
        """Reported test metric per query, shape (n_queries,), NaN where absent."""
        return np.array([np.nan if e["test"] is None else e["test"] for e in self.entries], dtype=np.float64)

    @property
    def failures(self) -> list[dict]:
        return [e for e in self.entries if e["error"] is not None]

    def best_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        """(best value after each query, test metric of that best architecture): two arrays of
        shape (n_queries,); NaN until the first successful query."""
        v = self.values
        t = self.tests
        best_v = np.full(len(v), np.nan)
        best_t = np.full(len(v), np.nan)
        bv, bt = -math.inf, math.nan
        for i in range(len(v)):
            if math.isfinite(v[i]) and v[i] > bv:
                bv, bt = float(v[i]), float(t[i])
            if bv > -math.inf:
                best_v[i], best_t[i] = bv, bt
        return best_v, best_t

    def best(self) -> dict | None:
        """The entry with the best value (the first of ties), or None when every query failed."""
        ok = [e for e in self.entries if e["value"] is not None]
        return max(ok, key=lambda e: e["value"]) if ok else None

    # -- files -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the header and every entry to ``path`` (replacing it)."""
        with atomic_write(path) as f:
            for line in [self.header(), *self.entries]:
                f.write(json.dumps(line) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        """A history from a file written by :meth:`save` or by a run. A last line cut short by a
        crash is dropped (that query is evaluated again on resume); any other bad line raises
        :class:`HistoryError` naming it."""
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as err:
            raise HistoryError(f"Cannot read search history {p}: {err.strerror}.") from None
        lines = text.split("\n")
        complete = text.endswith("\n")
        lines = [ln for ln in lines if ln.strip()]
        if not lines:
            raise HistoryError(f"Search history {p} is empty.")
        try:
            head = json.loads(lines[0])
        except json.JSONDecodeError:
            raise HistoryError(f"Search history {p}: line 1 is not a JSON header.") from None
        if not isinstance(head, dict) or head.get("format") != HISTORY_FORMAT:
            raise HistoryError(f"{p} is not a pyengine search history (no '{HISTORY_FORMAT}' header).")
        if not isinstance(head.get("version"), int) or head["version"] > HISTORY_VERSION:
            raise HistoryError(
                f"Search history {p} has format version {head.get('version')!r}; this pyengine reads "
                f"up to {HISTORY_VERSION}."
            )
        hist = cls(head.get("space", ""), head.get("searcher", ""), head.get("params") or {})
        for no, line in enumerate(lines[1:], start=2):
            try:
                e = json.loads(line)
                entry = {
                    "query": int(e["query"]),
                    "arch": str(e["arch"]),
                    "value": _num(e["value"]) if e["value"] is not None else None,
                    "test": _num(e["test"]) if e.get("test") is not None else None,
                    "error": None if e.get("error") is None else str(e["error"]),
                    "seconds": e.get("seconds"),
                }
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                if no == len(lines) and not complete:
                    log.warning("%s: dropping a last line cut short; that query will be evaluated again", p)
                    break
                raise HistoryError(f"Search history {p}: line {no} is not a valid entry.") from None
            if entry["query"] != len(hist.entries) + 1:
                raise HistoryError(
                    f"Search history {p}: line {no} holds query {entry['query']}, expected {len(hist.entries) + 1}."
                )
            hist.entries.append(entry)
        return hist
