"""`pyengine fit` / `pyengine score`: whole-space scoring streamed in chunks with a checkpoint,
resumption after a killed driver, refusals and typed errors."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import pyengine
from pyengine.cli import main
from pyengine.predictors import get_predictor
from pyengine.scoring import CheckpointError, ModelScorer, ProxyScoreFn, ScoreSource, checkpoint_path, score_job
from pyengine.spaces import get_space


@pytest.fixture(scope="module")
def model(data_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "gcn.model"
    args = ["fit", "--space", "nb201", "--table", "nb201_cifar10_200ep", "--predictor", "gcn", "--train-size", "60"]
    assert main([*args, "--seed", "0", "--set", "epochs=20", "--set", "n_ensemble=3", "--save", str(path)]) == 0
    assert path.exists() and not any(p.name != "gcn.model" for p in path.parent.iterdir())
    return path


def _read(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def test_score_all_writes_the_space_in_order_with_std(model, tmp_path, capsys):
    out = tmp_path / "all.jsonl"
    assert main(["score", "--space", "nb201", "--all", "--model", str(model), "--out", str(out), "--no-progress"]) == 0
    assert "15625 lines" in capsys.readouterr().out
    rows = _read(out)
    space = get_space("nb201")
    everything = space.all()
    assert [r["arch"] for r in rows] == space.to_strings(everything)
    mean, std = pyengine.load(model).predict(everything, return_std=True)
    np.testing.assert_allclose([r["score"] for r in rows], mean, rtol=1e-12)
    np.testing.assert_allclose([r["std"] for r in rows], std, rtol=1e-12, atol=1e-12)
    ck = json.loads(open(checkpoint_path(out)).read())
    assert ck["complete"] and ck["lines"] == 15625 and ck["bytes"] == os.path.getsize(out)
    # an existing output is never overwritten; a complete job resumed is left as it is
    assert main(["score", "--space", "nb201", "--all", "--model", str(model), "--out", str(out)]) == 1
    assert "--resume" in capsys.readouterr().err
    before = out.read_bytes()
    assert main(["score", "--space", "nb201", "--all", "--model", str(model), "--out", str(out), "--resume"]) == 0
    assert out.read_bytes() == before


class _Crash(Exception):
    pass


def _crashing(after):
    def run(scorer, chunks):
        for i, (k, archs) in enumerate(chunks):
            if i == after:
                raise _Crash
            from pyengine.scoring._job import score_chunk

            yield k, score_chunk(scorer, archs)

    return run


def test_resume_after_a_crash_equals_one_run(model, tmp_path):
    src = ScoreSource("nb201")
    once = tmp_path / "once.jsonl"
    score_job(src, ModelScorer(str(model), "nb201"), str(once), chunk_size=1000)
    out = tmp_path / "crash.jsonl"
    with pytest.raises(_Crash):
        score_job(src, ModelScorer(str(model), "nb201"), str(out), chunk_size=1000, executor=_crashing(5))
    with open(out, "ab") as fh:  # a chunk cut off halfway through its write
        fh.write(b'{"arch": "|nor_conv_3x3~0|+|no')
    with pytest.raises(CheckpointError, match="another job"):
        score_job(src, ModelScorer(str(model), "nb201"), str(out), chunk_size=500, resume=True)
    r = score_job(src, ModelScorer(str(model), "nb201"), str(out), chunk_size=1000, resume=True)
    assert r["resumed_from"] == 5000 and r["lines"] == 15625 - 5000
    assert out.read_bytes() == once.read_bytes()


def test_killed_driver_resumes_without_loss_or_duplicates(model, tmp_path):
    """A real process killed with SIGKILL mid-run, then `--resume`."""
    inp = tmp_path / "in.jsonl"
    space = get_space("nb201")
    strings = space.to_strings(space.all())
    inp.write_text("".join(json.dumps({"arch": s}) + "\n" for s in strings))
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-c", "import sys; from pyengine.cli import main; sys.exit(main(sys.argv[1:]))"]
    cmd += ["score", str(inp), "--space", "nb201", "--model", str(model), "--out", str(out), "--chunk-size", "16"]
    # run from tmp_path: `python -c` puts its current directory first on the import path
    proc = subprocess.Popen([*cmd, "--no-progress"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = checkpoint_path(out)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(open(ckpt).read())["chunks_done"] >= 3:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    if proc.poll() is not None:
        err = proc.stderr.read().decode()[-2000:]
        pytest.fail(f"the run ended (status {proc.returncode}) before it could be killed: {err}")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(open(ckpt).read())
    assert not done["complete"] and done["lines"] < len(strings)
    again = subprocess.run([*cmd, "--resume", "--no-progress"], cwd=tmp_path, capture_output=True)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    rows = _read(out)
    assert [r["arch"] for r in rows] == strings  # every line once, in input order
    mean = pyengine.load(model).predict(strings)
    np.testing.assert_allclose([r["score"] for r in rows], mean, rtol=1e-12)


def test_proxy_scores_and_jsonl_input(tmp_path, capsys):
    space = get_space("nb201")
    strings = space.to_strings(space.all())[100:110]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"arch": s}) + "\n" for s in strings))
    out = tmp_path / "p.jsonl"
    assert main(["score", str(inp), "--space", "nb201", "--proxy", "params", "--out", str(out), "--no-progress"]) == 0
    rows = _read(out)
    assert [r["arch"] for r in rows] == strings and all(r["std"] is None for r in rows)
    from pyengine.proxies import score_proxies

    np.testing.assert_allclose([r["score"] for r in rows], score_proxies("nb201", strings, ["params"])["params"])


def test_bad_input_is_refused(model, tmp_path, capsys):
    base = ["score", "--space", "nb201", "--out", str(tmp_path / "o.jsonl"), "--no-progress"]
    assert main([*base, "--all", "--proxy", "nope"]) == 1
    assert "Unknown zero-cost proxy 'nope'" in capsys.readouterr().err
    assert main(["score", "--space", "nb101", "--all", "--model", str(model), "--out", str(tmp_path / "x")]) == 1
    assert "fitted on nb201 architectures, not nb101" in capsys.readouterr().err
    assert main([*base, "--all"]) == 1 and "--model MODEL or --proxy" in capsys.readouterr().err
    assert main([*base, "--proxy", "params"]) == 1 and "--all or IN.jsonl" in capsys.readouterr().err
    assert main(["score", "--space", "darts", "--all", "--proxy", "params", "--out", str(tmp_path / "d")]) == 1
    assert "too large to list" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()  # nothing written for a source that cannot be read
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"}\n[1]\n')
    assert main(["score", str(bad), "--space", "nb201", "--proxy", "params", "--out", str(tmp_path / "b")]) == 1
    assert "line 2: expected an object" in capsys.readouterr().err
    not_model = tmp_path / "not_model"
    not_model.write_text("{}")
    assert main([*base, "--all", "--model", str(not_model)]) == 1
    assert "not a readable pyengine model" in capsys.readouterr().err

    # checkpoints: corrupt, or an output shorter than its checkpoint
    out = tmp_path / "c.jsonl"
    score_job(ScoreSource("nb201"), ProxyScoreFn("params", "nb201"), str(out), chunk_size=5000)
    ckpt = checkpoint_path(out)
    good = open(ckpt).read()
    ck = json.loads(good)
    ck["complete"] = False
    open(ckpt, "w").write(json.dumps(ck))
    with open(out, "r+b") as fh:
        fh.truncate(100)
    with pytest.raises(CheckpointError, match="shorter"):
        score_job(ScoreSource("nb201"), ProxyScoreFn("params", "nb201"), str(out), chunk_size=5000, resume=True)
    open(ckpt, "w").write(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="cannot be read"):
        score_job(ScoreSource("nb201"), ProxyScoreFn("params", "nb201"), str(out), chunk_size=5000, resume=True)


def test_fit_from_jsonl_and_bad_values(data_dir, tmp_path, capsys):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    strings, y = t.strings()[:40], t.column()[:40]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"arch": s, "acc": float(v)}) + "\n" for s, v in zip(strings, y, strict=True)))
    path = tmp_path / "blr"
    args = ["fit", "--space", "nb201", "--train", str(train), "--metric", "acc", "--predictor", "blr", "--save"]
    assert main([*args, str(path)]) == 0
    np.testing.assert_allclose(
        pyengine.load(path).predict(strings),
        get_predictor("blr", space="nb201", random_state=0).fit(strings, y).predict(strings),
    )
    train.write_text(json.dumps({"arch": strings[0], "acc": float("nan")}) + "\n" + train.read_text())
    assert main([*args, str(tmp_path / "nan")]) == 1
    assert "NaN" in capsys.readouterr().err and not (tmp_path / "nan").exists()
    assert main(["fit", "--space", "nb201", "--train", str(train), "--save", str(tmp_path / "v")]) == 1
    assert "missing field 'value'" in capsys.readouterr().err
