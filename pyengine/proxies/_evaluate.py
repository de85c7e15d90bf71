"""Validation of the proxies against NASLib's recorded scores (NAS-Bench-Suite-Zero): the
``pyengine proxies evaluate`` table."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import __version__
from .._batch import take
from .._jsonl_cache import append_records, read_records
from .._validation import check_positive_int
from ..errors import CheckpointError
from ..metrics import kendall_tau, spearman
from ._cache import arch_keys
from ._scorer import PROXIES, ProxyScorer

__all__ = ["evaluate_proxies", "RECORDED_NAMES", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION"]

# our name -> NASLib's key in the zero-cost JSON files
RECORDED_NAMES = {"jacob_cov": "jacov"}


def _rankable(a: np.ndarray) -> np.ndarray:
    """-inf (documented degenerate scores) as the lowest finite value, so rank statistics keep
    them last (NASLib stores -1e8 for the same networks)."""
    return np.where(np.isneginf(a), -np.finfo(np.float64).max, a)


def _corr(fn: Callable[[Any, Any], float], a: np.ndarray, b: np.ndarray) -> tuple[float | None, int]:
    ok = ~np.isnan(a) & ~np.isnan(b)
    if ok.sum() < 3:
        return None, int(ok.sum())
    return float(fn(_rankable(a[ok]), _rankable(b[ok]))), int(ok.sum())


CHECKPOINT_FORMAT = "pyengine-proxies-evaluate"
CHECKPOINT_VERSION = 1


def _encode(v: float) -> float | str:
    """A score as JSON: non-finite values as the strings "-inf", "inf", "nan"."""
    return float(v) if np.isfinite(v) else str(float(v))


def _resume(path: str, job: dict[str, Any], keys: list[str]) -> dict[int, tuple[dict[str, float], float]]:
    """The rows a checkpoint of the same job holds: row -> (scores, seconds). A new file gets the
    job's header; a file of another job, or rows that do not match the table, raise
    CheckpointError."""
    try:
        recs = read_records(path, "proxy evaluation checkpoint")
    except ValueError as err:
        raise CheckpointError(str(err)) from None
    if not recs:
        append_records(path, [{"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "job": job}])
        return {}
    head = recs[0]
    if head.get("format") != CHECKPOINT_FORMAT or head.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} is not a proxy evaluation checkpoint of version {CHECKPOINT_VERSION}.")
    if head.get("job") != job:
        differ = sorted(
            k for k in set(job) | set(head.get("job") or {}) if job.get(k) != (head.get("job") or {}).get(k)
        )
        raise CheckpointError(
            f"{path} is the checkpoint of another evaluation (it differs in {', '.join(differ)}); "
            "delete it or give another --checkpoint."
        )
    done: dict[int, tuple[dict[str, float], float]] = {}
    for line, rec in enumerate(recs[1:], 2):
        try:
            row = int(rec["row"])
            ok = 0 <= row < len(keys) and rec["key"] == keys[row]
            scores = {str(k): float(v) for k, v in rec["scores"].items()}
            seconds = float(rec["seconds"])
        except (KeyError, TypeError, ValueError, AttributeError):
            ok = False
        if not ok or set(scores) != set(job["proxies"]):
            raise CheckpointError(f"{path}, line {line}: not a row of this evaluation; delete the file to start again.")
        done[row] = (scores, seconds)
    return done


def evaluate_proxies(
    table: Any,
    proxies: Sequence[str],
    *,
    dataset: str = "cifar10",
    scorer_kwargs: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    checkpoint: str | None = None,
    chunk: int = 8,
) -> list[dict[str, Any]]:
    """Score the table's architectures and compare with its recorded scores and accuracy.

    Parameters
    ----------
    table : Table
        A ``naslib_zc`` table (column ``val_accuracy`` and one column per recorded proxy).
    proxies : sequence of str
        Proxy names; all of them are computed in one pass per architecture (the data proxies
        share one compiled program, its forward and backward passes).
    dataset : str, default "cifar10"
        The dataset whose input shape and classes the networks take.
    scorer_kwargs : dict, optional
        Further :class:`ProxyScorer` settings (``batch_size``, ``seed``, ``images``, ...).
    progress : callable, optional
        ``progress("scored", done, total)`` after each chunk; ``done`` counts the rows a
        checkpoint already held.
    checkpoint : str, optional
        A JSON-lines file: every ``chunk`` architectures, their scores and seconds are appended
        and synced; a run given the same file skips the rows it holds (the file's header must
        describe the same evaluation, else :class:`~pyengine.errors.CheckpointError`).
    chunk : int, default 8
        Architectures scored between checkpoint writes.

    Returns
    -------
    list of dict
        One record per proxy: ``proxy``, ``n``, ``spearman_vs_recorded``,
        ``spearman_vs_accuracy``, ``recorded_spearman_vs_accuracy``, ``kendalltau_vs_accuracy``,
        ``recorded_kendalltau_vs_accuracy``, ``max_abs_diff_vs_recorded`` (closed forms),
        ``seconds_per_arch_all`` (all the proxies of one architecture together, compilation
        excluded, the rows of a checkpoint included) and ``compile_seconds_all`` (this process's
        compilation). A proxy NASLib did not record has nulls in the ``recorded`` fields.
    """
    chunk = check_positive_int(chunk, "chunk", "evaluate_proxies")
    acc = table.column("val_accuracy")
    names = list(dict.fromkeys(PROXIES.canonical_name(n) for n in proxies))
    scorer = ProxyScorer(table.space.name, names, dataset=dataset, **(scorer_kwargs or {}))
    n_all = len(table)
    all_scores = {name: np.full(n_all, np.nan) for name in names}
    seconds = np.full(n_all, np.nan)
    done: dict[int, tuple[dict[str, float], float]] = {}
    keys: list[str] = []  # each row's architecture key, read and written with a checkpoint
    if checkpoint is not None:
        keys = arch_keys(table.space, table.archs)
        settings = {k: v for k, v in (scorer_kwargs or {}).items() if k not in ("images", "labels")}
        if "images" in (scorer_kwargs or {}):
            digest = hashlib.sha1(np.ascontiguousarray(scorer_kwargs["images"]).tobytes())
            if scorer_kwargs.get("labels") is not None:
                digest.update(np.ascontiguousarray(scorer_kwargs["labels"]).tobytes())
            settings["images_sha1"] = digest.hexdigest()
        job = {
            "pyengine": __version__,
            "space": table.space.name,
            "table": table.name,
            "n_archs": n_all,
            "dataset": dataset,
            "proxies": names,
            "scorer": {
                k: (v if isinstance(v, (int, float, str, bool)) or v is None else repr(v)) for k, v in settings.items()
            },
        }
        done = _resume(checkpoint, job, keys)
    for r, (sc, sec) in done.items():
        for name in names:
            all_scores[name][r] = sc[name]
        seconds[r] = sec
    todo = np.array(sorted(set(range(n_all)) - set(done)), dtype=np.int64)
    compile_s = 0.0
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        base = len(done) + start

        t0 = time.perf_counter()
        got = scorer.score(take(table.archs, part))
        spent = sum(scorer.compile_seconds.values())
        compile_s += spent
        per = max(time.perf_counter() - t0 - spent, 0.0) / len(part)
        for name in names:
            all_scores[name][part] = got[name]
        seconds[part] = per
        if checkpoint is not None:
            append_records(
                checkpoint,
                [
                    {"row": int(r), "key": keys[r], "scores": {nm: _encode(got[nm][j]) for nm in names}, "seconds": per}
                    for j, r in enumerate(part)
                ],
            )
        if progress is not None:
            progress("scored", base + len(part), n_all)
    if progress is not None and not len(todo):
        progress("scored", n_all, n_all)
    records = []
    for name in names:
        scores = all_scores[name]
        rec_col = RECORDED_NAMES.get(name, name)
        recorded = table.columns.get(rec_col)
        rho_acc, n = _corr(spearman, scores, acc)
        row: dict[str, Any] = {
            "proxy": name,
            "n": n,
            "spearman_vs_recorded": None,
            "spearman_vs_accuracy": rho_acc,
            "recorded_spearman_vs_accuracy": None,
            "kendalltau_vs_accuracy": _corr(kendall_tau, scores, acc)[0],
            "recorded_kendalltau_vs_accuracy": None,
            "max_abs_diff_vs_recorded": None,
            # the proxies share one program per kind (float32 network / float64 synflow / closed
            # form): the time is the whole run's, per architecture
            "seconds_per_arch_all": float(np.mean(seconds)),
            "compile_seconds_all": compile_s,
        }
        if recorded is not None:
            row["spearman_vs_recorded"] = _corr(spearman, scores, recorded)[0]
            row["recorded_spearman_vs_accuracy"] = _corr(spearman, recorded, acc)[0]
            row["recorded_kendalltau_vs_accuracy"] = _corr(kendall_tau, recorded, acc)[0]
            if PROXIES.get(name).program == "closed_form":
                ok = ~np.isnan(recorded)
                row["max_abs_diff_vs_recorded"] = float(np.max(np.abs(scores[ok] - recorded[ok])))
        records.append(row)
    return records
