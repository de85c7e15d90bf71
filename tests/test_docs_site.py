"""The documentation site: ``mkdocs build --strict`` passes (every page in the navigation, every
link and anchor resolves, every API docstring parses), the command line reference holds every
command the parser has, the API reference every public name, and README.md stays short with
links that resolve."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _commands(parser):
    """Every command and subcommand, as the site's hook walks them (docs/_hooks/cli_reference.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cli_reference", REPO / "docs" / "_hooks" / "cli_reference.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return [name for name, _ in hook._commands(parser, "pyengine")][1:]  # without the bare `pyengine`


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # run outside the source tree, so the hooks import the installed package
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"), "-d", str(out)],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stderr[-4000:]}"
    return out


def test_cli_reference_holds_every_command(site):
    from pyengine.cli import build_parser

    html = (site / "cli" / "index.html").read_text(encoding="utf-8")
    commands = list(_commands(build_parser()))
    assert len(commands) > 10
    missing = [c for c in commands if f"usage: {c} " not in html]
    assert not missing, f"commands without a help section in cli.md: {missing}"


def test_api_reference_holds_every_public_name(site):
    import pyengine.predictors
    import pyengine.spaces

    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    for mod in (pyengine.predictors, pyengine.spaces):
        missing = [n for n in mod.__all__ if f'id="{mod.__name__}.{n}"' not in html]
        assert not missing, f"{mod.__name__} names missing from the API reference: {missing}"


def test_every_page_is_in_the_navigation():
    nav = set(re.findall(r":\s*([\w/]+\.md)\s*$", (REPO / "mkdocs.yml").read_text(encoding="utf-8"), re.M))
    pages = {p.name for p in (REPO / "docs").glob("*.md")}
    assert pages == nav, f"pages not in the nav: {pages - nav}; nav entries without a page: {nav - pages}"


def test_readme_is_short_and_its_links_resolve():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200, "README.md is an overview; guides and measurements belong in docs/"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert len(local) >= 10
    broken = [link for link in local if not (REPO / link).exists()]
    assert not broken, f"README.md links to missing files: {broken}"
