"""The pyengine command line: JSONL contract, errors, enumeration file, classes, bench records."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from oracles import nb101_official as official

from pyengine.cli import main
from pyengine.tables import read_naslib_zc

CHAIN = {"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv3x3-bn-relu", "output"]}


def _write(tmp_path, lines, name="in.jsonl"):
    p = tmp_path / name
    p.write_text("".join(line + "\n" for line in lines))
    return p


def test_hash_writes_one_record_per_line_in_order(tmp_path, capsys):
    dangling = {
        "matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        "ops": ["input", "maxpool3x3", "conv1x1-bn-relu", "output"],
    }
    recs = [
        CHAIN,
        {"matrix": [[0, 1], [1, 0]], "ops": ["input", "output"]},
        dangling,
        {"matrix": [[0, 0], [0, 0]], "ops": [-1, -2]},
        {"matrix": CHAIN["matrix"], "ops": [-1, 1, -2]},  # official integer labels
    ]
    src = _write(tmp_path, [json.dumps(r) for r in recs])
    out = tmp_path / "out.jsonl"
    assert main(["hash", "nb101", str(src), "--out", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == 5
    labels = {-1: "input", 0: "conv3x3-bn-relu", 1: "conv1x1-bn-relu", 2: "maxpool3x3", -2: "output"}  # official
    for rec, g in zip(recs, got, strict=True):
        ops = [labels[o] if isinstance(o, int) else o for o in rec["ops"]]
        reason, h, pm, po = official.prune_and_hash(np.array(rec["matrix"]), ops)
        assert set(g) >= {"valid", "reason", "hash", "pruned_matrix", "pruned_ops"}
        assert (g["reason"], g["hash"]) == (reason, h)
        assert g["valid"] is (reason is None)
    assert got[0]["hash"] == official.prune_and_hash(np.array(CHAIN["matrix"]), CHAIN["ops"])[1]
    assert got[1] == {
        "valid": False,
        "reason": "not_upper_triangular",
        "hash": None,
        "pruned_matrix": None,
        "pruned_ops": None,
    }
    assert got[2]["pruned_matrix"] == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert got[2]["pruned_ops"] == ["input", "maxpool3x3", "output"]
    assert got[3]["reason"] == "disconnected"
    assert got[4]["valid"] and got[4]["pruned_ops"] == [-1, 1, -2]  # given as labels, echoed as labels
    assert got[4]["hash"] not in (None, got[0]["hash"])


@pytest.mark.parametrize(
    "line, match",
    [
        ('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]', "line 2: invalid JSON"),
        ('{"ops": ["input", "output"]}', "line 2: missing field 'matrix'"),
        ('{"matrix": [[0, 1], [0, 0, 0]], "ops": ["input", "output"]}', "line 2: matrix must be square"),
        ('{"matrix": [[0, 3], [0, 0]], "ops": ["input", "output"]}', r"line 2: matrix entry \[0\]\[1\] is 3"),
        ('{"matrix": [[0, 1], [0, 0]], "ops": ["input"]}', "line 2: 1 ops for a 2x2 matrix"),
        ("[1, 2]", "line 2: expected an object"),
    ],
)
def test_hash_malformed_lines_exit_nonzero_naming_the_line(tmp_path, capsys, line, match):
    src = _write(tmp_path, [json.dumps(CHAIN), line])
    assert main(["hash", "nb101", str(src)]) == 1
    err = capsys.readouterr().err
    assert "pyengine: error:" in err
    import re

    assert re.search(match, err), err


def test_hash_empty_and_missing_input(tmp_path, capsys):
    src = _write(tmp_path, [])
    assert main(["hash", "nb101", str(src)]) == 1
    assert "no cells" in capsys.readouterr().err
    assert main(["hash", "nb101", str(tmp_path / "nope.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_enumerate_writes_exactly_the_path(tmp_path, capsys):
    out = tmp_path / "space"  # no extension added
    assert main(["enumerate", "nb101", "--out", str(out)]) == 0
    assert "423624" in capsys.readouterr().out
    with np.load(out) as z:
        assert z["matrices"].shape == (423624, 7, 7)
        assert z["hashes"].shape == (423624,)
        assert (np.diff(z["canonical_keys"]) > 0).all()


def test_unique_counts_and_writes_classes(tmp_path, capsys):
    out = tmp_path / "classes.jsonl"
    assert main(["unique", "nb201", "--out", str(out)]) == 0
    assert "6466" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 15625
    assert len({r["class"] for r in rows}) == 6466
    assert all(rows[r["representative"]]["class"] == r["class"] for r in rows)


def test_bench_graph_json_records(tmp_path, capsys, monkeypatch):
    from pyengine import _bench

    out = tmp_path / "bench.json"
    monkeypatch.setattr(_bench, "run_graph_bench", _fast_bench(_bench.run_graph_bench))
    assert main(["bench", "graph", "--json", str(out), "--repeats", "1", "--sample", "2000"]) == 0
    doc = json.loads(out.read_text())
    assert {"cpu", "logical_cores"} <= set(doc["machine"])
    names = [r["name"] for r in doc["records"]]
    assert names == ["nb101_hash", "nb101_validate_prune_hash", "nb101_enumerate", "nb201_canonicalize"]
    for r in doc["records"]:
        assert {"name", "per_second", "baseline_per_second", "ratio", "wall_seconds"} <= set(r)
        assert r["per_second"] > 0 and r["baseline_per_second"] > 0
        assert r["ratio"] == pytest.approx(r["per_second"] / r["baseline_per_second"])
    assert "nb101_enumerate" in capsys.readouterr().out


def _fast_bench(fn):
    def run(**kw):
        return fn(baseline_budget_s=0.05, **kw)

    return run


def test_console_script_runs(tmp_path):
    beside = Path(sys.executable).with_name("pyengine")  # the installed entry point of this environment
    exe = str(beside) if beside.exists() else shutil.which("pyengine")
    cmd = [exe] if exe else [sys.executable, "-m", "pyengine.cli"]
    src = _write(tmp_path, [json.dumps(CHAIN)])
    run = dict(capture_output=True, text=True, timeout=120, cwd=tmp_path)  # not the source tree
    proc = subprocess.run([*cmd, "hash", "nb101", str(src)], **run)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["valid"] is True
    proc = subprocess.run([*cmd, "hash", "nb101", str(tmp_path / "missing")], **run)
    assert proc.returncode == 1 and "cannot read" in proc.stderr


NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_encode_writes_one_encoding_per_line(tmp_path, capsys):
    from pyengine.encodings import encode

    recs = [{"arch": NB201_ARCH}, {"naslib": [0, 2, 3, 2, 3, 1]}, {"ops": [0, 1, 2, 3, 4, 0]}]
    src = _write(tmp_path, [json.dumps(r) for r in recs])
    out = tmp_path / "out.jsonl"
    assert main(["encode", "nb201", "path", str(src), "--out", str(out)]) == 0
    got = [json.loads(line)["encoding"] for line in out.read_text().splitlines()]
    assert len(got) == 3 and all(len(g) == 155 for g in got)
    assert np.array_equal(np.array(got), encode("nb201", "path", recs))
    assert main(["encode", "nb201", "path_trunc", str(src), "--k", "30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [len(json.loads(x)["encoding"]) for x in lines] == [30, 30, 30]
    cell = {"matrix": CHAIN["matrix"], "ops": CHAIN["ops"]}
    src101 = _write(tmp_path, [json.dumps(cell)], "n101.jsonl")
    assert main(["encode", "nb101", "gcn", str(src101)]) == 0
    a, x, mask = json.loads(capsys.readouterr().out)["encoding"]
    assert np.array(a).shape == (7, 7) and np.array(x).shape == (7, 5) and mask == [1, 1, 1, 0, 0, 0, 0]


@pytest.mark.parametrize(
    "lines,match",
    [
        ([json.dumps({"arch": NB201_ARCH}), "{bad json"], "line 2: invalid JSON"),
        (
            [json.dumps({"arch": NB201_ARCH}), json.dumps({"arch": NB201_ARCH.replace("avg_pool_3x3", "pool")})],
            "line 2:.*'pool'",
        ),
        (
            [
                json.dumps({"ops": [0, 0, 0, 0, 0, 0]}),
                json.dumps({"ops": [0, 0, 0, 0, 0, 9]}),
                json.dumps({"ops": [7] * 6}),
            ],
            "line\\(s\\) 2, 3",
        ),
        ([json.dumps({"what": 1})], "line 1: No nb201 architecture field"),
        ([], "empty input"),
    ],
)
def test_encode_bad_input_exits_nonzero_naming_the_line(tmp_path, capsys, lines, match):
    src = _write(tmp_path, lines)
    assert main(["encode", "nb201", "onehot", str(src)]) == 1
    assert __import__("re").search(match, capsys.readouterr().err)


def test_encode_unknown_names(tmp_path, capsys):
    src = _write(tmp_path, [json.dumps({"arch": NB201_ARCH})])
    assert main(["encode", "nb999", "path", str(src)]) == 1
    assert "Valid names" in capsys.readouterr().err
    assert main(["encode", "nb201", "pathx", str(src)]) == 1
    assert "Valid names" in capsys.readouterr().err
    assert main(["encode", "nb201", "path", str(src), "--k", "3"]) == 1
    assert "path_trunc" in capsys.readouterr().err


def test_bench_encode_json_records(tmp_path, capsys):
    out = tmp_path / "enc.json"
    assert main(["bench", "encode", "--sizes", "300", "--repeats", "1", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["machine"]["jax_backend"] == "cpu" or doc["machine"]["jax_backend"] in ("gpu", "tpu")
    recs = doc["records"]
    assert {(r["space"], r["encoding"]) for r in recs} >= {("nb101", "path"), ("nb201", "gcn"), ("darts", "path")}
    for r in recs:
        assert r["n"] == 300 and r["per_second"] > 0 and r["unit"] == "archs/s"
    path101 = next(r for r in recs if (r["space"], r["encoding"]) == ("nb101", "path"))
    assert path101["baseline_per_second"] > 0 and path101["naslib_reference_per_second"] == 63_000


def test_bench_proxies_on_nb301_records_uses_the_files_recorded_times(tmp_path, data_dir):
    out = tmp_path / "zc.json"
    args = ["bench", "proxies", "--space", "darts", "--proxies", "params,flops", "--archs", "3", "--repeats", "1"]
    assert main([*args, "--json", str(out)]) == 0
    recs = json.loads(out.read_text())["records"]
    assert [(r["space"], r["proxy"], r["n_archs"]) for r in recs] == [("darts", "params", 3), ("darts", "flops", 3)]
    rec = read_naslib_zc(space="darts")
    for r in recs:
        assert r["naslib_recorded_seconds_per_arch"] == pytest.approx(np.nanmean(rec.times[r["proxy"]]))
        assert r["naslib_2core_seconds_per_arch"] is None and r["seconds_per_arch"] > 0
    # NB101's file holds 500 architectures
    assert main(["bench", "proxies", "--space", "nb101", "--proxies", "params", "--archs", "501"]) == 1
