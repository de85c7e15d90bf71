"""Chain ("macro") spaces: L layers in a row, one of k choices per layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_rng
from ..errors import InvalidTypeError, InvalidValueError
from ._base import SearchSpace, check_count, invalid_rows

__all__ = ["MacroSpace", "MacroBatch"]


class MacroBatch(NamedTuple):
    """A batch of chain architectures.

    layers : array of shape (n_archs, n_layers), int8; the choice index of each layer
    """

    layers: np.ndarray


class MacroSpace(SearchSpace):
    """A chain of ``n_layers`` layers with one of ``choices`` each.

    Layers are grouped in blocks (``block_starts``: the first layer of each block; a block keeps one
    resolution and width). When ``skip`` names a choice that is the identity, a skipped layer
    inside a block can sit anywhere in it: chains that differ only by where a block's non-first
    skips sit are isomorphic, and the canonical form moves them to the block's end. With
    ``skip_at_block_start=False`` the first layer of a block may not be skipped (ProxylessNAS).

    Defaults are NAS-Bench-Macro (8 layers, Identity / MB3_K3 / MB6_K5, blocks starting at layers
    0, 1, 2 and 5: 6,561 chains in 3,969 classes, exactly the groups of identical records in its
    data). :meth:`proxyless` gives the ProxylessNAS mobile chain used by Wen et al.

    Strings are the choice digits, e.g. ``"02012100"`` (choices joined by ``-`` when k > 10).
    """

    name = "macro"
    Batch = MacroBatch

    def __init__(
        self,
        n_layers: int = 8,
        choices: Sequence[str] = ("identity", "mb3_k3", "mb6_k5"),
        skip: str | None = "identity",
        block_starts: Sequence[int] = (0, 1, 2, 5),
        skip_at_block_start: bool = True,
    ) -> None:
        if not isinstance(n_layers, int) or isinstance(n_layers, bool) or n_layers < 1:
            raise InvalidValueError(
                f"The 'n_layers' parameter of MacroSpace must be a positive int. Got {n_layers!r} instead."
            )
        choices = tuple(choices)
        if len(choices) < 2 or len(set(choices)) != len(choices) or not all(isinstance(c, str) for c in choices):
            raise InvalidValueError(
                f"The 'choices' parameter of MacroSpace must be 2+ distinct names. Got {choices!r} instead."
            )
        if len(choices) > 127:
            raise InvalidValueError(f"MacroSpace supports at most 127 choices. Got {len(choices)}.")
        if skip is not None and skip not in choices:
            raise InvalidValueError(
                f"The 'skip' parameter of MacroSpace must be one of {choices} or None. Got {skip!r}."
            )
        starts = tuple(int(s) for s in block_starts)
        if not starts or starts[0] != 0 or list(starts) != sorted(set(starts)) or starts[-1] >= n_layers:
            raise InvalidValueError(
                f"The 'block_starts' parameter of MacroSpace must be increasing layer indices starting at 0 "
                f"and below n_layers={n_layers}. Got {block_starts!r} instead."
            )
        self.n_layers = n_layers
        self.choices = choices
        self.skip = skip
        self.block_starts = starts
        self.skip_at_block_start = bool(skip_at_block_start)
        self._skip = -1 if skip is None else choices.index(skip)
        self._blocks = [(s, e) for s, e in zip(starts, starts[1:] + (n_layers,), strict=True)]
        self._is_start = np.zeros(n_layers, dtype=bool)
        self._is_start[list(starts)] = True

    @classmethod
    def proxyless(cls) -> MacroSpace:
        """ProxylessNAS mobile (Cai et al.; the chain of Wen et al.): 21 layers in blocks of
        4, 4, 4, 4, 4, 1, each layer an MBConv (kernel 3/5/7, expansion 3/6) or skipped, the first
        layer of a block always present."""
        ops = tuple(f"mb{e}_k{k}" for k in (3, 5, 7) for e in (3, 6)) + ("skip",)
        return cls(21, ops, "skip", (0, 4, 8, 12, 16, 20), skip_at_block_start=False)

    def __repr__(self) -> str:
        return (
            f"MacroSpace(n_layers={self.n_layers}, choices={self.choices!r}, skip={self.skip!r}, "
            f"block_starts={self.block_starts!r}, skip_at_block_start={self.skip_at_block_start})"
        )

    # -- counting -------------------------------------------------------------------------------
    def _allowed(self) -> np.ndarray:
        """(n_layers, k) bool: which choices each layer may take."""
        ok = np.ones((self.n_layers, len(self.choices)), dtype=bool)
        if self._skip >= 0 and not self.skip_at_block_start:
            ok[self._is_start, self._skip] = False
        return ok

    @property
    def size(self) -> int:
        return int(np.prod([int(c) for c in self._allowed().sum(axis=1)], dtype=object))

    def _block_class_weights(self, m: int) -> list[int]:
        """Classes of the m non-first layers of a block, by number j of non-skip layers."""
        k = len(self.choices) - 1
        return [k**j for j in range(m + 1)]

    @property
    def n_classes(self) -> int:
        if self._skip < 0:
            return self.size
        total = 1
        for s, e in self._blocks:
            first = int(self._allowed()[s].sum())
            total *= first * sum(self._block_class_weights(e - s - 1))
        return total

    # -- batches --------------------------------------------------------------------------------
    def check(self, batch: Any) -> MacroBatch:
        if not isinstance(batch, MacroBatch):
            raise InvalidTypeError(f"Macro batches are MacroBatch. Got {type(batch).__name__} instead.")
        a = np.asarray(batch.layers)
        if a.ndim != 2 or a.shape[1] != self.n_layers:
            raise InvalidValueError(
                f"Macro layers must have shape (n_archs, {self.n_layers}). Got shape {a.shape} instead."
            )
        if a.shape[0] == 0:
            raise InvalidValueError("Empty macro batch.")
        if a.dtype.kind not in "iu":
            raise InvalidTypeError(f"Macro layers must be integer choice indices. Got dtype {a.dtype} instead.")
        k = len(self.choices)
        out_of_range = (a < 0) | (a >= k)
        allowed = self._allowed()
        bad_rows = []
        for r in np.flatnonzero(
            out_of_range.any(axis=1) | ~allowed[np.arange(self.n_layers), np.clip(a, 0, k - 1)].all(axis=1)
        ):
            layer = int(np.argmax(out_of_range[r] | ~allowed[np.arange(self.n_layers), np.clip(a[r], 0, k - 1)]))
            v = int(a[r, layer])
            why = (
                f"layer {layer} has choice {v} outside 0..{k - 1}"
                if not 0 <= v < k
                else f"layer {layer} (a block start) may not be {self.skip!r}"
            )
            bad_rows.append((int(r), why))
        if bad_rows:
            raise invalid_rows(self.name, bad_rows)
        return MacroBatch(np.ascontiguousarray(a, dtype=np.int8))

    def canonical(self, batch: Any) -> MacroBatch:
        """Each chain with the skips of every block moved to the block's end."""
        a = np.array(batch.layers, dtype=np.int8, copy=True)
        if self._skip < 0:
            return MacroBatch(a)
        for s, e in self._blocks:
            if e - s <= 1:
                continue
            part = a[:, s + 1 : e]
            order = np.argsort(part == self._skip, axis=1, kind="stable")
            a[:, s + 1 : e] = np.take_along_axis(part, order, axis=1)
        return MacroBatch(a)

    def canonical_keys(self, batch: Any) -> np.ndarray:
        c = np.ascontiguousarray(self.canonical(batch).layers)
        return c.view(f"V{self.n_layers}").reshape(-1)

    def _draw(self, n: int, rng: np.random.Generator) -> MacroBatch:
        allowed = self._allowed()
        counts = allowed.sum(axis=1)
        r = rng.integers(0, counts[None, :], size=(n, self.n_layers))
        # r-th allowed choice of each layer
        table = np.array(
            [
                np.flatnonzero(row).tolist() + [0] * (len(self.choices) - int(c))
                for row, c in zip(allowed, counts, strict=True)
            ]
        )
        return MacroBatch(table[np.arange(self.n_layers)[None, :], r].astype(np.int8))

    def _draw_classes(self, n: int, rng: np.random.Generator) -> MacroBatch:
        if self._skip < 0:
            return self._draw(n, rng)
        out = self._draw(n, rng).layers  # block starts: uniform over their allowed choices
        non_skip = np.array([c for c in range(len(self.choices)) if c != self._skip], dtype=np.int8)
        for s, e in self._blocks:
            m = e - s - 1
            if m == 0:
                continue
            w = np.array(self._block_class_weights(m), dtype=float)
            j = rng.choice(m + 1, size=n, p=w / w.sum())
            ops = non_skip[rng.integers(0, len(non_skip), size=(n, m))]
            out[:, s + 1 : e] = np.where(np.arange(m)[None, :] < j[:, None], ops, self._skip)
        return MacroBatch(out)

    def sample(self, n: int, rng: Any, *, unique: bool = False) -> MacroBatch:
        if unique and self.n_classes <= 1_000_000:  # small: exact draw without replacement
            n = check_count(n, "MacroSpace.sample")
            rng = check_rng(rng, "MacroSpace.sample")
            if n > self.n_classes:
                raise InvalidValueError(f"Cannot draw {n} distinct classes from macro: it has {self.n_classes}.")
            reps = self.unique(self.all())
            return MacroBatch(reps.layers[rng.choice(len(reps.layers), size=n, replace=False)])
        return super().sample(n, rng, unique=unique)

    def _edits(self, batch: MacroBatch) -> tuple[MacroBatch, np.ndarray]:
        a = batch.layers
        b, k, n_layers = len(a), len(self.choices), self.n_layers
        t = n_layers * (k - 1)
        layer = np.arange(t) // (k - 1)
        step = 1 + np.arange(t) % (k - 1)
        cand = np.repeat(a[:, None, :], t, axis=1)
        new = (a[:, layer].astype(np.int64) + step) % k
        cand[:, np.arange(t), layer] = new.astype(np.int8)
        ok = self._allowed()[layer[None, :], new]
        parent = np.repeat(np.arange(b), t)[ok.reshape(-1)]
        return MacroBatch(cand.reshape(-1, n_layers)[ok.reshape(-1)]), parent

    def all(self) -> MacroBatch:
        if self.size > 10_000_000:
            return super().all()
        allowed = self._allowed()
        grids = np.meshgrid(*[np.flatnonzero(row) for row in allowed], indexing="ij")
        return MacroBatch(np.stack([gr.reshape(-1) for gr in grids], axis=1).astype(np.int8))

    # -- formats --------------------------------------------------------------------------------
    def from_strings(self, strings: Sequence[str]) -> MacroBatch:
        k = len(self.choices)
        rows = []
        for i, s in enumerate(strings):
            tokens = s.split("-") if k > 10 else list(s)
            if len(tokens) != self.n_layers:
                raise InvalidValueError(f"Macro string {i} {s!r} must have {self.n_layers} choices. Got {len(tokens)}.")
            for tok in tokens:
                if not tok.isdigit() or int(tok) >= k:
                    raise InvalidValueError(f"Macro string {i} {s!r}: bad choice {tok!r} (choices are 0..{k - 1}).")
            rows.append([int(t) for t in tokens])
        if not rows:
            raise InvalidValueError("Empty list of macro strings.")
        return MacroBatch(np.array(rows, dtype=np.int8))

    def to_strings(self, batch: Any) -> list[str]:
        a = self.check(batch).layers
        sep = "-" if len(self.choices) > 10 else ""
        return [sep.join(str(int(x)) for x in row) for row in a]

    def from_naslib(self, archs: Sequence[Any]) -> MacroBatch:
        raise InvalidValueError("NASLib has no tuple encoding for chain (macro) spaces; use choice strings.")

    def to_naslib(self, batch: Any) -> list[tuple]:
        raise InvalidValueError("NASLib has no tuple encoding for chain (macro) spaces; use choice strings.")

    def _from_record(self, record: dict) -> MacroBatch | None:
        if "layers" in record:
            return MacroBatch(np.asarray([record["layers"]]))
        return None
