"""The ``pyengine`` command line. JSON lines in and out; errors exit non-zero with a message."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from .errors import CliError, PyengineError

__all__ = ["main"]

_CHUNK = 50_000


def _open_in(path: str) -> IO[str]:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8")
    except OSError as err:
        raise CliError(f"cannot read {path}: {err.strerror}") from None


def _open_out(path: str | None) -> IO[str]:
    if path is None or path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as err:
        raise CliError(f"cannot write {path}: {err.strerror}") from None


def _read_cells(stream: IO[str], source: str) -> Iterator[list[tuple[int, Any, Any]]]:
    """Yield chunks of (line number, matrix, ops) from a JSONL stream, checking each record."""
    for chunk in _read_records(stream, source, what="cells"):
        out = []
        for lineno, rec in chunk:
            for field in ("matrix", "ops"):
                if field not in rec:
                    raise CliError(f"{source}, line {lineno}: missing field '{field}'")
            if not isinstance(rec["ops"], list):
                raise CliError(f"{source}, line {lineno}: field 'ops' must be a list. Got {type(rec['ops']).__name__}.")
            out.append((lineno, rec["matrix"], rec["ops"]))
        yield out


def _cmd_hash(args: argparse.Namespace) -> int:
    from .graph import nb101

    stream = _open_in(args.input)
    out = _open_out(args.out)
    count = 0
    try:
        for chunk in _read_cells(stream, args.input):
            names = [f"{args.input}, line {ln}" for ln, _, _ in chunk]
            try:
                batch = nb101.pack_cells([(m, o) for _, m, o in chunk], names=names)
            except (TypeError, ValueError) as err:
                raise CliError(str(err)) from None
            res = nb101.validate(batch, threads=args.threads)
            reasons = res.reasons()
            lines = []
            for k, (_, _, ops) in enumerate(chunk):
                n = int(res.pruned.num_vertices[k])
                if n > 0:
                    pm = res.pruned.matrices[k, :n, :n].tolist()
                    po = [op for op, kept in zip(ops, res.kept[k][: len(ops)], strict=True) if kept]
                else:
                    pm, po = None, None
                rec = {
                    "valid": bool(res.valid[k]),
                    "reason": reasons[k],
                    "hash": str(res.hashes[k]) or None,
                    "pruned_matrix": pm,
                    "pruned_ops": po,
                }
                lines.append(json.dumps(rec))
            out.write("\n".join(lines) + "\n")
            out.flush()
            count += len(chunk)
    finally:
        if stream is not sys.stdin:
            stream.close()
        if out is not sys.stdout:
            out.close()
    print(f"hashed {count} cells", file=sys.stderr)
    return 0


def _cmd_enumerate(args: argparse.Namespace) -> int:
    from .graph import nb101

    t0 = time.perf_counter()
    space = nb101.enumerate_space(hashes=not args.no_hashes, threads=args.threads)
    wall = time.perf_counter() - t0
    arrays = {
        "matrices": space.cells.matrices,
        "labels": space.cells.labels,
        "num_vertices": space.cells.num_vertices,
        "canonical_keys": space.canonical_keys,
    }
    if not args.no_hashes:
        arrays["hashes"] = space.hashes.astype("S32")
    try:
        with open(args.out, "wb") as fh:  # a file object: numpy adds no extension
            np.savez(fh, **arrays)
    except OSError as err:
        raise CliError(f"cannot write {args.out}: {err.strerror}") from None
    print(f"nb101: {len(space.cells)} cells enumerated in {wall:.2f} s -> {args.out}")
    return 0


def _cmd_unique(args: argparse.Namespace) -> int:
    from .graph import nb201

    cells = nb201.all_cells()
    rep, cls = nb201.canonicalize(cells)
    n_classes = int(cls.max()) + 1
    print(f"nb201: {n_classes} classes over {len(cells)} cells")
    if args.out:
        strs = nb201.format_arch_strs(cells)
        uniq = nb201.unique_str(cells)
        out = _open_out(args.out)
        try:
            for i in range(len(cells)):
                rec = {
                    "index": i,
                    "arch": strs[i],
                    "class": int(cls[i]),
                    "representative": int(rep[i]),
                    "representative_arch": strs[int(rep[i])],
                    "unique_str": uniq[i],
                }
                out.write(json.dumps(rec) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
    return 0


def _read_records(stream: IO[str], source: str, what: str = "architectures") -> Iterator[list[tuple[int, dict]]]:
    """Yield chunks of (line number, record dict) from a JSONL stream."""
    chunk: list[tuple[int, dict]] = []
    seen = 0
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            raise CliError(f"{source}, line {lineno}: invalid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(rec, dict):
            raise CliError(f"{source}, line {lineno}: expected an object. Got {type(rec).__name__}.")
        chunk.append((lineno, rec))
        seen += 1
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if seen == 0:
        raise CliError(f"{source} holds no {what} (empty input)")


def _json_value(a: np.ndarray) -> Any:
    if a.dtype == bool:
        return a.astype(int).tolist()
    if np.all(a == np.round(a)):
        return a.astype(np.int64).tolist()
    return a.tolist()


def _cmd_encode(args: argparse.Namespace) -> int:
    from .encodings import ENCODINGS, GraphBatch
    from .spaces import InvalidArchitectureError, get_space

    space = get_space(args.space)
    fn = ENCODINGS.get(args.encoding)
    params = {}
    if args.k is not None:
        if ENCODINGS.canonical_name(args.encoding) != "path_trunc":
            raise CliError("--k applies to the path_trunc encoding only")
        params["k"] = args.k
    source = "stdin" if args.input == "-" else args.input
    stream = _open_in(args.input)
    out = _open_out(args.out)
    try:
        for chunk in _read_records(stream, source):
            lines = [n for n, _ in chunk]
            try:
                batch = space.as_batch([r for _, r in chunk])
            except InvalidArchitectureError as err:
                bad = ", ".join(str(lines[r]) for r in err.rows[:20])
                raise CliError(f"{source}: invalid architectures on line(s) {bad}: {err}") from None
            except (ValueError, TypeError) as err:
                for n, rec in chunk:  # name the first line that fails on its own
                    try:
                        space.as_batch([rec])
                    except (ValueError, TypeError) as one:
                        raise CliError(f"{source}, line {n}: {str(one).removeprefix('Record 0: ')}") from None
                raise CliError(f"{source}: {err}") from None
            enc = fn(space, batch, **params)
            if isinstance(enc, GraphBatch):
                rows = zip(*(_json_value(x) for x in enc), strict=True)
                out.writelines(json.dumps({"encoding": list(r)}) + "\n" for r in rows)
            else:
                out.writelines(json.dumps({"encoding": r}) + "\n" for r in _json_value(enc))
    finally:
        if stream is not sys.stdin:
            stream.close()
        if out is not sys.stdout:
            out.close()
    return 0


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CliError(f"{what} must be comma-separated integers. Got {text!r}.") from None
    if not values:
        raise CliError(f"{what} must list at least one integer.")
    return values


def _predictor_params(items: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, param = key.partition(".")
        if not sep or not dot or not name or not param:
            raise CliError(f"--set takes NAME.PARAM=VALUE. Got {item!r}.")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value  # a bare string
        out.setdefault(name.strip(), {})[param.strip()] = parsed
    return out


def _record_sink(path: str | None) -> tuple[list[dict[str, Any]], Any]:
    """A list of records and a callback that appends one and, with a path, rewrites the JSON file,
    so every finished record is on disk and a later failure loses nothing."""
    from ._io import write_records

    records: list[dict[str, Any]] = []

    def keep(rec: dict[str, Any]) -> None:
        records.append(rec)
        if path:
            write_records(records, path)

    return records, keep


def _load_table(name: str, space_name: Any = None) -> Any:
    """A table by registered name or path; with a space, checked to hold that space's architectures."""
    from .spaces import get_space
    from .tables import DataFileError, load_table

    space = get_space(space_name) if space_name else None
    try:
        table = load_table(name, space=space)
    except DataFileError as err:
        raise CliError(str(err)) from None
    if space is not None and table.space != space:
        raise CliError(f"table {table.name} holds {table.space.name} architectures, not {space.name}")
    return table


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import DEFAULT_TRAIN_SIZES, PredictorEvaluator, plot_grid, plot_kendall, summarize, training_time

    table = _load_table(args.table, args.space)
    if args.plot_grid and training_time(table, args.time_column) is None:
        raise CliError(
            f"--plot-grid needs a training-time column (train_seconds_E or train_seconds_per_epoch); table "
            f"{table.name} has none (columns: {', '.join(table.metric_names)})"
        )
    sizes = _int_list(args.train_sizes, "--train-sizes") if args.train_sizes else list(DEFAULT_TRAIN_SIZES)
    predictors = [p.strip() for p in args.predictors.split(",") if p.strip()]
    fidelity_table = _load_table(args.fidelity_table, table.space.name) if args.fidelity_table else None
    if (args.fidelity_metric is not None) and fidelity_table is None:
        raise CliError("--fidelity-metric needs --fidelity-table")
    zc = zc_seconds = None
    if args.zc_json:
        from .tables import read_naslib_zc
        from .tables._benchmarks import load_naslib_zc

        try:
            zt = load_naslib_zc(args.zc_json, space=table.space.name)
            times = read_naslib_zc(args.zc_json, space=table.space.name).times or {}
        except (OSError, ValueError) as err:
            raise CliError(str(err)) from None
        idx = zt.indices(table.archs, exact=True)  # scores belong to a labelling, not to its class
        keep = np.flatnonzero(idx >= 0)
        if keep.size < len(table):
            print(f"{keep.size} of the {len(table)} architectures of {table.name} have zero-cost scores: those count")
            table = table.subset(keep)
        zc = {c: zt.column(c)[idx[keep]] for c in zt.metric_names if c != zt.default_metric}
        zc_seconds = {c: t[idx[keep]] for c, t in times.items()}
    evaluator = PredictorEvaluator(
        table,
        predictors,
        metric=args.metric,
        train_sizes=sizes,
        seeds=args.seeds,
        test_size=args.test_size,
        sampling=args.sampling,
        encoding=args.encoding,
        tune=args.tune,
        defaults=args.defaults,
        predictor_params=_predictor_params(args.set),
        fidelity=args.fidelity,
        fidelity_table=fidelity_table,
        fidelity_metric=args.fidelity_metric,
        zc=zc,
        zc_seconds=zc_seconds,
        omni_features=args.omni_features,
        time_column=args.time_column,
    )
    records, keep = _record_sink(args.json)

    try:
        evaluator.run(
            progress=not args.no_progress and sys.stderr.isatty(), on_record=keep, ray=args.ray, workers=args.workers
        )
    finally:
        if records:
            _print_summary(summarize(records), table.name, args.metric or table.default_metric)
    if args.json:
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot:
        plot_kendall(records, plot, title=f"{table.name}: {args.metric or table.default_metric}")
        print(f"wrote {plot}")
    if args.plot_grid:
        cells = plot_grid(
            records, args.plot_grid, bins=args.grid_bins, title=f"{table.name}: best predictor by Kendall tau"
        )
        init_b = sorted({c["init_budget"] for c in cells})
        print("best predictor (mean Kendall tau) per budget: init seconds across, query seconds per arch down")
        print("query \\ init".rjust(12) + "".join(f"{b:>14.3g}" for b in init_b))
        for q in sorted({c["query_budget"] for c in cells}):
            row = [c for c in cells if c["query_budget"] == q]
            row.sort(key=lambda c: c["init_budget"])
            text = ["-" if c["predictor"] is None else f"{c['predictor']} {c['kendalltau']:.2f}" for c in row]
            print(f"{q:>12.3g}" + "".join(f"{t:>14}" for t in text))
        print(f"wrote {args.plot_grid} and {os.path.splitext(args.plot_grid)[0]}.json")
    return 0


def _print_summary(rows: list[dict[str, Any]], table: str, metric: str | None) -> None:
    print(f"table {table}, metric {metric}: mean over seeds (std)")
    head = f"{'predictor':<10}{'train':>7}{'runs':>6}{'kendalltau':>18}{'spearman':>10}{'sparse_kt':>11}{'fit s':>8}"
    print(head)
    print("-" * len(head))
    for r in rows:
        kt = f"{r['mean']:.3f} ({r['std']:.3f})"
        print(
            f"{r['predictor']:<10}{r['train_size']:>7}{r['runs']:>6}{kt:>18}{r['spearman']:>10.3f}"
            f"{r['sparse_kendalltau']:>11.3f}{r['fit_seconds']:>8.2f}"
        )


_DEFAULT_SEARCH_TABLES = {"nb201": "nb201_cifar10_200ep", "nb101": "nb101_20k"}


def _cmd_search(args: argparse.Namespace) -> int:
    from ._io import write_records
    from .search import SEARCHERS, TableColumn, default_tolerance, oracle, plot_trajectories, simulate, summarize
    from .spaces import SPACES

    name = args.table or (_DEFAULT_SEARCH_TABLES.get(SPACES.canonical_name(args.space)) if args.space else None)
    if name is None:
        raise CliError(f"--table is needed for the {args.space or 'given'} space")
    table = _load_table(name, args.space)
    test_metric = "default" if args.test_metric is None else (None if args.test_metric == "none" else args.test_metric)
    names = [s.strip() for s in args.searchers.split(",") if s.strip()]
    params = _predictor_params(args.set)
    cost = None
    if args.cost_table:
        cost_table = _load_table(args.cost_table, table.space)
        if not args.cost_metric:
            cols = ", ".join(cost_table.metric_names)
            raise CliError(f"--cost-metric is needed; columns of {cost_table.name}: {cols}")
        cost = TableColumn(cost_table, args.cost_metric)
    elif args.max_cost is not None or args.pareto_j is not None:
        raise CliError("--max-cost and --pareto-j need --cost-table and --cost-metric")
    for n in names:
        key = SEARCHERS.canonical_name(n)
        if args.max_cost is not None:
            params.setdefault(n, {})["max_cost"] = args.max_cost
        if args.pareto_j is not None and key == "np":
            params.setdefault(n, {})["pareto_j"] = args.pareto_j
    mask = None
    if cost is not None and args.max_cost is not None:  # the oracle within the bound
        with np.errstate(invalid="ignore"):
            mask = cost(table.archs) <= args.max_cost
    best = oracle(table, args.metric, test_metric, mask=mask)
    if mask is not None:
        best["note"] = f" (best of the {int(mask.sum())} cells within --max-cost {args.max_cost:g})"
    tol = args.tolerance if args.tolerance is not None else default_tolerance(table, best["metric"])
    checkpoints = _int_list(args.checkpoints, "--checkpoints") if args.checkpoints else [50, 100, 150, 300]
    records, keep = _record_sink(args.json)

    try:
        records = simulate(
            table,
            names,
            args.budget,
            args.seeds,
            metric=args.metric,
            test_metric=test_metric,
            pool=args.pool,
            searcher_params=params,
            cost=cost,
            jobs=args.jobs,
            progress=not args.no_progress and sys.stderr.isatty(),
            on_record=keep,
            ray=args.ray,
        )
    finally:
        if records:
            cps = [c for c in checkpoints if c <= args.budget]
            rows = summarize(records, best["valid"], tolerance=tol, checkpoints=cps)
            _print_search_summary(rows, table.name, best, tol)
    if args.json:
        write_records(records, args.json)
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot:
        plot_trajectories(records, plot, oracle_info=best, title=f"{table.name}: {best['metric']}")
        print(f"wrote {plot}")
    return 0


def _cell(point: dict[str, Any] | None, field: str) -> str:
    if not point or f"{field}_mean" not in point:
        return ""
    return f"{point[field + '_mean']:.4g} ({point[field + '_se']:.2g})"


def _print_search_summary(rows: list[dict[str, Any]], table: str, best: dict[str, Any], tol: float) -> None:
    test = f", its {best['test_metric']} {best['test']:.4g}" if best["test"] is not None else ""
    print(f"table {table}: oracle {best['metric']} {best['valid']:.4g}{test}{best.get('note', '')}")
    print(f"best found: mean over seeds (standard error); queries to come within {tol:g} of the oracle")
    cps = sorted({c for r in rows for c in r["checkpoints"]})
    head = f"{'searcher':<9}{'runs':>5}{'to oracle mean/med':>20}{'reached':>9}" + "".join(
        f"{'valid@' + str(c):>17}" for c in cps
    )
    has_test = any("test_mean" in p for r in rows for p in r["checkpoints"].values())
    if has_test:
        head += "".join(f"{'test@' + str(c):>17}" for c in cps)
    print(head)
    print("-" * len(head))
    for r in rows:
        q = (
            "-"
            if r["queries_to_oracle_mean"] is None
            else f"{r['queries_to_oracle_mean']:.1f}/{r['queries_to_oracle_median']:.0f}"
        )
        line = f"{r['searcher']:<9}{r['runs']:>5}{q:>20}{str(r['reached']) + '/' + str(r['runs']):>9}"
        for c in cps:
            p = r["checkpoints"].get(c)
            line += f"{_cell(p, 'valid'):>17}"
        if has_test:
            for c in cps:
                p = r["checkpoints"].get(c)
                line += f"{_cell(p, 'test'):>17}"
        print(line)
        if r["n_failed"]:
            print(f"  {r['n_failed']} failed queries across the runs of {r['searcher']}")


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._compile_cache import enable_compilation_cache
    from ._demo import run_demo

    enable_compilation_cache()
    trainer = {k: getattr(args, k) for k in ("epochs", "channels", "group_size") if getattr(args, k) is not None}

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        s = run_demo(
            n_train=args.n_train,
            top_k=args.top_k,
            seed=args.seed,
            out=args.out,
            dataset=args.dataset,
            trainer_params=trainer,
            progress=not args.no_progress,
            echo=echo,
        )
    except KeyboardInterrupt:
        print(f"pyengine: interrupted; the architectures trained so far are in {args.out}/archs.json", file=sys.stderr)
        return 130
    w = s["wall_seconds"]
    print(f"Neural Predictor demo on {s['dataset']}")
    print(f"  N={s['n_train']} trained, GCN fitted, 15,625 NB201 cells scored, top K={s['top_k']} + K random trained")
    print(f"  {'':32}{'test acc (%)':>14}")
    print(f"  {'best found (N + predicted top K)':32}{s['best_found_test']:>14.2f}  {s['best_found_arch']}")
    print(f"  {'best random (N + K random)':32}{s['best_random_test']:>14.2f}  {s['best_random_arch']}")
    print(f"  {'mean of predicted top K':32}{s['mean_top_k_test']:>14.2f}")
    print(f"  {'mean of K random':32}{s['mean_random_k_test']:>14.2f}")
    print(f"  Kendall tau, predicted vs measured validation accuracy on the 2K held-out cells: {s['kendalltau']:.3f}")
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in w.items() if k != "total")
    print(f"  wall time {w['total']:.0f} s ({stages}; compile {s['compile_seconds']:.0f} s)")
    print(f"  {s['verdict']}")
    print(f"  results: {args.out}/summary.json, {args.out}/archs.json, {args.out}/demo.png")
    return 0


def _proxy_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """ProxyScorer keywords from --batch-size / --seed / --images (an .npz with ``images`` and
    optional ``labels``, or a .npy of images)."""
    kw: dict[str, Any] = {"batch_size": args.batch_size, "seed": args.seed}
    if args.archs_per_call is not None:
        kw["archs_per_call"] = args.archs_per_call
    if args.images:
        kw.update(_read_image_batch(args.images))
    return kw


def _read_image_batch(path: str) -> dict[str, np.ndarray]:
    """``images`` (and ``labels`` when present) of an .npz, or the images of a .npy; every
    array is read here so that a truncated or foreign file fails as a CliError."""
    import zipfile

    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return {"images": data}
        with data:
            if "images" not in data.files:
                raise CliError(f"--images {path}: an .npz needs an 'images' array (it holds {data.files})")
            return {k: data[k] for k in ("images", "labels") if k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        text = str(err)
        if "pickled" in text:  # np.load's guess for a file of neither format
            text = "not a NumPy .npy or .npz file"
        elif "Object arrays" in text:
            text = "holds an object array, not numbers"
        raise CliError(f"--images {path}: cannot read ({text})") from None


def _proxy_names(text: str) -> list[str]:
    from .proxies import PROXIES

    names = [p.strip() for p in text.split(",") if p.strip()]
    if names == ["all"]:
        return PROXIES.names()
    if not names:
        raise CliError("--proxies names no proxy")
    return [PROXIES.canonical_name(n) for n in names]


def _cmd_proxies(args: argparse.Namespace) -> int:
    from ._compile_cache import enable_compilation_cache
    from .proxies import ProxyScorer

    enable_compilation_cache()
    kw = _proxy_inputs(args)

    shown = {"done": 0}

    def progress(name: str, done: int, total: int) -> None:
        # a line whenever another 25 are done (the scorer reports in steps of a few), and at the end
        if not args.no_progress and (done == total or done // 25 > shown["done"] // 25 or done < shown["done"]):
            print(f"  {name}: {done}/{total}", file=sys.stderr, flush=True)
        shown["done"] = done

    if args.action == "evaluate":
        from .proxies._evaluate import evaluate_proxies
        from .tables._benchmarks import load_naslib_zc

        try:
            table = load_naslib_zc(args.zc_json, space=args.space, dataset=args.dataset)
        except (OSError, ValueError) as err:
            raise CliError(str(err)) from None
        if args.limit:
            table = table.subset(np.arange(min(args.limit, len(table))))
        names = _proxy_names(args.proxies or "all")
        rows = evaluate_proxies(table, names, dataset=args.dataset, scorer_kwargs=kw, progress=progress)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                head = {"space": args.space, "dataset": args.dataset, "n_archs": len(table), **_scorer_settings(kw)}
                json.dump({**head, "records": rows}, fh, indent=1)
        print(f"{'proxy':<10}{'n':>5}{'rho vs recorded':>17}{'rho vs acc':>12}{'recorded rho vs acc':>21}")
        for r in rows:
            f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            print(
                f"{r['proxy']:<10}{r['n']:>5}{f(r['spearman_vs_recorded']):>17}{f(r['spearman_vs_accuracy']):>12}"
                f"{f(r['recorded_spearman_vs_accuracy']):>21}"
            )
        if rows:
            print(f"{len(table)} architectures, {rows[0]['seconds_per_arch_all']:.3f} s each for all these proxies")
        return 0
    # score
    from .spaces import get_space

    if not args.proxies:
        raise CliError("proxies score needs --proxies (for example --proxies synflow,jacob_cov)")

    space = get_space(args.space)
    records: list[dict[str, Any]] = []
    with _open_in(args.input) as stream:
        for chunk in _read_records(stream, args.input):
            records.extend(rec for _, rec in chunk)
    try:
        batch = space.as_batch(records)
    except (TypeError, ValueError) as err:
        raise CliError(f"{args.input}: {err}") from None
    names = _proxy_names(args.proxies)
    scorer = ProxyScorer(args.space, names, dataset=args.dataset, **kw)
    scores = scorer.score(batch, progress=lambda d, t: progress("scored", d, t))
    strings = space.to_strings(batch)
    out = _open_out(args.out)
    try:
        for i, arch in enumerate(strings):
            out.write(json.dumps({"arch": arch, **{n: float(scores[n][i]) for n in names}}) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _scorer_settings(kw: dict[str, Any]) -> dict[str, Any]:
    """The scorer settings a result file records (not the image array itself)."""
    return {
        "batch_size": len(kw["images"]) if "images" in kw else kw["batch_size"],
        "seed": kw["seed"],
        "inputs": "user images" if "images" in kw else "gaussian noise",
    }


def _cmd_fit(args: argparse.Namespace) -> int:
    from .predictors import PREDICTORS, get_predictor
    from .spaces import get_space

    space = get_space(args.space)
    name = PREDICTORS.canonical_name(args.predictor)
    if (args.table is None) == (args.train is None):
        raise CliError("fit needs exactly one of --table FILE (sampled with --train-size) or --train FILE.jsonl")
    if args.table is not None:
        table = _load_table(args.table, args.space)
        metric = args.metric or table.default_metric
        values = table.column(metric)
        if args.train_size > len(table):
            raise CliError(f"--train-size {args.train_size} exceeds the {len(table)} rows of {table.name}")
        rng = np.random.default_rng(args.seed)
        rows = np.sort(rng.choice(len(table), size=args.train_size, replace=False))
        archs, y = table.subset(rows).archs, values[rows]
        source = f"{args.train_size} of {len(table)} rows of {table.name} ({metric})"
    else:
        field = args.metric or "value"
        recs: list[dict[str, Any]] = []
        with _open_in(args.train) as stream:
            for chunk in _read_records(stream, args.train):
                for lineno, rec in chunk:
                    if field not in rec:
                        raise CliError(f"{args.train}, line {lineno}: missing field '{field}'")
                    if not isinstance(rec[field], (int, float)) or isinstance(rec[field], bool):
                        raise CliError(f"{args.train}, line {lineno}: field '{field}' must be a number")
                    recs.append(rec)
        try:
            archs = space.as_batch(recs)
        except (TypeError, ValueError) as err:
            raise CliError(f"{args.train}: {err}") from None
        y = np.array([float(r[field]) for r in recs])
        source = f"{len(recs)} architectures of {args.train} ({field})"
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise CliError(f"the training values hold NaN or inf (first at training row {int(bad[0])})")
    params = _predictor_params([f"{name}.{kv}" for kv in args.set]).get(name, {})
    est = get_predictor(name, space=space.name, random_state=args.seed, **params)
    t0 = time.perf_counter()
    est.fit(archs, y)
    fit_s = time.perf_counter() - t0
    est.save(args.save)
    print(f"fitted {name} on {source} in {fit_s:.2f} s; wrote {args.save}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from .scoring import ModelScorer, ProxyScoreFn, ScoreSource, score_job

    if (args.input is None) == (not args.all):
        raise CliError("score needs exactly one of --all or IN.jsonl")
    if (args.model is None) == (args.proxy is None):
        raise CliError("score needs exactly one of --model MODEL or --proxy NAME")
    from .spaces import get_space

    space = get_space(args.space).name
    if args.model is not None:
        try:
            scorer: Any = ModelScorer(args.model, space)
        except OSError as err:
            raise CliError(f"cannot read {args.model}: {err}") from None
    else:
        scorer = ProxyScoreFn(args.proxy, space, seed=args.seed, batch_size=args.batch_size, dataset=args.dataset)
    source = ScoreSource(space, args.input)
    executor = None
    if args.ray is not None:
        from .scoring._ray import ray_executor

        executor = ray_executor(args.ray, workers=args.workers)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=source.total(), unit="arch", file=sys.stderr, dynamic_ncols=True, disable=None)

    def progress(lines: int, total: int | None) -> None:
        if bar is not None:
            bar.n = lines
            bar.refresh()

    try:
        r = score_job(
            source, scorer, args.out, chunk_size=args.chunk_size, resume=args.resume, executor=executor,
            progress=progress,
        )  # fmt: skip
    except FileExistsError as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(f"cannot write {args.out}: {err.strerror or err}") from None
    finally:
        if bar is not None:
            bar.close()
    if r["lines"] == 0 and r["resumed_from"] == 0 and r["total_lines"]:
        print(f"{args.out} is already complete ({r['total_lines']} architectures)")
        return 0
    resumed = f", resumed after {r['resumed_from']}" if r["resumed_from"] else ""
    print(
        f"scored {r['lines']} architectures in {r['seconds']:.2f} s ({r['archs_per_second']:,.0f} archs/s{resumed}); "
        f"{r['total_lines']} lines in {args.out}"
    )
    return 0


def _cmd_oneshot(args: argparse.Namespace) -> int:
    from ._compile_cache import enable_compilation_cache
    from .oneshot import STRATEGIES, evaluate_oneshot, plot_oneshot

    enable_compilation_cache()
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for s in strategies:
        if s not in STRATEGIES:
            raise CliError(f"unknown strategy {s!r}; known: {', '.join(STRATEGIES)}")
    proxies = [] if args.proxies in ("", "none") else _proxy_names(args.proxies)
    records, keep = _record_sink(args.json)
    progress = not args.no_progress and sys.stderr.isatty()

    def show(rec: dict[str, Any]) -> None:
        keep(rec)
        if not args.no_progress:
            who = (
                f"proxy {rec['proxy']}"
                if "proxy" in rec
                else f"{rec['strategy']} seed {rec['seed']} epoch {rec['epoch']}"
            )
            trick = f" {rec['trick']}" if rec.get("trick", "none") != "none" else ""
            print(
                f"  {who}{trick}: kendalltau {rec['kendalltau']:.3f}  p_at_top5 {rec['p_at_top5']:.2f}  "
                f"br_at_5 {rec['br_at_5']:.3f}",
                file=sys.stderr,
                flush=True,
            )

    t0 = time.perf_counter()
    evaluate_oneshot(
        space=args.space,
        dataset=args.dataset,
        strategies=strategies,
        seeds=_int_list(args.seeds, "--seeds"),
        epochs=args.epochs,
        checkpoint_every=args.checkpoint_every,
        paths_per_step=args.paths_per_step,
        learning_rate=args.learning_rate,
        temporal=args.temporal,
        recalibrate=args.recalibrate,
        os_score=args.os_score,
        truth_archs=args.truth_archs,
        truth_seeds=_int_list(args.truth_seeds, "--truth-seeds"),
        truth_epochs=args.truth_epochs,
        truth_metric=args.truth_metric,
        proxies=proxies,
        cache_dir=args.cache,
        on_record=show,
        progress=progress,
    )
    _print_oneshot_summary(records)
    if records and "truth_seed_kendalltau" in records[0]:
        print(f"ground truth: Kendall tau between stand-alone seeds {records[0]['truth_seed_kendalltau']:.3f}")
    print(f"{len(records)} records in {time.perf_counter() - t0:.0f} s")
    if args.json:
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot and records:
        plot_oneshot(records, plot, title=f"{args.space} on {args.dataset}: one-shot vs stand-alone")
        print(f"wrote {plot}")
    return 0


def _print_oneshot_summary(records: list[dict[str, Any]]) -> None:
    """The last epoch of each (strategy, trick), mean over seeds, and every proxy."""
    last: dict[tuple[str, str], int] = {}
    for r in records:
        if "strategy" in r:
            key = (r["strategy"], r["trick"])
            last[key] = max(last.get(key, 0), r["epoch"])
    rows = []
    for (strategy, trick), epoch in last.items():
        rs = [r for r in records if r.get("strategy") == strategy and r["trick"] == trick and r["epoch"] == epoch]
        rows.append((f"{strategy} {trick}", epoch, rs))
    rows += [(f"zc {r['proxy']}", None, [r]) for r in records if "proxy" in r]
    head = f"{'estimator':<28}{'epoch':>6}{'kendalltau':>11}{'spearman':>9}{'p@top5':>8}{'br@1':>7}{'br@5':>7}"
    head += "  bias Q1..Q5"
    print(head)
    print("-" * len(head))
    for name, epoch, rs in rows:
        m = {
            k: float(np.mean([r[k] for r in rs])) for k in ("kendalltau", "spearman", "p_at_top5", "br_at_1", "br_at_5")
        }
        bias = " ".join(f"{v:+.2f}" for v in np.mean([r["bias_by_quintile"] for r in rs], axis=0))
        print(
            f"{name:<28}{'' if epoch is None else epoch:>6}{m['kendalltau']:>11.3f}{m['spearman']:>9.3f}"
            f"{m['p_at_top5']:>8.2f}{m['br_at_1']:>7.3f}{m['br_at_5']:>7.3f}  {bias}"
        )


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.suite == "proxies":
        from ._bench_proxies import run_proxies_bench
        from ._compile_cache import enable_compilation_cache

        if not args.no_cache:
            enable_compilation_cache()
        names = _proxy_names(args.proxies) if args.proxies else None
        steps = _int_list(args.archs_per_call, "--archs-per-call") if args.archs_per_call else None
        if steps is not None and min(steps) < 1:
            raise CliError(f"--archs-per-call must be positive integers. Got {args.archs_per_call!r}.")
        try:
            run_proxies_bench(
                json_out=args.json,
                repeats=args.repeats,
                n_archs=args.archs,
                proxies=names,
                archs_per_call=steps,
                space=args.space,
            )
        except ValueError as err:
            raise CliError(str(err)) from None
        return 0
    if args.suite == "curves":
        from ._bench_curves import run_curves_bench

        sizes = _int_list(args.sizes, "--sizes") if args.sizes else [2000]
        run_curves_bench(json_out=args.json, repeats=args.repeats, n_curves=sizes[0])
        return 0
    if args.suite == "score":
        from ._bench_score import run_score_bench

        sizes = _int_list(args.sizes, "--sizes") if args.sizes else [20_000]
        run_score_bench(json_out=args.json, repeats=args.repeats, n_archs=sizes[0], chunk_size=args.chunk_size)
        return 0
    if args.suite == "train":
        from ._bench_train import run_train_bench
        from ._compile_cache import enable_compilation_cache

        if not args.no_cache:
            enable_compilation_cache()
        sizes = _int_list(args.sizes, "--sizes") if args.sizes else [1, 8, 32]
        if any(n < 1 for n in sizes):
            raise CliError(f"--sizes must be positive integers. Got {args.sizes!r}.")
        run_train_bench(json_out=args.json, repeats=args.repeats, group_sizes=tuple(sizes), n_archs=args.archs)
        return 0
    if args.suite == "predict":
        from ._bench_predict import run_predict_bench

        sizes = _int_list(args.sizes, "--sizes") if args.sizes else [1, 1_000, 10_000, 100_000]
        if any(n < 1 for n in sizes):
            raise CliError(f"--sizes must be positive integers. Got {args.sizes!r}.")
        run_predict_bench(json_out=args.json, repeats=args.repeats, sizes=tuple(sizes))
        return 0
    if args.suite == "encode":
        from ._bench_encode import run_encode_bench

        sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else (10_000, 1_000_000)
        if any(n < 1 for n in sizes):
            raise CliError(f"--sizes must be positive integers. Got {args.sizes!r}.")
        run_encode_bench(json_out=args.json, repeats=args.repeats, sizes=sizes)
        return 0
    from ._bench import run_graph_bench

    run_graph_bench(
        json_out=args.json,
        repeats=args.repeats,
        oracle_dir=args.oracles,
        threads=args.threads,
        sample=args.sample,
    )
    return 0


def _int_at_least(minimum: int, what: str):
    """argparse type: an int >= minimum, with a message naming the option's meaning."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer. Got {value!r}.") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}. Got {n}.")
        return n

    return parse


_threads = _int_at_least(0, "threads (0 = all cores)")
_positive = _int_at_least(1, "this option")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyengine", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("hash", help="validate, prune and hash NB101 cells from JSON lines")
    p.add_argument("space", choices=["nb101"])
    p.add_argument("input", metavar="IN.jsonl", help="lines {'matrix': [[...]], 'ops': [...]} ('-' for stdin)")
    p.add_argument("--out", metavar="OUT.jsonl", help="output file (default: stdout)")
    p.add_argument("--threads", type=_threads, default=0, help="worker threads (0 = all cores)")
    p.set_defaults(func=_cmd_hash)

    p = sub.add_parser("enumerate", help="enumerate every unique valid cell of a space")
    p.add_argument("space", choices=["nb101"])
    p.add_argument("--out", required=True, metavar="FILE.npz", help="npz file to write (exactly this path)")
    p.add_argument("--no-hashes", action="store_true", help="skip the official hashes")
    p.add_argument("--threads", type=_threads, default=0, help="worker threads (0 = all cores)")
    p.set_defaults(func=_cmd_enumerate)

    p = sub.add_parser("unique", help="isomorphism classes of a space")
    p.add_argument("space", choices=["nb201"])
    p.add_argument("--out", metavar="FILE.jsonl", help="write the class of every cell as JSON lines")
    p.set_defaults(func=_cmd_unique)

    p = sub.add_parser("bench", help="microbenchmarks beside the official algorithms")
    p.add_argument("suite", choices=["graph", "encode", "predict", "train", "proxies", "score", "curves"])
    p.add_argument("--json", metavar="OUT", help="write {'machine': ..., 'records': [...]} to OUT")
    p.add_argument("--repeats", type=_positive, default=5, help="timed repeats per workload (median reported)")
    p.add_argument("--sample", type=_positive, default=200_000, help="cells per hashing workload")
    p.add_argument("--oracles", metavar="DIR", help="folder of the official-algorithm ports (default: tests/oracles)")
    p.add_argument("--threads", type=_threads, default=0, help="worker threads (0 = all cores)")
    p.add_argument(
        "--sizes",
        metavar="N,N",
        help="batch sizes (encode: 10000,1000000; predict: 1,1000,10000,100000; train: group sizes 1,8,32)",
    )
    p.add_argument(
        "--archs", type=_positive, default=32, help="train: architectures per group size; proxies: architectures timed"
    )
    p.add_argument(
        "--no-cache", action="store_true", help="train, proxies: no persistent compilation cache (cold compiles)"
    )
    p.add_argument("--proxies", help="proxies: comma-separated names (default: all)")
    p.add_argument(
        "--space", default="nb201", choices=["nb201", "nb101", "darts"], help="proxies: search space (default nb201)"
    )
    p.add_argument("--chunk-size", type=_positive, default=2048, help="score: architectures per chunk")
    p.add_argument(
        "--archs-per-call",
        metavar="N,N",
        help="proxies: architectures per compiled call, each timed (default: 1 on CPU, 256 on GPUs)",
    )
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("proxies", help="zero-cost proxies: validate against NASLib's records, or score architectures")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action in ("evaluate", "score"):
        q = actions.add_parser(
            action,
            help="validate against a NAS-Bench-Suite-Zero file" if action == "evaluate" else "score architectures",
        )
        if action == "score":
            q.add_argument("input", metavar="IN.jsonl", help="lines {'arch': ...} ('-' for stdin)")
            q.add_argument("--out", metavar="OUT.jsonl", help="output file (default: stdout)")
        else:
            q.add_argument(
                "--zc-json", metavar="FILE", help="a NAS-Bench-Suite-Zero JSON (default: the space's extract)"
            )
            q.add_argument("--limit", type=_positive, help="only the first N architectures of the file")
            q.add_argument("--json", metavar="OUT", help="write the table as JSON")
        q.add_argument("--space", default="nb201", help="search space (nb201 | nb101 | darts)")
        q.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
        q.add_argument(
            "--proxies", default=None, help="comma-separated names or 'all' (evaluate: all; score: required)"
        )
        q.add_argument("--batch-size", type=_int_at_least(2, "--batch-size"), default=32, help="minibatch (NASLib: 32)")
        q.add_argument("--images", metavar="FILE", help=".npz with 'images' (N,H,W,3) and optional 'labels', or .npy")
        q.add_argument("--seed", type=int, default=0, help="weights, noise batch, labels")
        q.add_argument(
            "--archs-per-call",
            type=_positive,
            help="architectures per compiled call (default: 1 on CPU; vmapped chunks on GPUs)",
        )
        q.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
        q.set_defaults(func=_cmd_proxies)

    p = sub.add_parser("oneshot", help="one-shot (weight-sharing) estimators against stand-alone training")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("evaluate", help="Ning et al.'s study: supernet ranking vs epochs, biases, zero-cost")
    q.add_argument("--space", default="nb201", help="search space (nb201)")
    q.add_argument("--dataset", default="digits", help="digits or FILE.npz (images, labels)")
    q.add_argument("--strategies", default="uniform,deiso,fair", help="path sampling: uniform, deiso, fair")
    q.add_argument("--seeds", default="0", help="supernet seeds, comma-separated")
    q.add_argument("--epochs", type=_positive, default=50, help="supernet training epochs")
    q.add_argument("--checkpoint-every", type=_positive, default=5, help="score every this many epochs")
    q.add_argument("--paths-per-step", type=_positive, default=1, help="paths averaged per step (5 + fair: FairNAS)")
    q.add_argument("--learning-rate", type=float, default=0.05, help="supernet SGD learning rate")
    q.add_argument("--temporal", type=_positive, default=3, help="checkpoints in the temporal ensemble (1: off)")
    q.add_argument("--recalibrate", type=int, default=4, help="batch-norm recalibration batches (0: off)")
    q.add_argument("--os-score", choices=("accuracy", "loss"), default="accuracy", help="one-shot score")
    q.add_argument("--truth-archs", type=_positive, default=100, help="architectures of the ground truth")
    q.add_argument("--truth-seeds", default="0,1", help="stand-alone training seeds, comma-separated")
    q.add_argument(
        "--truth-epochs",
        type=_positive,
        default=4,
        help="stand-alone training epochs (digits saturates by 12: seeds then disagree on the ranking)",
    )
    q.add_argument(
        "--truth-metric",
        default="val_accuracy",
        choices=("val_accuracy", "test_accuracy", "val_loss", "test_loss"),
        help="ground-truth field (mean over seeds; losses are negated)",
    )
    q.add_argument(
        "--proxies",
        default=",".join(("synflow", "jacob_cov", "nwot", "snip", "params")),
        help="zero-cost proxies on the same ground truth ('none': skip)",
    )
    q.add_argument("--cache", metavar="DIR", help="cache folder (default: $PYENGINE_CACHE_DIR or ~/.cache/pyengine)")
    q.add_argument("--json", metavar="OUT", help="write the records as JSON (rewritten after each)")
    q.add_argument("--plot", metavar="PNG", help="the curves (default: OUT with .png)")
    q.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    q.set_defaults(func=_cmd_oneshot)

    p = sub.add_parser("fit", help="fit a predictor on a table sample or a JSONL of architectures and save it")
    p.add_argument("--space", required=True, help="search space of the architectures")
    p.add_argument("--table", metavar="NAME_OR_FILE", help="a registered table name or a CSV")
    p.add_argument("--train", metavar="FILE.jsonl", help="lines {'arch': ..., 'value': ...} (field: --metric)")
    p.add_argument("--metric", help="table column (default: the table's), or the JSONL field (default: value)")
    p.add_argument("--predictor", default="gcn", help="a registered predictor name")
    p.add_argument("--train-size", type=_positive, default=100, help="rows sampled from --table")
    p.add_argument("--seed", type=_int_at_least(0, "--seed"), default=0, help="sample and predictor seed")
    p.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE", help="a predictor parameter")
    p.add_argument("--save", required=True, metavar="MODEL", help="write the fitted predictor to exactly MODEL")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("score", help="score a whole space or a JSONL with a saved model or a proxy, resumable")
    p.add_argument("input", nargs="?", metavar="IN.jsonl", help="architectures to score (or --all)")
    p.add_argument("--space", required=True, help="search space")
    p.add_argument("--all", action="store_true", help="every architecture of the space, in its listing order")
    p.add_argument("--model", metavar="MODEL", help="a file written by predictor.save / pyengine fit --save")
    p.add_argument("--proxy", metavar="NAME", help="a zero-cost proxy (pyengine.proxies)")
    p.add_argument("--out", required=True, metavar="OUT.jsonl", help="output; OUT.jsonl.ckpt holds the checkpoint")
    p.add_argument("--resume", action="store_true", help="continue the job of OUT's checkpoint")
    p.add_argument("--chunk-size", type=_positive, default=4096, help="architectures per chunk and checkpoint")
    p.add_argument("--seed", type=int, default=0, help="proxy: weights, noise batch, labels")
    p.add_argument("--batch-size", type=_int_at_least(2, "--batch-size"), default=32, help="proxy: minibatch")
    p.add_argument("--dataset", default="cifar10", help="proxy: cifar10 | cifar100 | ImageNet16-120")
    p.add_argument("--ray", metavar="local|ADDRESS", help="deal chunks to Ray workers (pip install .[ray])")
    p.add_argument("--workers", type=_positive, help="Ray: worker processes (default: the cluster's CPUs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("demo", help="the Neural Predictor workflow on real training (digits; no downloads)")
    p.add_argument("--n-train", type=_int_at_least(2, "--n-train"), default=48, help="cells trained first (N)")
    p.add_argument("--top-k", type=_int_at_least(2, "--top-k"), default=16, help="predicted cells trained (K)")
    p.add_argument("--seed", type=_int_at_least(0, "--seed"), default=0, help="sampling, weights and fits")
    p.add_argument("--epochs", type=_positive, help="training epochs per cell (default 10)")
    p.add_argument("--channels", type=_positive, help="channels of the first stage (default 4)")
    p.add_argument("--group-size", type=_positive, help="cells trained at once (default: 1 on CPU, 32 on GPU)")
    p.add_argument("--dataset", default="digits", help="'digits' or a .npz with arrays images and labels")
    p.add_argument("--out", default=os.path.join("results", "demo"), help="results folder (default results/demo)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("evaluate", help="evaluate predictors on a benchmark table")
    p.add_argument("--space", help="search space of the table (checked; needed for a CSV of another space's strings)")
    p.add_argument("--table", required=True, help="a registered table name (e.g. nb201_cifar10_200ep) or a CSV path")
    p.add_argument("--metric", help="the column to predict (default: the table's validation accuracy)")
    p.add_argument(
        "--predictors",
        default="rf,xgb,lgb,ngb",
        help="comma-separated predictor names (default rf,xgb,lgb,ngb; xgb, lgb and ngb need the boosting extra)",
    )
    p.add_argument("--train-sizes", help="comma-separated training sizes (default 5,8,14,24,42,71,121,205,500)")
    p.add_argument("--seeds", type=_positive, default=10, help="N runs with seeds 0..N-1 (default 10)")
    p.add_argument("--test-size", type=_int_at_least(2, "--test-size"), default=1000, help="test architectures")
    p.add_argument("--sampling", choices=["uniform", "mutation"], default="uniform", help="how test sets are drawn")
    p.add_argument(
        "--encoding",
        help="encoding of the vector-input predictors (default: each one's own; gcn always reads graphs)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME.PARAM=VALUE",
        help="a predictor parameter, VALUE as JSON (e.g. gcn_two_stage.threshold=0.91); repeatable",
    )
    p.add_argument("--defaults", choices=["tuned", "library"], default="tuned", help="starting hyperparameters")
    p.add_argument("--tune", action="store_true", help="cross-validated search on each training set")
    p.add_argument("--json", metavar="OUT", help="write the records (a JSON list) to OUT, updated after each fit")
    p.add_argument("--plot", metavar="PNG", help="Kendall tau plot (default: OUT with .png)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ray", metavar="local|ADDRESS", help="run the fits as Ray tasks (pip install .[ray])")
    p.add_argument("--workers", type=_positive, help="Ray: CPUs of a local runtime (default: all)")
    p.add_argument("--fidelity", type=_positive, help="epochs seen at query time (learning-curve predictors, OMNI)")
    p.add_argument("--fidelity-table", metavar="NAME_OR_CSV", help="a table of the same architectures at the fidelity")
    p.add_argument("--fidelity-metric", metavar="COLUMN", help="its column (default: its validation metric)")
    p.add_argument("--omni-features", metavar="LIST", help="OMNI's features, e.g. onehot,fidelity,jacob_cov")
    p.add_argument("--zc-json", metavar="FILE", help="zero-cost scores (NAS-Bench-Suite-Zero JSON) for OMNI")
    p.add_argument(
        "--time-column",
        metavar="COLUMN",
        help="the table's training-time column for init/query seconds (default: its train_seconds_E column)",
    )
    p.add_argument(
        "--plot-grid",
        metavar="PNG",
        help="White et al.'s grid: best predictor per init/query budget, as PNG and the same name with .json",
    )
    p.add_argument("--grid-bins", type=_positive, default=8, help="budgets per axis of --plot-grid (default 8)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("search", help="simulated NAS: searchers over many seeds on a benchmark table")
    p.add_argument("--space", help="search space (default: the table's); nb201 and nb101 pick a default table")
    p.add_argument("--table", help="registered table name or CSV path (default nb201_cifar10_200ep / nb101_20k)")
    p.add_argument("--metric", help="the column searched (default: the table's validation accuracy)")
    p.add_argument("--test-metric", help="the column reported, never searched (default: the table's; 'none')")
    p.add_argument("--searchers", default="rs,re,ls,bananas,np", help="comma-separated searcher names")
    p.add_argument("--budget", type=_positive, default=300, help="queries per run (default 300)")
    p.add_argument("--seeds", type=_positive, default=10, help="N runs per searcher with seeds 0..N-1 (default 10)")
    p.add_argument("--jobs", type=_positive, default=1, help="worker processes over (searcher, seed) (default 1)")
    p.add_argument("--ray", metavar="local|ADDRESS", help="(searcher, seed) runs as Ray tasks (--jobs: local CPUs)")
    p.add_argument("--pool", choices=["table", "space"], default="table", help="search the table's rows or the space")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME.PARAM=VALUE",
        help="a searcher parameter, VALUE as JSON (e.g. np.n_train=172, re.population_size=50); repeatable",
    )
    p.add_argument("--cost-table", help="table of a cost such as latency (e.g. nb201_latency)")
    p.add_argument("--cost-metric", help="the cost column (e.g. pixel3)")
    p.add_argument("--max-cost", type=float, help="hard bound on the cost for every searcher")
    p.add_argument("--pareto-j", type=_positive, help="np: soft-Pareto selection over the cost with this J (paper: 6)")
    p.add_argument("--tolerance", type=float, help="distance to the oracle counted as reached (default 0.1 points)")
    p.add_argument("--checkpoints", help="query counts reported (default 50,100,150,300)")
    p.add_argument("--json", metavar="OUT", help="write one record per (searcher, seed), a JSON list, as runs finish")
    p.add_argument("--plot", metavar="PNG", help="trajectory plot (default: OUT with .png)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("encode", help="encode architectures from JSON lines, one {'encoding': [...]} per line")
    p.add_argument("space", help="search space name (nb101, nb201, darts, macro, proxyless)")
    p.add_argument("encoding", help="encoding name (adjacency_one_hot/onehot, categorical, gcn, path, path_trunc)")
    p.add_argument(
        "input",
        metavar="IN.jsonl",
        help="lines such as {'arch': '|nor_conv_3x3~0|+...'}, {'matrix': ..., 'ops': ...}, "
        "{'naslib': ...} ('-' = stdin)",
    )
    p.add_argument("--out", metavar="OUT.jsonl", help="output file (default: stdout)")
    p.add_argument("--k", type=_positive, default=None, help="path_trunc: number of leading paths kept (default 40)")
    p.set_defaults(func=_cmd_encode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
