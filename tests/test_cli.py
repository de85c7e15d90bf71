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


def test_bench_graph_json_records(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "graph", "--json", str(out), "--repeats", "1", "--sample", "2000", "--baseline-seconds", "0.05"]
    assert main(argv) == 0
    doc = json.loads(out.read_text())
    assert {"cpu", "logical_cores"} <= set(doc["machine"])
    names = [r["name"] for r in doc["records"]]
    assert names == ["nb101_hash", "nb101_validate_prune_hash", "nb101_enumerate", "nb201_canonicalize"]
    for r in doc["records"]:
        assert {"name", "per_second", "baseline_per_second", "ratio", "wall_seconds"} <= set(r)
        assert r["per_second"] > 0 and r["baseline_per_second"] > 0
        assert r["ratio"] == pytest.approx(r["per_second"] / r["baseline_per_second"])
    assert "nb101_enumerate" in capsys.readouterr().out


def test_console_script_runs(tmp_path):
    beside = Path(sys.executable).with_name("pyengine")  # the installed entry point of this environment
    exe = str(beside) if beside.exists() else shutil.which("pyengine")
    cmd = [exe] if exe else [sys.executable, "-m", "pyengine"]
    src = _write(tmp_path, [json.dumps(CHAIN)])
    run = dict(capture_output=True, text=True, timeout=120, cwd=tmp_path)  # not the source tree
    proc = subprocess.run([*cmd, "hash", "nb101", str(src)], **run)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["valid"] is True
    proc = subprocess.run([*cmd, "hash", "nb101", str(tmp_path / "missing")], **run)
    assert proc.returncode == 1 and "cannot read" in proc.stderr
    for module in ("pyengine", "pyengine.cli"):  # python -m runs the same command line
        proc = subprocess.run([sys.executable, "-m", module, "hash", "nb101", str(src)], **run)
        assert proc.returncode == 0 and json.loads(proc.stdout)["valid"] is True, proc.stderr


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


def test_bench_subcommands_are_the_registered_suites_each_with_its_own_help(capsys):
    from pyengine.bench import BENCHES

    helps = {}
    for name in BENCHES.names():
        with pytest.raises(SystemExit) as exit_:
            main(["bench", name, "--help"])
        assert exit_.value.code == 0
        helps[name] = capsys.readouterr().out
        assert helps[name].startswith(f"usage: pyengine bench {name} ")
        assert " ".join(BENCHES.get(name).description.split()[:4]) in " ".join(helps[name].split())
        assert "--json OUT" in helps[name] and "--repeats" in helps[name]
    assert len(set(helps.values())) == len(helps)
    # each suite lists its own options only
    assert "--sample" in helps["graph"] and "--sizes" not in helps["graph"]
    assert "--sizes" in helps["predict"] and "--sample" not in helps["predict"] and "--oracles" not in helps["predict"]
    assert "--chunk-size" in helps["score"] and "--chunk-size" not in helps["proxies"]
    assert "--archs-per-call" in helps["proxies"] and "--no-cache" in helps["train"]
    with pytest.raises(SystemExit):
        main(["bench", "predict", "--sample", "10"])
    assert "unrecognized arguments: --sample" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench"])
    assert "required: suite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    listing = capsys.readouterr().out
    assert all(f"    {name} " in listing for name in BENCHES.names())


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["graph", "--json", "X", "--repeats", "3", "--sample", "10", "--threads", "2", "--oracles", "D"],
            {"sample": 10, "threads": 2, "oracle_dir": "D", "baseline_budget_s": 1.0},
        ),
        (["graph"], {"sample": 200_000, "threads": 0, "oracle_dir": None, "baseline_budget_s": 1.0}),
        (["encode", "--sizes", "10,20"], {"sizes": (10, 20), "oracle_dir": None, "baseline_budget_s": 1.0}),
        (["encode"], {"sizes": (10_000, 1_000_000), "oracle_dir": None, "baseline_budget_s": 1.0}),
        (["predict", "--sizes", "1"], {"sizes": (1,)}),
        (["predict"], {"sizes": (1, 1_000, 10_000, 100_000)}),
        (["predict", "--models", "gcn,transformer"], {"models": ("gcn", "transformer")}),
        (["predict", "--precision", "float32,bfloat16,float32"], {"precisions": ("float32", "bfloat16")}),
        (
            ["train", "--sizes", "1,8", "--archs", "4", "--no-cache"],
            {"group_sizes": (1, 8), "n_archs": 4, "compilation_cache": False},
        ),
        (["train"], {"group_sizes": (1, 8, 32), "n_archs": 32, "compilation_cache": True}),
        (
            ["proxies", "--space", "darts", "--proxies", "params,flops", "--archs", "3", "--archs-per-call", "1,2"],
            {"n_archs": 3, "proxies": ["params", "flops"], "archs_per_call": [1, 2], "space": "darts"},
        ),
        (["proxies", "--proxies", "all"], {"n_archs": 32, "proxies": None, "archs_per_call": None, "space": "nb201"}),
        (["score", "--sizes", "100", "--chunk-size", "10"], {"n_archs": 100, "chunk_size": 10}),
        (["score"], {"n_archs": 20_000, "chunk_size": 2048}),
        (
            ["pipeline", "--sizes", "500", "--chunk-size", "7", "--top-k", "3", "--space", "nb201", "--devices", "cpu"],
            {"n_archs": 500, "chunk_size": 7, "k": 3, "space": "nb201", "devices": ("cpu",)},
        ),
        (["pipeline"], {"n_archs": 200_000, "chunk_size": None, "k": 100, "n_train": 300, "devices": ("cpu", "gpu")}),
        (["curves", "--sizes", "20"], {"n_curves": 20}),
        (["curves"], {"n_curves": 2000}),
    ],
)
def test_bench_command_lines_map_to_the_runners_arguments(argv, expected):
    from pyengine.bench import BENCHES
    from pyengine.cli import build_parser

    args = build_parser("bench").parse_args(["bench", *argv])
    kwargs = BENCHES.get(args.suite).from_args(args)
    assert {k: kwargs[k] for k in expected} == expected
    assert args.repeats == (3 if "--repeats" in argv else 5) and args.json == ("X" if "--json" in argv else None)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict", "--sizes", "0"], "--sizes must be positive integers. Got '0'."),
        (["predict", "--models", "xgb"], "--models must name some of gcn, transformer, bananas, blend. Got 'xgb'."),
        (["predict", "--precision", "fp16"], "--precision must name some of float32, tf32, bfloat16. Got 'fp16'."),
        (["encode", "--sizes", "x"], "--sizes must be comma-separated integers. Got 'x'."),
        (["train", "--sizes", "8,-1"], "--sizes must be positive integers. Got '8,-1'."),
        (["proxies", "--archs-per-call", "0"], "--archs-per-call must be positive integers. Got '0'."),
        (["proxies", "--proxies", ","], "--proxies names no proxy"),
        (["graph", "--baseline-seconds", "0"], "--baseline-seconds must be positive. Got 0.0."),
        (["pipeline", "--devices", "tpu"], "--devices must name some of cpu, gpu. Got 'tpu'."),
    ],
)
def test_bench_bad_option_values_exit_1_before_any_work(argv, message, capsys):
    assert main(["bench", *argv]) == 1
    assert f"pyengine: error: {message}" in capsys.readouterr().err


def test_bench_oracles_override_must_hold_the_ports(tmp_path, capsys):
    (tmp_path / "nb101_official.py").write_text("")
    assert main(["bench", "graph", "--oracles", str(tmp_path)]) == 1
    assert f"--oracles {tmp_path}: no nb201_official.py there" in capsys.readouterr().err
    assert main(["bench", "encode", "--oracles", str(tmp_path)]) == 1
    assert "no encodings.py there" in capsys.readouterr().err


def test_the_installed_package_benchmarks_against_its_own_baselines(tmp_path):
    """Outside the source tree (no tests/oracles in reach) the baselines come from the package,
    and bench graph / bench encode record a baseline figure for their workloads."""
    run = dict(capture_output=True, text=True, timeout=600, cwd=tmp_path)
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pyengine, pyengine.bench._baselines.encodings as e, pyengine.bench._baselines.nb101_official "
            "as a, pyengine.bench._baselines.nb201_official as b; print(pyengine.__file__); "
            "print(a.__file__, b.__file__, e.__file__); print('oracles' in sys.modules)",
        ],
        **run,
    )
    assert where.returncode == 0, where.stderr
    package, files, oracles = where.stdout.splitlines()
    root = Path(package).parent
    assert all(Path(f).parent == root / "bench" / "_baselines" for f in files.split())
    assert oracles == "False"

    graph = tmp_path / "graph.json"
    argv = ["graph", "--repeats", "1", "--sample", "300", "--baseline-seconds", "0.02", "--json", str(graph)]
    proc = subprocess.run([sys.executable, "-m", "pyengine", "bench", *argv], **run)
    assert proc.returncode == 0, proc.stderr
    recs = json.loads(graph.read_text())["records"]
    assert len(recs) == 4 and all(r["baseline_per_second"] > 0 for r in recs)

    enc = tmp_path / "encode.json"
    argv = ["encode", "--sizes", "50", "--repeats", "1", "--baseline-seconds", "0.01", "--json", str(enc)]
    proc = subprocess.run([sys.executable, "-m", "pyengine", "bench", *argv], **run)
    assert proc.returncode == 0, proc.stderr
    recs = {(r["space"], r["encoding"]): r for r in json.loads(enc.read_text())["records"]}
    for key in [("nb101", "path"), ("nb101", "adjacency_one_hot"), ("nb201", "path"), ("darts", "path")]:
        assert recs[key]["baseline_per_second"] > 0


def test_evaluate_published_protocol_end_to_end(tmp_path, capsys, data_dir):
    out = tmp_path / "proto.json"
    argv = ["evaluate", "--protocol", "published", "--space", "nb201", "--train-sizes", "78", "--seeds", "1"]
    assert main([*argv, "--predictors", "rf", "--no-progress", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "protocol published on nb201" in text and "measured" in text
    assert "HyperNAS" in text and "0.677" in text  # the published figure at N = 78
    (rec,) = json.loads(out.read_text())
    assert (rec["protocol"], rec["space"], rec["test_pool"]) == ("published", "nb201", "rest")
    assert (rec["predictor"], rec["train_size"], rec["seed"]) == ("rf", 78, 0)
    assert rec["test_size"] == 15625 - 78 and rec["encoding"] == "graf"
    assert rec["table"] == "nb201_cifar10_200ep" and rec["metric"] == "cifar10_valid_valacc"
    assert rec["kendalltau"] > 0.4


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--protocol", "papers", "--space", "nb201"], "Unknown protocol 'papers'"),
        (["--protocol", "published", "--space", "darts"], "no settings for space 'darts'"),
        (["--protocol", "published"], "--protocol needs --space"),
        (["--protocol", "published", "--space", "nb201", "--train-sizes", "16000"], "leaves 0 test"),
        (["--protocol", "published", "--space", "nb201", "--test-size", "100"], "--test-size do not apply"),
        (["--protocol", "published", "--space", "nb201", "--table", "nb101_1k"], "holds nb101 architectures"),
        ([], "--table is required"),
    ],
)
def test_evaluate_protocol_errors(capsys, data_dir, extra, match):
    assert main(["evaluate", "--predictors", "rf", "--seeds", "1", *extra]) == 1
    err = capsys.readouterr().err
    assert "pyengine: error:" in err and match in err


def test_evaluate_protocol_on_another_column(tmp_path, capsys, data_dir):
    out = tmp_path / "c100.json"
    argv = ["evaluate", "--protocol", "published", "--space", "nb201", "--table", "nb201_12ep"]
    argv += ["--metric", "imagenet16_valacc", "--train-sizes", "78", "--seeds", "1", "--predictors", "rf"]
    assert main([*argv, "--no-progress", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "metric imagenet16_valacc" in text and "published (" not in text  # no ImageNet16-120 figures carried
    (rec,) = json.loads(out.read_text())
    assert rec["table"] == "nb201_12ep" and rec["metric"] == "imagenet16_valacc" and rec["test_size"] == 15625 - 78
