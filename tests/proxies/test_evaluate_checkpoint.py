"""``evaluate_proxies`` with a checkpoint: rows are written as their chunk finishes, a rerun scores
only what the file lacks (a torn last line is cut off), and a file of another evaluation or with
foreign rows is refused with CheckpointError."""

import json
import re

import numpy as np
import pytest

from pyengine.cli import main
from pyengine.errors import CheckpointError
from pyengine.proxies import ProxyScorer
from pyengine.proxies._evaluate import CHECKPOINT_FORMAT, evaluate_proxies
from pyengine.tables import load_table

NAMES = ["params", "flops"]


@pytest.fixture(scope="module")
def table(data_dir):
    return load_table("naslib_zc_nb201").subset(np.arange(30))


def _scored_rows(monkeypatch):
    seen: list[int] = []
    real = ProxyScorer.score

    def spy(self, archs, **kw):
        out = real(self, archs, **kw)
        seen.append(len(next(iter(out.values()))))
        return out

    monkeypatch.setattr(ProxyScorer, "score", spy)
    return seen


def test_a_rerun_scores_only_what_the_checkpoint_lacks(table, tmp_path, monkeypatch):
    ck = tmp_path / "eval.ckpt"
    full = evaluate_proxies(table, NAMES, checkpoint=str(ck), chunk=8)
    lines = ck.read_text().splitlines()
    head = json.loads(lines[0])
    assert head["format"] == CHECKPOINT_FORMAT and head["job"]["proxies"] == NAMES and len(lines) == 31
    assert sorted(json.loads(x)["row"] for x in lines[1:]) == list(range(30))

    # killed after two chunks, in the middle of writing the third
    ck.write_text("\n".join(lines[:17]) + "\n" + lines[17][:25])
    seen = _scored_rows(monkeypatch)
    done: list[int] = []
    again = evaluate_proxies(table, NAMES, checkpoint=str(ck), chunk=8, progress=lambda _, d, t: done.append(d))
    assert sum(seen) == 14 and done[-1] == 30 and min(done) > 16
    for a, b in zip(full, again, strict=True):
        assert a["spearman_vs_accuracy"] == b["spearman_vs_accuracy"] and a["n"] == b["n"] == 30
    seen.clear()
    evaluate_proxies(table, NAMES, checkpoint=str(ck))  # complete: nothing to score
    assert seen == []


def test_a_checkpoint_of_another_evaluation_is_refused(table, tmp_path):
    ck = tmp_path / "eval.ckpt"
    evaluate_proxies(table.subset(np.arange(10)), NAMES, checkpoint=str(ck))
    with pytest.raises(CheckpointError, match="another evaluation .*n_archs"):
        evaluate_proxies(table, NAMES, checkpoint=str(ck))
    with pytest.raises(CheckpointError, match="proxies"):
        evaluate_proxies(table.subset(np.arange(10)), ["params"], checkpoint=str(ck))
    lines = ck.read_text().splitlines()
    row = json.loads(lines[3])
    row["key"] = "0" * 20
    ck.write_text("\n".join([*lines[:3], json.dumps(row), *lines[4:]]) + "\n")
    with pytest.raises(CheckpointError, match="line 4: not a row of this evaluation"):
        evaluate_proxies(table.subset(np.arange(10)), NAMES, checkpoint=str(ck))
    (tmp_path / "foreign").write_text('{"format": "something else"}\n')
    with pytest.raises(CheckpointError, match="not a proxy evaluation checkpoint"):
        evaluate_proxies(table, NAMES, checkpoint=str(tmp_path / "foreign"))


def test_cli_evaluate_keeps_a_checkpoint_beside_its_json_and_reports_an_eta(data_dir, tmp_path, capsys):
    res = tmp_path / "eval.json"
    argv = ["proxies", "evaluate", "--limit", "30", "--proxies", "params,flops", "--json", str(res)]
    assert main(argv) == 0
    first = capsys.readouterr()
    assert (tmp_path / "eval.json.ckpt").is_file()
    assert re.search(r"scored: 30/30, [0-9.]+ s/arch, ETA 0s", first.err)
    assert main(argv) == 0  # resumed from a complete checkpoint: the same table
    assert capsys.readouterr().out == first.out
    assert main([*argv[:-2], "--json", str(res), "--limit", "20"]) == 1
    assert "another evaluation" in capsys.readouterr().err
