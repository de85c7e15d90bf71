"""Stand-alone ground truth for the one-shot study: architectures trained with the trainer, one
row per (architecture, seed), cached on disk so each is trained once per machine.

The cache is a JSON-lines file per (trainer settings, dataset contents) under the cache folder
(``PYENGINE_CACHE_DIR`` or ``~/.cache/pyengine``, subfolder ``truth``). Every finished group of
architectures is appended and flushed at once, so an interrupted run keeps what it trained and
the next run trains only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._jsonl_cache import append_records, default_cache_dir, read_records
from ..errors import InvalidValueError
from ..spaces import get_space
from ..train._data import ImageDataset, load_dataset

__all__ = ["GroundTruth", "ground_truth", "default_cache_dir", "TRUTH_FIELDS"]

log = logging.getLogger(__name__)

TRUTH_FIELDS = ("val_accuracy", "test_accuracy", "val_loss", "test_loss", "train_seconds")
_GROUP = 8  # architectures trained (and appended to the cache) at a time


@dataclass
class GroundTruth:
    """Stand-alone results: arrays of shape (n_archs, n_seeds) per field of ``TRUTH_FIELDS``,
    plus ``diverged`` (bool, same shape), the architectures' ``strings`` and the ``seeds``."""

    strings: list[str]
    seeds: list[int]
    values: dict[str, np.ndarray]
    diverged: np.ndarray
    cache_file: str
    trained: int  # (architecture, seed) pairs trained by this call; the rest came from the cache

    def mean(self, field: str = "val_accuracy") -> np.ndarray:
        """The mean over seeds of ``field``; NaN for an architecture that diverged on every seed."""
        if field not in self.values:
            raise KeyError(f"Unknown ground-truth field {field!r}; known: {', '.join(TRUTH_FIELDS)}.")
        v = np.where(self.diverged, np.nan, self.values[field])
        out = np.full(len(v), np.nan)
        ok = ~self.diverged.all(axis=1)
        out[ok] = np.nanmean(v[ok], axis=1)
        return out


def _fingerprint(data: ImageDataset) -> str:
    h = hashlib.sha256()
    for a in (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _read_cache(path: str) -> dict[tuple[str, int], dict[str, Any]]:
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for n, rec in enumerate(read_records(path, "ground-truth"), 1):
        try:
            rows[(str(rec["arch"]), int(rec["seed"]))] = rec
        except (KeyError, TypeError, ValueError):
            raise InvalidValueError(
                f"The ground-truth cache {path} is corrupt at line {n}; delete it to retrain."
            ) from None
    return rows


def ground_truth(
    archs: Any,
    *,
    space: str = "nb201",
    dataset: Any = "digits",
    seeds: Any = (0, 1),
    trainer_params: dict[str, Any] | None = None,
    cache_dir: str | None = None,
    progress: bool = False,
) -> GroundTruth:
    """Stand-alone results of ``archs`` (a batch of ``space`` or its strings) trained by
    :class:`pyengine.train.Trainer` with ``trainer_params`` (epochs, channels, ...) on
    ``dataset`` with each of ``seeds``; cached (see the module docstring)."""
    from ..train import Trainer

    sp = get_space(space)
    batch = sp.as_batch(archs)
    strings = sp.to_strings(batch)
    if not strings:
        raise InvalidValueError("ground_truth() got no architectures.")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise InvalidValueError(f"ground_truth() needs distinct non-negative seeds. Got {seeds}.")
    params = {k: v for k, v in (trainer_params or {}).items() if k not in ("seed", "progress", "group_size")}
    data = load_dataset(dataset)
    config = {"space": sp.name, "trainer": Trainer(space=sp.name, **params).get_params(), "data": _fingerprint(data)}
    config["trainer"].pop("seed")
    config["trainer"].pop("group_size")
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    folder = os.path.join(cache_dir or default_cache_dir(), "truth")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{sp.name}_{key}.jsonl")
    meta = path[: -len(".jsonl")] + ".json"
    if not os.path.exists(meta):
        with open(meta, "w") as fh:
            json.dump({**config, "dataset": data.name}, fh, indent=1)
    rows = _read_cache(path)
    trained = 0
    for seed in seeds:
        todo = [i for i, s in enumerate(strings) if (s, seed) not in rows]
        if not todo:
            continue
        trainer = Trainer(space=sp.name, seed=seed, progress=progress, **params)
        log.info("Training %d architectures with seed %d for the ground truth.", len(todo), seed)
        for start in range(0, len(todo), _GROUP):
            part = todo[start : start + _GROUP]
            res = trainer.train([strings[i] for i in part], data)
            recs = [
                {
                    "arch": strings[part[j]],
                    "seed": seed,
                    "val_accuracy": float(res.final_val_accuracy[j]),
                    "test_accuracy": float(res.test_accuracy[j]),
                    "val_loss": float(res.val_loss[j, -1]),
                    "test_loss": float(res.test_loss[j]),
                    "train_seconds": float(res.train_seconds[j]),
                    "diverged": bool(res.diverged[j]),
                }
                for j in range(len(res))
            ]
            append_records(path, recs)
            rows.update({(r["arch"], seed): r for r in recs})
            trained += len(res)
            if res.interrupted:
                raise KeyboardInterrupt
    values = {f: np.array([[float(rows[(s, k)][f]) for k in seeds] for s in strings]) for f in TRUTH_FIELDS}
    diverged = np.array([[bool(rows[(s, k)]["diverged"]) for k in seeds] for s in strings])
    diverged |= ~np.isfinite(values["val_accuracy"])
    return GroundTruth(strings, seeds, values, diverged, path, trained)
