"""Scoring on a real local Ray cluster (loopback): results equal the single-process run byte for
byte, also when a worker process is killed mid-run; an address that does not answer fails with a
typed error after the connection timeout."""

import os
import signal
import socket

import pytest
import ray

from pyengine.cli import main
from pyengine.scoring import ModelScorer, ScoreSource, score_job
from pyengine.scoring._ray import RayUnavailableError, check_address, ray_executor

from .test_score_job import model  # noqa: F401  (the fitted GCN fixture)


@pytest.mark.ray
def test_two_workers_one_killed_mid_run_give_the_single_process_result(model, tmp_path):  # noqa: F811
    src = ScoreSource("nb201")
    once = tmp_path / "once.jsonl"
    score_job(src, ModelScorer(str(model), "nb201"), str(once), chunk_size=500)
    run = ray_executor("local", workers=2)
    killed: list[int] = []
    after: list[int] = []

    def progress(lines, total):
        if not killed and lines >= 1000:
            pid = ray.get(run.actors[0].pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        elif killed and not after and lines >= 6000:
            after.append(ray.get(run.actors[0].pid.remote()))

    try:
        out = tmp_path / "ray.jsonl"
        score_job(src, ModelScorer(str(model), "nb201"), str(out), chunk_size=500, executor=run, progress=progress)
        assert killed and after and after[0] != killed[0]  # the actor came back in a new process
        assert out.read_bytes() == once.read_bytes()
    finally:
        ray.shutdown()


@pytest.fixture
def silent_port():
    """A loopback port whose listener never accepts and whose backlog is full: a connection
    attempt gets no answer at all (neither accepted nor refused), so only a timeout ends it."""
    server = socket.socket()
    clients = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(16):
            c = socket.socket()
            clients.append(c)
            c.settimeout(0.2)
            try:
                c.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("the loopback listener's backlog never filled")
        yield port
    finally:
        for c in clients:
            c.close()
        server.close()


def test_an_address_that_does_not_answer_times_out_with_a_typed_error(silent_port):
    with pytest.raises(RayUnavailableError, match=rf"127\.0\.0\.1:{silent_port} does not answer \(timed out\)"):
        check_address(f"127.0.0.1:{silent_port}", timeout=0.3)


def test_a_refusing_or_malformed_address_fails_from_the_command_line(tmp_path, capsys):
    with pytest.raises(RayUnavailableError, match=r"127\.0\.0\.1:1 does not answer \(Connection refused\)"):
        check_address("127.0.0.1:1")
    args = ["score", "--space", "nb201", "--all", "--proxy", "synflow", "--out", str(tmp_path / "o"), "--ray"]
    assert main([*args, "127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert "127.0.0.1:1 does not answer (Connection refused)" in err and "ray start --head" in err
    assert not (tmp_path / "o").exists()  # nothing scored
    assert main([*args, "nonsense"]) == 1
    assert "The Ray address 'nonsense' must be 'local' or HOST:PORT" in capsys.readouterr().err


@pytest.mark.ray
def test_evaluator_and_search_units_on_ray_equal_the_embedded_run(data_dir):
    from pyengine.evaluation import PredictorEvaluator
    from pyengine.search import simulate
    from pyengine.tables import load_table

    table = load_table("nb201_cifar10_200ep")
    ev = dict(train_sizes=[20, 40], seeds=2, test_size=200)
    try:
        here = PredictorEvaluator(table, ["blr", "rf"], **ev).run()
        seen = []
        there = PredictorEvaluator(table, ["blr", "rf"], **ev).run(ray="local", workers=2, on_record=seen.append)
        assert len(seen) == len(there) == len(here) == 8
        key = ("predictor", "train_size", "seed")
        assert [tuple(r[k] for k in key) for r in there] == [tuple(r[k] for k in key) for r in here]
        for a, b in zip(there, here, strict=True):  # rf sums its trees in thread order: rounding apart
            assert [a[k] for k in ("kendalltau", "spearman", "mae")] == pytest.approx(
                [b[k] for k in ("kendalltau", "spearman", "mae")], rel=1e-12
            )
        runs = simulate(table, ["rs", "re"], budget=25, seeds=2)
        on_ray = simulate(table, ["rs", "re"], budget=25, seeds=2, ray="local")
        assert [(r["searcher"], r["seed"], r["best_valid"]) for r in on_ray] == [
            (r["searcher"], r["seed"], r["best_valid"]) for r in runs
        ]
    finally:
        ray.shutdown()
