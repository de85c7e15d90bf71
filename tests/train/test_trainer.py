"""The trainer on real digits: learning curves, determinism, groups, bad input, interruption."""

import json

import numpy as np
import pytest

from pyengine.spaces import get_space
from pyengine.train import DatasetError, Trainer, TrainMemoryError, from_arrays, load_dataset, load_digits

SPACE = get_space("nb201")
CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # zero output: chance accuracy
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
]
PARAMS = dict(channels=4, epochs=3, batch_size=64, seed=0)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def trainer():
    return Trainer(group_size=1, **PARAMS)


@pytest.fixture(scope="module")
def result(trainer, digits):
    return trainer.train(CELLS, digits)


def test_learning_curves_and_accuracies(result):
    n, e = 3, PARAMS["epochs"]
    assert len(result) == n and not result.interrupted
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        curve = getattr(result, name)
        assert curve.shape == (n, e) and np.isfinite(curve).all()
    assert result.test_accuracy.shape == (n,)
    assert ((result.val_accuracy >= 0) & (result.val_accuracy <= 100)).all()
    assert (result.train_seconds > 0).all() and result.compile_seconds > 0
    assert not result.diverged.any()
    # real learning: the conv cell learns digits, the zero cell stays at chance
    assert result.test_accuracy[0] > 80
    assert result.train_loss[0, -1] < result.train_loss[0, 0]
    assert result.test_accuracy[1] < 25
    assert SPACE.to_strings(result.batch) == CELLS


def test_trained_curves_feed_the_learning_curve_predictors(result):
    """SoTL on the trainer's real training losses: the conv cell (low loss) outranks the zero
    cell (loss stuck at ln 10); early-stop accuracy at epoch 2 reads the validation curve."""
    from pyengine.predictors import get_predictor, partial_curves

    c = partial_curves(result.curves(), 2)
    est = get_predictor("sotl").fit(c, result.final_val_accuracy)
    np.testing.assert_allclose(est.score_curves(c), -result.train_loss[:, :2].sum(1))
    pred = est.predict(c)
    assert pred[0] > pred[1] and np.isfinite(pred).all()
    early = get_predictor("early_stop_acc").fit(c, result.final_val_accuracy)
    np.testing.assert_array_equal(early.score_curves(c), result.val_accuracy[:, 1])


def test_records_are_json(result):
    recs = result.records("nb201")
    assert [r["arch"] for r in recs] == CELLS
    text = json.dumps(recs)
    back = json.loads(text)[0]
    assert len(back["curves"]["val_accuracy"]) == PARAMS["epochs"]
    assert back["test_accuracy"] == pytest.approx(result.test_accuracy[0])


def test_same_seed_same_result_without_recompiling(trainer, result, digits):
    prog = next(iter(trainer._compiled.values()))
    again = trainer.train(CELLS[::-1], digits)  # order does not matter either
    assert next(iter(trainer._compiled.values())) is prog
    np.testing.assert_array_equal(again.val_accuracy[::-1], result.val_accuracy)
    np.testing.assert_array_equal(again.train_loss[::-1], result.train_loss)


@pytest.mark.slow
def test_a_group_trains_the_same_networks(result, digits):
    grouped = Trainer(group_size=2, **PARAMS).train(CELLS, digits)  # vmapped, the last group padded
    np.testing.assert_allclose(grouped.train_loss, result.train_loss, rtol=0.05, atol=0.02)
    np.testing.assert_allclose(grouped.test_accuracy, result.test_accuracy, atol=2.0)


def test_interrupt_keeps_finished_architectures(trainer, digits):
    prog = next(iter(trainer._compiled.values()))
    step = prog["step"]
    calls = {"n": 0}
    steps_per_arch = PARAMS["epochs"] * (len(digits.y_train) // PARAMS["batch_size"])

    def interrupted_step(*args):
        calls["n"] += 1
        if calls["n"] > steps_per_arch + 2:  # Ctrl-C during the second architecture
            raise KeyboardInterrupt
        return step(*args)

    prog["step"] = interrupted_step
    try:
        r = trainer.train(CELLS, digits)
    finally:
        prog["step"] = step
    assert r.interrupted and len(r) == 1
    assert SPACE.to_strings(r.batch) == CELLS[:1]
    assert np.isfinite(r.val_accuracy).all()


def test_users_own_arrays_and_npz(tmp_path, digits):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(120, 8, 8, 2)).astype(np.float32)
    labels = rng.integers(3, 6, size=120)  # any integer labels
    ds = from_arrays(images, labels, val_fraction=0.25, test_fraction=0.25)
    assert ds.image_shape == (8, 8, 2) and ds.n_classes == 3 and ds.classes.tolist() == [3, 4, 5]
    assert len(ds.y_train) == 60 and len(ds.y_val) == 30 and len(ds.y_test) == 30
    assert abs(float(ds.x_train.mean())) < 1e-5
    path = tmp_path / "mine.npz"
    np.savez(path, images=images, labels=labels)
    again = load_dataset(str(path), val_fraction=0.25, test_fraction=0.25)
    np.testing.assert_array_equal(again.x_val, ds.x_val)
    d = load_digits()
    assert d.image_shape == (8, 8, 1) and d.n_classes == 10
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 1797


@pytest.mark.parametrize(
    "images, labels, match",
    [
        (np.zeros((10, 8, 8)), np.zeros(9, int), "10 images but 9 labels"),
        (np.zeros((10, 8)), np.zeros(10, int), "shape"),
        (np.zeros((10, 8, 8)), np.zeros(10, int), "one class"),
        (np.zeros((10, 8, 8)), np.linspace(0, 1, 10), "integers"),
        (np.zeros((10, 2, 2)), np.arange(10) % 2, "at least 4x4"),
    ],
)
def test_bad_datasets_are_refused(images, labels, match):
    with pytest.raises(DatasetError, match=match):
        from_arrays(images, labels)


def test_nan_pixels_are_refused():
    x = np.zeros((20, 8, 8))
    x[7, 3, 3] = np.nan
    with pytest.raises(DatasetError, match="first at index 7"):
        from_arrays(x, np.arange(20) % 2)


def test_bad_files_are_refused(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(DatasetError, match="not a readable .npz"):
        load_dataset(str(bad))
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(DatasetError, match="expected arrays 'images' and 'labels'"):
        load_dataset(str(other))


def test_group_too_large_for_memory_is_refused_before_training(digits):
    with pytest.raises(TrainMemoryError, match="Lower the 'group_size'"):
        Trainer(group_size=10**7, **PARAMS).train(SPACE.sample(10**4, np.random.default_rng(0)), digits)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"epochs": 0}, "'epochs' parameter of Trainer must be a positive int"),
        ({"group_size": -1}, "'group_size'"),
        ({"optimizer": "rmsprop"}, "'optimizer'"),
        ({"weight_init": "xavier"}, "'weight_init'"),
        ({"learning_rate": 0.0}, "'learning_rate'"),
        ({"space": "darts"}, r"trains architectures of the spaces \['nb201'\]; not 'darts'"),
        ({"space": "nb101"}, r"trains architectures of the spaces \['nb201'\]; not 'nb101'"),
        ({"batch_size": 5000}, "exceeds the"),
    ],
)
def test_bad_parameters_are_refused(params, match, digits):
    with pytest.raises(ValueError, match=match):
        Trainer(**{**PARAMS, **params}).train(CELLS[:1], digits)


def test_results_as_a_table_give_the_evaluator_the_trainers_clock(trainer, result, digits):
    """A trained set becomes a table whose train_seconds_E column is the trainer's clock: the
    evaluator's initialization cost sums the training rows' seconds, and its fidelity cost is the
    test rows' mean seconds scaled to the fidelity, so together they cover every row once."""
    from pyengine.evaluation import PredictorEvaluator
    from pyengine.spaces._base import concat
    from pyengine.tables import Table

    e = PARAMS["epochs"]
    table = result.to_table()
    assert table.default_metric == "val_accuracy" and table.test_metric == "test_accuracy"
    assert np.array_equal(table.column(), result.final_val_accuracy)
    assert np.array_equal(table.column(f"train_seconds_{e}"), result.train_seconds)
    assert set(table.curves) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    more = trainer.train(SPACE.sample(3, np.random.default_rng(4), unique=True), digits).to_table()
    six = Table(
        SPACE,
        concat([table.archs, more.archs]),
        {k: np.concatenate([table.column(k), more.column(k)]) for k in table.metric_names},
        name="six",
        default_metric="val_accuracy",
        curves={k: np.concatenate([table.curves[k], more.curves[k]]) for k in table.curves},
    )
    ev = PredictorEvaluator(six, ["early_stop_acc", "rf"], train_sizes=[3], seeds=[0], test_size=3, fidelity=1)
    recs = {r["predictor"]: r for r in ev.run()}
    assert recs["rf"]["init_seconds"] > 0
    assert recs["rf"]["init_seconds"] == pytest.approx(recs["early_stop_acc"]["init_seconds"])
    assert recs["rf"]["fidelity_seconds"] == 0 and recs["early_stop_acc"]["fidelity_seconds"] > 0
    covered = recs["rf"]["init_seconds"] + 3 * e * recs["early_stop_acc"]["fidelity_seconds"]
    assert covered == pytest.approx(six.column(f"train_seconds_{e}").sum())
