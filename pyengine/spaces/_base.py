"""What every search space shares: batches as NamedTuples of arrays, sampling, mutation and
one-edit neighbourhoods built from each space's own candidate edits and canonical keys."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .._batch import batch_len, concat, first_unique, take
from .._validation import check_positive_int, check_rng
from ..errors import InvalidArchitectureError, InvalidTypeError, InvalidValueError

__all__ = ["InvalidArchitectureError", "SearchSpace", "check_count", "invalid_rows"]


def invalid_rows(space: str, bad: Sequence[tuple[int, str]]) -> InvalidArchitectureError:
    """One error for all invalid rows of a batch: 'row r: reason' for the first ten."""
    shown = "; ".join(f"row {r}: {why}" for r, why in bad[:10])
    more = f"; and {len(bad) - 10} more" if len(bad) > 10 else ""
    return InvalidArchitectureError(
        f"{len(bad)} invalid {space} architecture(s) in the batch ({shown}{more}).", [r for r, _ in bad]
    )


def check_count(n: Any, owner: str) -> int:
    return check_positive_int(n, "n", owner)


class SearchSpace(abc.ABC):
    """An immutable search space over batches.

    Subclasses define the batch type (``Batch``, a NamedTuple whose fields are arrays with a leading
    axis of length n_archs), canonical keys (equal exactly for isomorphic architectures), a draw
    over labellings, a draw uniform over isomorphism classes, and the valid one-edit candidates of
    each architecture. Everything else here is shared.
    """

    name: ClassVar[str]
    Batch: ClassVar[type[NamedTuple]]  # type: ignore[valid-type]

    # -- what each space defines -------------------------------------------------------------
    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Number of architectures in the space as its benchmark counts them."""

    @property
    def n_classes(self) -> int | None:
        """Number of isomorphism classes where it is known exactly, else None."""
        return None

    @abc.abstractmethod
    def check(self, batch: Any) -> Any:
        """Validated batch of this space's type; InvalidArchitectureError lists bad rows."""

    @abc.abstractmethod
    def canonical_keys(self, batch: Any) -> np.ndarray:
        """Key of each architecture's isomorphism class: 1-D array of length n_archs."""

    @abc.abstractmethod
    def _draw(self, n: int, rng: np.random.Generator) -> Any:
        """n architectures drawn the way the space's benchmark draws them (over labellings)."""

    @abc.abstractmethod
    def _draw_classes(self, n: int, rng: np.random.Generator) -> Any:
        """n architectures with isomorphism classes drawn uniformly (with repeats)."""

    @abc.abstractmethod
    def _edits(self, batch: Any) -> tuple[Any, np.ndarray]:
        """Every valid one-edit neighbour of every architecture, and the row it came from."""

    @abc.abstractmethod
    def from_strings(self, strings: Sequence[str]) -> Any:
        """Batch from the space's string form."""

    @abc.abstractmethod
    def to_strings(self, batch: Any) -> list[str]:
        """The space's string form of each architecture."""

    @abc.abstractmethod
    def from_naslib(self, archs: Sequence[Any]) -> Any:
        """Batch from NASLib's tuple encoding (tuples or their string forms)."""

    @abc.abstractmethod
    def to_naslib(self, batch: Any) -> list[tuple]:
        """NASLib's tuple encoding of each architecture."""

    def _from_record(self, record: dict) -> Any | None:
        """Batch of one from a record with fields other than 'arch'/'naslib' (None if none apply)."""
        return None

    # -- shared --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def __len__(self) -> int:
        return self.size

    def sample(self, n: int, rng: Any, *, unique: bool = False) -> Any:
        """Draw ``n`` architectures.

        Parameters
        ----------
        n : int, at least 1
        rng : numpy.random.Generator or int seed
        unique : bool, default False
            False draws the way the benchmark draws (uniform over labellings, so classes with many
            labellings come up more often). True draws distinct isomorphism classes, each class
            equally likely (the de-isomorphic sampling of Ning et al.); ``n`` may not exceed the
            number of classes.
        """
        owner = f"{type(self).__name__}.sample"
        n = check_count(n, owner)
        rng = check_rng(rng, owner)
        if not unique:
            return self._draw(n, rng)
        if self.n_classes is not None and n > self.n_classes:
            raise InvalidValueError(f"Cannot draw {n} distinct classes from {self.name}: it has {self.n_classes}.")
        parts: list[Any] = []
        keys = np.empty(0)
        have = 0
        while have < n:
            draw = self._draw_classes(2 * (n - have) + 16, rng)
            if parts:
                draw = concat([concat(parts), draw])
            keys = self.canonical_keys(draw)
            keep = first_unique(keys)
            parts = [take(draw, keep)]
            have = len(keep)
        return take(parts[0], np.arange(n))

    def mutate(self, batch: Any, rng: Any) -> Any:
        """One random edit of each architecture, never an isomorph of its parent.

        Each child is drawn uniformly among the parent's valid one-edit neighbours that are not
        isomorphic to it. Returns a batch of the same length.
        """
        rng = check_rng(rng, f"{type(self).__name__}.mutate")
        batch = self.check(batch)
        n = batch_len(batch)
        if n == 0:
            raise InvalidValueError(f"Cannot mutate an empty {self.name} batch.")
        cand, parent = self._edits(batch)
        differs = self.canonical_keys(cand) != self.canonical_keys(batch)[parent]
        score = rng.random(len(parent))
        score[~differs] = -1.0
        order = np.lexsort((score, parent))
        last = np.flatnonzero(np.r_[parent[order][1:] != parent[order][:-1], True])
        chosen = order[last]
        found = np.zeros(n, dtype=bool)
        found[parent[chosen]] = score[chosen] >= 0
        if not found.all():
            raise invalid_rows(
                self.name, [(int(r), "no non-isomorphic one-edit neighbour") for r in np.flatnonzero(~found)]
            )
        return take(cand, chosen)

    def neighbors(self, arch: Any) -> Any:
        """All one-edit neighbours of one architecture, one per isomorphism class, excluding the
        architecture's own class; in the order the edits are generated."""
        batch = self.as_batch(arch)
        if batch_len(batch) != 1:
            raise InvalidValueError(f"neighbors takes one architecture. Got {batch_len(batch)}.")
        cand, _ = self._edits(batch)
        keys = self.canonical_keys(cand)
        keep = first_unique(keys)
        keep = keep[keys[keep] != self.canonical_keys(batch)[0]]
        return take(cand, keep)

    def edits(self, batch: Any) -> tuple[Any, np.ndarray]:
        """Every valid one-edit neighbour of every architecture of a batch (isomorphs of the parent
        included), and the row of the parent each came from: (batch, array of shape (n_edits,))."""
        return self._edits(self.check(batch))

    def is_isomorphic(self, a: Any, b: Any) -> np.ndarray:
        """Row-wise isomorphism of two batches of equal length: bool array of shape (n_archs,)."""
        ka = self.canonical_keys(self.as_batch(a))
        kb = self.canonical_keys(self.as_batch(b))
        if ka.shape != kb.shape:
            raise InvalidValueError(f"is_isomorphic needs batches of equal length. Got {len(ka)} and {len(kb)}.")
        return np.asarray(ka == kb)

    def unique(self, batch: Any) -> Any:
        """The first architecture of each isomorphism class in a batch, in order."""
        batch = self.check(batch)
        return take(batch, first_unique(self.canonical_keys(batch)))

    def iter_batches(self, batch_size: int = 65536) -> Iterator[Any]:
        """Every architecture of the space, in batches (only where the space is enumerable)."""
        everything = self.all()
        total = batch_len(everything)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidValueError(f"The 'batch_size' parameter must be a positive int. Got {batch_size!r} instead.")
        for start in range(0, total, batch_size):
            yield take(everything, np.arange(start, min(total, start + batch_size)))

    def all(self) -> Any:
        """The whole space as one batch (spaces too large to list raise ValueError)."""
        raise InvalidValueError(f"The {self.name} space is too large to list ({self.size} architectures).")

    def as_batch(self, archs: Any) -> Any:
        """A batch from: a batch of this space; a string of the space's string form; a record dict
        (``{"arch": ...}``, ``{"naslib": ...}`` or space-specific fields); or a sequence of those."""
        if isinstance(archs, self.Batch):
            return self.check(archs)
        if isinstance(archs, (str, dict)):
            archs = [archs]
        if not isinstance(archs, Sequence) or isinstance(archs, (bytes, np.ndarray)):
            raise InvalidTypeError(
                f"Expected a {self.Batch.__name__}, a string, a record dict or a list of those for {self.name}. "
                f"Got {type(archs).__name__} instead."
            )
        if len(archs) == 0:
            raise InvalidValueError(f"Empty list of {self.name} architectures.")
        if all(isinstance(a, str) for a in archs):
            return self.check(self.from_strings(archs))
        if not all(isinstance(a, dict) for a in archs):
            raise InvalidTypeError(f"A list of {self.name} architectures must hold only strings or only record dicts.")
        if all(isinstance(a.get("arch"), str) for a in archs):  # the common case, parsed in one call
            try:
                return self.check(self.from_strings([a["arch"] for a in archs]))
            except (ValueError, TypeError):
                pass  # the per-record loop below names the bad record
        parts = []
        for i, rec in enumerate(archs):
            try:
                parts.append(self._record(rec))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"Record {i}: {exc}") from None
        return self.check(concat(parts))

    def _record(self, rec: dict) -> Any:
        if "arch" in rec:
            if not isinstance(rec["arch"], str):
                raise InvalidTypeError(f"'arch' must be a string. Got {type(rec['arch']).__name__}.")
            return self.from_strings([rec["arch"]])
        if "naslib" in rec:
            return self.from_naslib([rec["naslib"]])
        got = self._from_record(rec)
        if got is None:
            raise InvalidValueError(f"No {self.name} architecture field in record with keys {sorted(rec)}.")
        return got
