"""Figures without pyplot: no global backend switch (a user's notebook or GUI backend stays as it
was), no figure left registered, and the file written atomically.

Matplotlib is imported only when a figure is made.
"""

from __future__ import annotations

import os
from typing import Any

from ._io import atomic_write

__all__ = ["subplots", "save", "colormap"]


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], dpi: int = 100, **kw: Any) -> Any:
    """``(figure, axes)`` as ``pyplot.subplots`` gives them, on a figure pyplot does not know."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots(nrows, ncols, **kw)


def save(fig: Any, path: str | os.PathLike[str], **savefig_kw: Any) -> None:
    """Lay out ``fig`` and write it to exactly ``path`` (format from its suffix, PNG without one)."""
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=fmt, **savefig_kw)


def colormap(name: str) -> Any:
    """A registered matplotlib colormap by name."""
    import matplotlib

    return matplotlib.colormaps[name]
