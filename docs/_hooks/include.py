"""MkDocs hook: ``<!-- include: PATH -->`` (PATH relative to the repository root) is replaced by
that file's text, so a page can show a file that lives outside ``docs/`` (CHANGELOG.md)."""

from __future__ import annotations

import re
from pathlib import Path

_INCLUDE = re.compile(r"<!--\s*include:\s*(\S+)\s*-->")
ROOT = Path(__file__).resolve().parents[2]


def on_page_markdown(markdown: str, page, config, files) -> str:
    return _INCLUDE.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), markdown)
