"""The ``pyengine`` command line. JSON lines in and out; errors exit non-zero with a message."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import PyengineError
from ._commands import COMMANDS

__all__ = ["main", "build_parser"]

_DESCRIPTION = __doc__


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of the ``pyengine`` command line.

    Parameters
    ----------
    command : str, optional
        Build only this command's parser in full (importing its module); the other commands get a
        placeholder that lists them in ``pyengine --help``. Default: every command in full (the
        documentation's reference walks them all).

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser; a parsed command's ``func`` attribute is its module's ``run``.
    """
    parser = argparse.ArgumentParser(prog="pyengine", description=_DESCRIPTION)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        if command is None or name == command:
            module = importlib.import_module(cmd.module)
            module.add_parser(sub).set_defaults(func=module.run)
        else:
            sub.add_parser(name, help=cmd.help)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command an argument list names: its first word that is not an option (the top-level
    parser has no option that takes a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pyengine`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 for an error of the user's input (``pyengine: error: ...``
        on stderr), 2 for a command line argparse refuses or no command.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except PyengineError as err:  # the project's typed errors only (CliError, InvalidValueError, ...)
        print(f"pyengine: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
