"""The registry entry of a bench suite: its runner and the command line ``pyengine bench NAME``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["BenchSuite"]


class BenchSuite(NamedTuple):
    """A benchmark suite: the runner, and its command line ``pyengine bench NAME``.

    Calling the suite runs it: ``BENCHES.create("graph", repeats=1)`` is ``run_graph_bench(repeats=1)``.

    Attributes
    ----------
    run : callable
        The runner. Keyword arguments only, among them ``json_out`` (write the result there) and
        ``repeats`` (timed repeats per workload); it prints a table and returns the result
        ``{'machine': ..., 'records': [...]}``.
    summary : str
        The suite's line in ``pyengine bench --help``.
    description : str
        What ``pyengine bench NAME --help`` says the suite measures and against which baseline.
    add_arguments : callable of (argparse.ArgumentParser) -> None
        Adds the suite's own options (``--json`` and ``--repeats`` are every suite's).
    from_args : callable of (argparse.Namespace) -> dict
        The runner's keyword arguments (beyond ``json_out`` and ``repeats``) from the parsed
        options; raises ``CliError`` for an option value the parser let through.
    """

    run: Callable[..., dict[str, Any]]
    summary: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    from_args: Callable[[argparse.Namespace], dict[str, Any]]

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        """Run the suite: ``self.run(**kwargs)``."""
        return self.run(**kwargs)
