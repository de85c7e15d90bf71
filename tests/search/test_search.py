"""Searchers on real tables: the ask/tell contract over every registered searcher, each
strategy's own behaviour, constraints, failures, history files and resume, and the harness."""

import json
import math

import numpy as np
import pytest

from pyengine.search import (
    SEARCHERS,
    ExhaustedError,
    FunctionObjective,
    History,
    HistoryError,
    TableColumn,
    get_searcher,
    run,
    simulate,
    soft_pareto,
    summarize,
)
from pyengine.spaces import get_space
from pyengine.spaces._base import take
from pyengine.tables import load_table

# small but real settings for the neural searchers, so the battery stays quick
FAST = {
    "bananas": {"n_init": 10, "predictor_params": {"epochs": 30}},
    "npenas": {"n_init": 10, "predictor_params": {"epochs": 20, "batch_size": 32}},
    "np": {"n_train": 30, "predictor_params": {"epochs": 100, "batch_size": 16, "defaults": "tuned"}},
}
BUDGET = 40


@pytest.fixture(scope="module")
def nb201(data_dir):
    return load_table("nb201_cifar10_200ep")


@pytest.fixture(scope="module")
def latency(data_dir):
    return load_table("nb201_latency")


def _searcher(name, seed=0, **extra):
    return get_searcher(name, "nb201", random_state=seed, **{**FAST.get(name, {}), **extra})


@pytest.fixture(scope="module")
def histories(nb201):
    """Two runs with seed 0 and one with seed 1 of every searcher."""
    out = {}
    for name in SEARCHERS.names():
        out[name] = [run(_searcher(name, seed), nb201, BUDGET) for seed in (0, 0, 1)]
    return out


@pytest.mark.parametrize("name", SEARCHERS.names())
def test_every_searcher_spends_the_budget_on_distinct_classes(name, histories, nb201):
    h = histories[name][0]
    assert len(h) == BUDGET and h.stop_reason is None
    space = nb201.space
    keys = space.canonical_keys(space.from_strings(h.archs))
    assert len(np.unique(keys)) == BUDGET  # never an isomorph of an evaluated architecture
    assert np.isfinite(h.values).all() and not h.failures
    np.testing.assert_allclose(h.values, nb201.query(space.from_strings(h.archs)))
    np.testing.assert_allclose(h.tests, nb201.query(space.from_strings(h.archs), "cifar10_testacc"))
    bv, bt = h.best_so_far()
    assert np.all(np.diff(bv) >= 0) and bv[-1] == h.values.max()
    assert bt[-1] == h.tests[int(np.argmax(h.values))]


@pytest.mark.parametrize("name", SEARCHERS.names())
def test_every_searcher_is_deterministic_in_its_seed(name, histories):
    a, b, c = histories[name]
    assert a.archs == b.archs
    assert a.archs != c.archs


@pytest.mark.parametrize("name", SEARCHERS.names())
def test_tell_rejects_architectures_never_asked(name, nb201):
    s = _searcher(name)
    batch = s.ask(3)
    other = nb201.space.sample(40, 99, unique=True)
    keys = set(nb201.space.canonical_keys(batch).tolist())
    stranger = take(other, [i for i, k in enumerate(nb201.space.canonical_keys(other)) if k not in keys][:1])
    with pytest.raises(ValueError, match="did not ask for"):
        s.tell(stranger, [90.0])
    with pytest.raises(ValueError, match="3 architectures and 2 values"):
        s.tell(batch, [1.0, 2.0])
    s.tell(batch, [90.0, 80.0, 70.0])
    with pytest.raises(ValueError, match="already told"):
        s.tell(take(batch, [0]), [90.0])


def test_unknown_searcher_lists_the_names():
    with pytest.raises(ValueError, match="Unknown searcher 'sa'.*bananas.*np.*re.*rs"):
        get_searcher("sa", "nb201")


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("re", {}, "initial population of 20"),
        ("bananas", {}, "initial design of 10"),
        ("ls", {}, "10 initial random"),
    ],
)
def test_budget_smaller_than_the_initial_design(name, params, message, nb201):
    with pytest.raises(ValueError, match=message):
        run(get_searcher(name, "nb201", **params), nb201, 5)


def test_np_budget_must_leave_room_for_k(nb201):
    with pytest.raises(ValueError, match="nothing after the N=30"):
        run(_searcher("np"), nb201, 30)


def test_regularized_evolution_children_are_one_edit_from_the_population(nb201):
    space = nb201.space
    h = run(get_searcher("re", "nb201", population_size=10, tournament_size=3, random_state=3), nb201, 80)
    ops = space.from_strings(h.archs).ops
    for q in range(10, 80):
        # a child differs from some architecture evaluated before it in one edge (two where every
        # one-edit child of its parent was already evaluated)
        dist = (ops[:q] != ops[q]).sum(axis=1)
        assert dist.min() <= 2
    one = sum((ops[:q] != ops[q]).sum(axis=1).min() == 1 for q in range(10, 80))
    assert one >= 60


def test_local_search_walks_neighbourhoods_and_beats_random_search(nb201):
    space = nb201.space
    h = run(get_searcher("ls", "nb201", random_state=0), nb201, 60)
    ops = space.from_strings(h.archs).ops
    steps = [(ops[:q] != ops[q]).sum(axis=1).min() for q in range(10, 60)]
    assert np.mean(np.array(steps) == 1) > 0.8
    ls = [run(get_searcher("ls", "nb201", random_state=s), nb201, 100).best_so_far()[0][-1] for s in range(6)]
    rs = [run(get_searcher("rs", "nb201", random_state=s), nb201, 100).best_so_far()[0][-1] for s in range(6)]
    assert np.mean(ls) > np.mean(rs)


def test_local_search_best_improvement_mode(nb201):
    """Replayed from the table: after the initial design, each round is exactly the current
    architecture's unseen neighbourhood; the search then moves to the round's best member if it
    beats the current one (the next round is that member's neighbourhood), else restarts from one
    random architecture."""
    space = nb201.space
    h = run(get_searcher("ls", "nb201", mode="best", random_state=2), nb201, 100)
    assert len(h) == 100 and len(set(h.archs)) == 100
    batch = space.from_strings(h.archs)
    keys = space.canonical_keys(batch).tolist()
    vals = nb201.query(batch)
    q, centre, moves, restarts = 10, int(np.argmax(vals[:10])), 0, 0
    while q < len(h):
        seen = set(keys[:q])
        fresh = {k for k in space.canonical_keys(space.neighbors(take(batch, [centre]))).tolist() if k not in seen}
        assert fresh, "every round of this run has an unseen one-edit neighbour"
        end = min(q + len(fresh), len(h))
        assert set(keys[q:end]) <= fresh and len(set(keys[q:end])) == end - q
        if end - q < len(fresh):
            break  # the budget ends inside this round
        best = q + int(np.argmax(vals[q:end]))
        q = end
        if vals[best] > vals[centre]:
            centre, moves = best, moves + 1
        else:
            centre, q, restarts = q, q + 1, restarts + 1
    assert moves >= 1 and restarts >= 1  # both branches ran


def test_neural_predictor_proposes_what_it_predicts_best(nb201):
    s = _searcher("np", seed=4)
    h = run(s, nb201, 60)
    first, second = h.values[:30], h.values[30:]
    # the K proposals are the predictor's top picks: far better than the N random ones
    assert second.mean() > first.mean() + 2.0
    assert np.mean(second > np.median(nb201.column())) >= 0.9
    pred = s.model_.predict(nb201.space.from_strings(h.archs[30:]))
    assert np.corrcoef(pred, np.arange(30))[0, 1] < 0  # proposed best-predicted first


def test_neural_predictor_default_n_is_half_the_budget(nb201):
    s = get_searcher("np", "nb201", predictor_params={"epochs": 10})
    s.plan(80)
    assert s.params()["n_train"] == 40


def test_soft_pareto_with_j1_is_the_pareto_front():
    rng = np.random.default_rng(0)
    for _ in range(20):
        pred, cost = rng.normal(size=60), rng.random(60)
        front = soft_pareto(pred, cost, j=1)
        brute = [i for i in range(60) if not np.any((cost < cost[i]) & (pred >= pred[i]))]
        assert sorted(front.tolist()) == sorted(brute)
        wide = soft_pareto(pred, cost, j=6)
        assert set(front.tolist()) <= set(wide.tolist())
        assert np.all(np.diff(cost[wide]) >= 0)


def test_soft_pareto_rejects_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        soft_pareto([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="'j' parameter of soft_pareto"):
        soft_pareto([1.0], [1.0], j=0)


@pytest.mark.parametrize("name", ["rs", "re", "ls", "np"])
def test_hard_latency_bound_holds_for_every_proposal(name, nb201, latency):
    cost = TableColumn(latency, "pixel3")
    bound = float(np.nanpercentile(latency.column("pixel3"), 30))
    s = _searcher(name, seed=1, cost=cost, max_cost=bound)
    h = run(s, nb201, 40)
    assert np.all(cost(nb201.space.from_strings(h.archs)) <= bound)


def test_soft_pareto_selection_in_the_neural_predictor(nb201, latency):
    cost = TableColumn(latency, "pixel3")
    s = _searcher("np", seed=2, cost=cost, pareto_j=6)
    h = run(s, nb201, 50)
    picked = nb201.space.from_strings(h.archs[30:])
    pred = s.model_.predict(picked)
    c = cost(picked)
    # the proposals come from the soft-Pareto set of the scored space: no proposal is beaten in
    # prediction by six cheaper proposals
    order = np.argsort(c, kind="stable")
    assert len(soft_pareto(pred[order], c[order], j=6)) >= 15


def test_constraints_need_a_cost(nb201):
    with pytest.raises(ValueError, match="needs a 'cost'"):
        get_searcher("rs", "nb201", max_cost=3.0)
    with pytest.raises(ValueError, match="needs a 'cost'"):
        get_searcher("np", "nb201", pareto_j=6)


def test_failing_objective_is_recorded_and_the_run_goes_on(nb201):
    calls = []

    def train(arch):
        calls.append(arch)
        if len(calls) % 7 == 0:
            raise RuntimeError("out of memory")
        if len(calls) % 11 == 0:
            return float("nan")
        return float(nb201.query(arch)[0]), 1.0

    h = run(get_searcher("re", "nb201", random_state=0), train, 50)
    assert len(h) == 50 and len(calls) == 50
    errors = [e["error"] for e in h.failures]
    assert sum("RuntimeError: out of memory" in e for e in errors) == 7
    assert sum("returned nan" in e for e in errors) == 4
    assert all(e["value"] is None for e in h.failures)
    best = h.best()
    assert best is not None and best["value"] == np.nanmax(h.values)


def test_batched_objective_and_a_wrong_shape(nb201):
    def train(batch):
        return nb201.query(batch)

    h = run(get_searcher("rs", "nb201"), FunctionObjective(train, nb201.space, batched=True), 20, batch_size=5)
    assert not h.failures and len(h) == 20
    bad = FunctionObjective(lambda b: np.zeros(2), nb201.space, batched=True)
    h = run(get_searcher("rs", "nb201"), bad, 10, batch_size=5)
    assert len(h.failures) == 10 and "returned shape (2,)" in h.failures[0]["error"]


def test_interrupted_run_resumes_without_recomputing(nb201, tmp_path):
    path = tmp_path / "re.jsonl"
    calls = []

    def train(arch):
        if len(calls) == 23:
            raise KeyboardInterrupt
        calls.append(arch)
        return float(nb201.query(arch)[0])

    with pytest.raises(KeyboardInterrupt):
        run(get_searcher("re", "nb201", random_state=5), train, 40, history=path)
    assert len(History.load(path)) == 23  # every finished query is on disk
    calls.clear()
    n_before = len(calls)

    def counted(arch):
        calls.append(arch)
        return float(nb201.query(arch)[0])

    h = run(get_searcher("re", "nb201", random_state=5), counted, 40, history=path)
    assert len(calls) - n_before == 17  # only the queries not yet recorded
    whole = run(get_searcher("re", "nb201", random_state=5), nb201, 40)
    assert h.archs == whole.archs
    assert History.load(path).archs == whole.archs


def test_history_file_errors(nb201, tmp_path):
    path = tmp_path / "h.jsonl"
    run(get_searcher("rs", "nb201", random_state=1), nb201, 12, history=path)
    text = path.read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[:-9])  # a crash in the middle of the last line
    assert len(History.load(cut)) == 11
    with pytest.raises(HistoryError, match="different|records 'rs'"):
        run(get_searcher("re", "nb201", random_state=1), nb201, 30, history=path)
    with pytest.raises(HistoryError, match="parameters"):
        run(get_searcher("rs", "nb201", random_state=2), nb201, 30, history=path)
    head = json.loads(text.split("\n")[0])
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({**head, "version": 99}) + "\n")
    with pytest.raises(HistoryError, match="version 99"):
        History.load(newer)
    bad = tmp_path / "bad.jsonl"
    lines = text.split("\n")
    lines[3] = "{not json"
    bad.write_text("\n".join(lines))
    with pytest.raises(HistoryError, match="line 4"):
        History.load(bad)
    with pytest.raises(HistoryError, match="not a pyengine search history"):
        (tmp_path / "x.jsonl").write_text('{"a": 1}\n')
        History.load(tmp_path / "x.jsonl")


def test_diverging_history_is_refused(nb201, tmp_path):
    path = tmp_path / "h.jsonl"
    run(get_searcher("rs", "nb201", random_state=1), nb201, 12, history=path)
    lines = path.read_text().split("\n")
    e = json.loads(lines[2])
    e["arch"] = nb201.space.to_strings(nb201.space.sample(1, 77))[0]
    lines[2] = json.dumps(e)
    path.write_text("\n".join(lines))
    with pytest.raises(HistoryError, match="diverges at query 2"):
        run(get_searcher("rs", "nb201", random_state=1), nb201, 20, history=path)


def test_pool_restricts_and_exhausts(nb201):
    pool = take(nb201.archs, np.arange(0, 15625, 1000))  # 16 rows
    keys = set(nb201.space.canonical_keys(pool).tolist())
    h = run(get_searcher("re", "nb201", population_size=5, tournament_size=2, pool=pool), nb201, 30)
    assert h.stop_reason == "exhausted" and len(h) == len(keys)
    assert set(nb201.space.canonical_keys(nb201.space.from_strings(h.archs)).tolist()) == keys
    s = get_searcher("rs", "nb201", pool=pool)
    batch = s.ask(len(keys) + 5)
    assert len(batch.ops) == len(keys)
    assert len(s.ask(1).ops) == 0  # nothing new, but values are still pending
    s.tell(batch, np.zeros(len(keys)))
    with pytest.raises(ExhaustedError):
        s.ask(1)


def test_nb101_search_stays_within_the_20k_table(data_dir):
    table = load_table("nb101_20k")
    for name in ("re", "bananas"):
        s = get_searcher(name, "nb101", pool=table.archs, random_state=0, **FAST.get(name, {}))
        h = run(s, table, 40)
        assert not h.failures and len(h) == 40
        assert (table.indices(table.space.from_strings(h.archs)) >= 0).all()


def test_simulate_records_and_parallel_equals_serial(nb201):
    recs = simulate(nb201, ["rs", "re"], 30, 2)
    assert [(r["searcher"], r["seed"]) for r in recs] == [("rs", 0), ("rs", 1), ("re", 0), ("re", 1)]
    for r in recs:
        assert r["queries"] == list(range(1, 31))
        assert len(r["best_valid"]) == 30 and len(r["best_test"]) == 30
    par = simulate(nb201, ["rs", "re"], 30, 2, jobs=2)
    assert [r["best_valid"] for r in par] == [r["best_valid"] for r in recs]
    for r in recs:
        assert r["best_valid"] == np.maximum.accumulate(r["values"]).tolist()
    # an oracle that some runs come within the tolerance of and some do not
    tol = 0.05
    target = sorted(r["best_valid"][-1] for r in recs)[1] + tol
    rows = summarize(recs, target, tolerance=tol, checkpoints=(10, 30))
    assert [r["searcher"] for r in rows] == ["rs", "re"]
    for row in rows:
        runs = [r for r in recs if r["searcher"] == row["searcher"]]
        firsts = [
            next((q for q, v in zip(r["queries"], r["best_valid"], strict=True) if v >= target - tol), 0) for r in runs
        ]
        hit = [q for q in firsts if q]
        assert row["reached"] == len(hit)
        assert row["queries_to_oracle_mean"] == (pytest.approx(np.mean(hit)) if hit else None)
        assert row["queries_to_oracle_median"] == (pytest.approx(np.median(hit)) if hit else None)
        for c in (10, 30):
            assert row["checkpoints"][c]["valid_mean"] == pytest.approx(np.mean([r["best_valid"][c - 1] for r in runs]))
    assert 0 < sum(row["reached"] for row in rows) < len(recs)


def test_simulate_rejects_bad_arguments(nb201):
    with pytest.raises(ValueError, match="Unknown metric"):
        simulate(nb201, ["rs"], 10, 1, metric="nope")
    with pytest.raises(ValueError, match="not among"):
        simulate(nb201, ["rs"], 10, 1, searcher_params={"re": {}})
    with pytest.raises(ValueError, match="initial population"):
        simulate(nb201, ["re"], 10, 1)


def test_objective_space_must_match(nb201):
    with pytest.raises(ValueError, match="over nb201; the searcher searches nb101"):
        run(get_searcher("rs", get_space("nb101")), nb201, 5)


def test_table_failures_are_recorded(nb201):
    table = nb201.subset(np.arange(100))
    h = run(get_searcher("rs", "nb201", random_state=0), table, 20)
    assert len(h) == 20
    assert all("not in table" in e["error"] for e in h.failures)
    assert len(h.failures) > 10 and not math.isnan(np.nanmax(h.values))


def test_cli_search_writes_records_and_plot(data_dir, tmp_path, capsys):
    from pyengine.cli import main

    out = tmp_path / "search.json"
    code = main(
        ["search", "--space", "nb201", "--searchers", "rs,re", "--budget", "30", "--seeds", "2"]
        + ["--checkpoints", "10,30", "--json", str(out), "--no-progress"]
    )
    assert code == 0
    recs = json.loads(out.read_text())
    assert [(r["searcher"], r["seed"]) for r in recs] == [("rs", 0), ("rs", 1), ("re", 0), ("re", 1)]
    for r in recs:
        assert {"searcher", "seed", "queries", "best_valid", "best_test"} <= set(r)
        assert r["queries"] == list(range(1, 31)) and len(r["best_test"]) == 30
    assert (tmp_path / "search.png").stat().st_size > 10_000
    text = capsys.readouterr().out
    assert "oracle cifar10_valid_valacc 91.61" in text and "valid@30" in text and "test@10" in text


def test_cli_search_generic_csv_without_test_metric(data_dir, tmp_path, capsys):
    from pyengine.cli import main

    out = tmp_path / "s.json"
    csv = data_dir / "nb201" / "nb201_all_12epoch.csv"
    code = main(
        ["search", "--table", str(csv), "--metric", "cifar100_valacc", "--searchers", "ls", "--budget", "20"]
        + ["--seeds", "1", "--json", str(out), "--no-progress"]
    )
    assert code == 0
    (rec,) = json.loads(out.read_text())
    assert rec["best_test"] is None and len(rec["best_valid"]) == 20


def test_cli_search_latency_constraint(data_dir, tmp_path, capsys):
    from pyengine.cli import main

    out = tmp_path / "c.json"
    code = main(
        ["search", "--space", "nb201", "--searchers", "rs", "--budget", "20", "--seeds", "1"]
        + ["--cost-table", "nb201_latency", "--cost-metric", "pixel3", "--max-cost", "20", "--json", str(out)]
        + ["--no-progress"]
    )
    assert code == 0
    latency = TableColumn(load_table("nb201_latency"), "pixel3")
    best = json.loads(out.read_text())[0]["best_arch"]
    assert latency(get_space("nb201").from_strings([best]))[0] <= 20
    assert "within --max-cost 20" in capsys.readouterr().out  # the oracle is the best feasible cell


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--searchers", "rs,sa"], "Unknown searcher 'sa'"),
        (["--searchers", "re", "--budget", "10"], "initial population of 20"),
        (["--metric", "nope"], "Unknown metric 'nope'"),
        (["--max-cost", "3"], "need --cost-table"),
        (["--set", "rs.deiso"], "NAME.PARAM=VALUE"),
    ],
)
def test_cli_search_bad_input(data_dir, argv, match, capsys):
    from pyengine.cli import main

    assert main(["search", "--space", "nb201", "--seeds", "1", "--no-progress", *argv]) == 1
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("space", ["darts", "macro"])
@pytest.mark.parametrize("name", SEARCHERS.names())
def test_every_searcher_runs_on_other_spaces_with_a_function(name, space):
    def train(arch):  # a deterministic stand-in for a user's training code
        return float(sum(map(ord, arch)) % 97)

    params = {**FAST.get(name, {})}
    if name == "np":
        params = {"n_train": 12, "n_candidates": 2000, "predictor_params": {"epochs": 20}}
    h = run(get_searcher(name, space, random_state=0, **params), train, 24)
    sp = get_space(space)
    assert len(h) == 24 and not h.failures
    assert len(np.unique(sp.canonical_keys(sp.from_strings(h.archs)).tolist())) == 24
