"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one file run in order in one namespace, as a reader pasting them would, in a fresh
working directory, with the benchmark data found through ``$PYENGINE_DATA``. A block preceded by
``<!-- no-run: REASON -->`` (blank lines between allowed) is only compiled, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Files whose blocks take tens of seconds or minutes: predictors.md scores all 423,624 NB101 cells
# and 3M sampled ones, search.md runs a 150-query BANANAS search, training.md trains networks,
# proxies.md and README.md compile proxy programs and fit predictors
SLOW = {"README.md", "predictors.md", "search.md", "training.md", "proxies.md"}

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_NO_RUN = re.compile(r"<!--\s*no-run:((?:(?!-->).)*)-->\s*\Z", re.S)


def python_blocks(path: Path) -> list[tuple[int, str, str | None]]:
    """(line of the opening fence, code, no-run reason or None) for each ```python block."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        skip = _NO_RUN.search(text[: m.start()])
        out.append((text.count("\n", 0, m.start()) + 1, m.group(1), skip.group(1).strip() if skip else None))
    return out


def _params(files: list[Path]) -> list:
    return [
        pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p.name in SLOW else [])
        for p in files
        if python_blocks(p)
    ]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in DOCS])
def test_blocks_compile(path):
    for line, code, reason in python_blocks(path):
        if reason is not None and not reason:
            pytest.fail(f"{_where(path, line)}: a no-run block must say why (<!-- no-run: REASON -->)")
        compile(code, _where(path, line), "exec")


@pytest.mark.parametrize("path", _params(DOCS))
def test_blocks_run(path, data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYENGINE_DATA", str(data_dir))
    namespace: dict = {"__name__": "__main__"}
    for line, code, reason in python_blocks(path):
        if reason is not None:
            continue
        try:
            exec(compile(code, _where(path, line), "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"the block at {_where(path, line)} fails: {type(err).__name__}: {err}") from err


def test_no_run_marker_is_read(tmp_path):
    md = tmp_path / "x.md"
    md.write_text(
        "```python\na = 1\n```\n\n<!-- no-run: needs a GPU -->\n\n```python\nb = 2\n```\n\ntext\n\n"
        "<!-- a comment -->\n```python\nc = 3\n```\n```bash\nls\n```\n"
    )
    assert python_blocks(md) == [(1, "a = 1\n", None), (7, "b = 2\n", "needs a GPU"), (14, "c = 3\n", None)]
