"""`pyengine demo` end to end at a small size."""

import json

from pyengine.cli import main


def test_demo_writes_summary_archs_and_plot(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYENGINE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "demo"
    argv = ["demo", "--n-train", "6", "--top-k", "3", "--epochs", "2", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    s = json.loads((out / "summary.json").read_text())
    for key in ("kendalltau", "best_found_test", "best_random_test", "wall_seconds", "verdict", "beats_random"):
        assert key in s
    assert -1.0 <= s["kendalltau"] <= 1.0
    assert 0.0 <= s["best_random_test"] <= 100.0 and 0.0 <= s["best_found_test"] <= 100.0
    assert set(s["wall_seconds"]) == {"train_initial", "fit", "score", "train_selected", "total"}
    archs = json.loads((out / "archs.json").read_text())
    roles = [a["role"] for a in archs]
    assert roles.count("initial") == 6 and roles.count("predicted_top") == 3 and roles.count("random") == 3
    assert len({a["arch"] for a in archs}) == 12  # nothing trained twice
    assert all(a["predicted"] is not None for a in archs if a["role"] != "initial")
    assert (out / "demo.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "best found" in printed and "Kendall tau" in printed and s["verdict"] in printed


def test_demo_refuses_bad_sizes(tmp_path, capsys):
    assert main(["demo", "--n-train", "6000", "--top-k", "2000", "--out", str(tmp_path)]) == 1
    assert "isomorphism classes" in capsys.readouterr().err
