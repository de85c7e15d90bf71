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
    ]
    src = _write(tmp_path, [json.dumps(r) for r in recs])
    out = tmp_path / "out.jsonl"
    assert main(["hash", "nb101", str(src), "--out", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == 4
    for rec, g in zip(recs, got, strict=True):
        reason, h, pm, po = official.prune_and_hash(np.array(rec["matrix"]), rec["ops"])
        assert set(g) >= {"valid", "reason", "hash", "pruned_matrix", "pruned_ops"}
        assert g["reason"] == (reason if isinstance(rec["ops"][0], str) else g["reason"])
        assert g["valid"] is (g["reason"] is None)
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
