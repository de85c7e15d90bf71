"""Helpers the commands share: argparse types, input and output streams, JSON-lines records,
comma-separated lists, ``NAME.PARAM=VALUE`` settings, tables by name and record files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

from .._io import json_record
from .._options import int_at_least, int_list, positive, threads
from ..errors import CliError

__all__ = [
    "CHUNK",
    "int_at_least",
    "int_list",
    "load_table",
    "open_in",
    "open_out",
    "positive",
    "predictor_params",
    "proxy_names",
    "read_records",
    "record_sink",
    "threads",
]

CHUNK = 50_000  # records per chunk read from a JSON-lines input


def open_in(path: str) -> IO[str]:
    """``path`` opened for reading, or stdin for '-'."""
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8")
    except OSError as err:
        raise CliError(f"cannot read {path}: {err.strerror}") from None


def open_out(path: str | None) -> IO[str]:
    """``path`` opened for writing, or stdout for None or '-'."""
    if path is None or path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as err:
        raise CliError(f"cannot write {path}: {err.strerror}") from None


def read_records(stream: IO[str], source: str, what: str = "architectures") -> Iterator[list[tuple[int, dict]]]:
    """Yield chunks of (line number, record dict) from a JSONL stream."""
    chunk: list[tuple[int, dict]] = []
    seen = 0
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        chunk.append((lineno, json_record(line, f"{source}, line {lineno}")))
        seen += 1
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if seen == 0:
        raise CliError(f"{source} holds no {what} (empty input)")


def predictor_params(items: list[str]) -> dict[str, dict[str, Any]]:
    """``NAME.PARAM=VALUE`` settings (VALUE as JSON, else a bare string) as {name: {param: value}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, param = key.partition(".")
        if not sep or not dot or not name or not param:
            raise CliError(f"--set takes NAME.PARAM=VALUE. Got {item!r}.")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value  # a bare string
        out.setdefault(name.strip(), {})[param.strip()] = parsed
    return out


def record_sink(path: str | None) -> tuple[list[dict[str, Any]], Callable[[dict[str, Any]], None]]:
    """A list of records and a callback that appends one and, with a path, rewrites the JSON file,
    so every finished record is on disk and a later failure loses nothing."""
    from .._io import write_records

    records: list[dict[str, Any]] = []

    def keep(rec: dict[str, Any]) -> None:
        records.append(rec)
        if path:
            write_records(records, path)

    return records, keep


def load_table(name: str, space_name: Any = None) -> Any:
    """A table by registered name or path; with a space, checked to hold that space's architectures."""
    from ..spaces import get_space
    from ..tables import DataFileError
    from ..tables import load_table as _load_table

    space = get_space(space_name) if space_name else None
    try:
        table = _load_table(name, space=space)
    except DataFileError as err:
        raise CliError(str(err)) from None
    if space is not None and table.space != space:
        raise CliError(f"table {table.name} holds {table.space.name} architectures, not {space.name}")
    return table


def proxy_names(text: str) -> list[str]:
    """The registered names of a comma-separated list of proxies ('all': every proxy)."""
    from ..proxies import PROXIES

    names = [p.strip() for p in text.split(",") if p.strip()]
    if names == ["all"]:
        return PROXIES.names()
    if not names:
        raise CliError("--proxies names no proxy")
    return [PROXIES.canonical_name(n) for n in names]
