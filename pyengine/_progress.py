"""Reporting finished records of a long job: each goes to the caller's callback, and a progress
bar (tqdm) advances where one is shown."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["reporting"]


@contextlib.contextmanager
def reporting(
    total: int,
    desc: str,
    unit: str,
    *,
    progress: bool,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    leave: bool = True,
) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A function that hands each finished record to ``on_record`` and advances a progress bar
    of ``total`` steps (shown with ``progress``); the bar is closed however the block ends."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit, leave=leave)

    def report(rec: dict[str, Any]) -> None:
        if on_record is not None:
            on_record(rec)
        if bar is not None:
            bar.update(1)

    try:
        yield report
    finally:
        if bar is not None:
            bar.close()
