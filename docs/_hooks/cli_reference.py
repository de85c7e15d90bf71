"""MkDocs hook: the ``<!-- cli-reference -->`` marker of cli.md becomes the ``--help`` of every
command and subcommand, formatted from ``pyengine.cli.build_parser()`` at build time, so the
reference cannot drift from the parser."""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- cli-reference -->"


def _commands(parser: argparse.ArgumentParser, prefix: str):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix} {name}")


def reference() -> str:
    from pyengine.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal's width
    parts = []
    for name, parser in _commands(build_parser(), "pyengine"):
        parts.append(f"### `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, reference())
    return markdown
