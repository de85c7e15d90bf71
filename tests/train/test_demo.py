"""`pyengine demo` end to end at a small size."""

import json

import numpy as np
import pytest
from scipy import stats

from pyengine.cli import main


@pytest.mark.slow
def test_demo_writes_summary_archs_and_plot(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYENGINE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "demo"
    argv = ["demo", "--n-train", "6", "--top-k", "3", "--epochs", "2", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    s = json.loads((out / "summary.json").read_text())
    for key in ("kendalltau", "best_found_test", "best_random_test", "wall_seconds", "verdict", "beats_random"):
        assert key in s
    assert set(s["wall_seconds"]) == {"train_initial", "fit", "score", "train_selected", "total"}
    archs = json.loads((out / "archs.json").read_text())
    roles = [a["role"] for a in archs]
    assert roles == ["initial"] * 6 + ["predicted_top"] * 3 + ["random"] * 3
    assert len({a["arch"] for a in archs}) == 12  # nothing trained twice
    assert all(a["predicted"] is not None for a in archs if a["role"] != "initial")
    # the summary recomputed from the trained cells
    by = {r: [a for a in archs if a["role"] == r] for r in ("initial", "predicted_top", "random")}
    assert min(a["predicted"] for a in by["predicted_top"]) >= max(a["predicted"] for a in by["random"])
    held = by["predicted_top"] + by["random"]
    tau = stats.kendalltau([a["predicted"] for a in held], [a["val_accuracy"] for a in held]).statistic
    assert s["kendalltau"] == pytest.approx(0.0 if np.isnan(tau) else tau)

    def best_test(cells):  # test accuracy of the cell with the best validation accuracy
        return cells[int(np.argmax([a["val_accuracy"] for a in cells]))]["test_accuracy"]

    found, rand = best_test(by["initial"] + by["predicted_top"]), best_test(by["initial"] + by["random"])
    assert (s["best_found_test"], s["best_random_test"]) == (found, rand)
    means = [np.mean([a["test_accuracy"] for a in by[r]]) for r in ("predicted_top", "random")]
    assert [s["mean_top_k_test"], s["mean_random_k_test"]] == pytest.approx(means)
    assert s["beats_random"] is bool(found > rand and means[0] > means[1])
    assert (out / "demo.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "best found" in printed and "Kendall tau" in printed and s["verdict"] in printed


def test_demo_refuses_bad_sizes(tmp_path, capsys):
    assert main(["demo", "--n-train", "6000", "--top-k", "2000", "--out", str(tmp_path)]) == 1
    assert "isomorphism classes" in capsys.readouterr().err
