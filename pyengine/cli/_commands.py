"""The command table of ``pyengine``: each command's module and the line ``pyengine --help`` lists
for it. A command's module is imported only when the command runs or its help is built; each
exposes ``add_parser(subparsers) -> ArgumentParser`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
from typing import Any, NamedTuple

__all__ = ["COMMANDS", "Command", "add_command_parser"]


class Command(NamedTuple):
    """A command of the table: the module that builds its parser and runs it, and its help line."""

    module: str
    help: str


# in the order `pyengine --help` lists them
COMMANDS: dict[str, Command] = {
    "hash": Command("pyengine.cli.hash", "validate, prune and hash NB101 cells from JSON lines"),
    "enumerate": Command("pyengine.cli.enumerate", "enumerate every unique valid cell of a space"),
    "unique": Command("pyengine.cli.unique", "isomorphism classes of a space"),
    "bench": Command("pyengine.cli.bench", "microbenchmarks beside the official algorithms"),
    "proxies": Command(
        "pyengine.cli.proxies", "zero-cost proxies: validate against NASLib's records, or score architectures"
    ),
    "oneshot": Command("pyengine.cli.oneshot", "one-shot (weight-sharing) estimators against stand-alone training"),
    "fit": Command("pyengine.cli.fit", "fit a predictor on a table sample or a JSONL of architectures and save it"),
    "score": Command("pyengine.cli.score", "score a whole space or a JSONL with a saved model or a proxy, resumable"),
    "demo": Command("pyengine.cli.demo", "the Neural Predictor workflow on real training (digits; no downloads)"),
    "evaluate": Command("pyengine.cli.evaluate", "evaluate predictors on a benchmark table"),
    "search": Command("pyengine.cli.search", "simulated NAS: searchers over many seeds on a benchmark table"),
    "encode": Command("pyengine.cli.encode", "encode architectures from JSON lines, one {'encoding': [...]} per line"),
}


def add_command_parser(subparsers: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """The parser of command ``name`` under ``subparsers``, with the table's help line."""
    return subparsers.add_parser(name, help=COMMANDS[name].help, **kwargs)
