"""Parsers of command-line option values, shared by the CLI's commands (``pyengine.cli``) and the
bench suites' options (``pyengine.bench``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .errors import CliError

__all__ = ["int_at_least", "int_list", "positive", "threads"]


def int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """argparse type: an int >= minimum, with a message naming the option's meaning."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer. Got {value!r}.") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}. Got {n}.")
        return n

    return parse


positive = int_at_least(1, "this option")
threads = int_at_least(0, "threads (0 = all cores)")


def int_list(text: str, what: str, *, positive: bool = False) -> list[int]:
    """The integers of a comma-separated option value (all >= 1 with ``positive``); CliError naming
    the option otherwise."""
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CliError(f"{what} must be comma-separated integers. Got {text!r}.") from None
    if not values:
        raise CliError(f"{what} must list at least one integer.")
    if positive and min(values) < 1:
        raise CliError(f"{what} must be positive integers. Got {text!r}.")
    return values
