"""The blend of predictors on real NB201 cells: its prediction is the members' standardized
mean on the targets' scale, each architecture's independent of the batch; weights, zero-cost
inputs, the evaluator by name, and bad parameters."""

import numpy as np
import pytest
from scipy.stats import rankdata

from pyengine.metrics import kendall_tau
from pyengine.predictors import BLEND_MEMBER_DEFAULTS, get_predictor, get_tags

SHORT = [{"epochs": 10, "n_ensemble": 2}, {"n_estimators": 30}]  # the default members, fitted briefly


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(2).permutation(len(t))
    return t, t.column(), perm[:80], perm[80:480]


@pytest.fixture(scope="module")
def fitted(nb201):
    t, y, train, _ = nb201
    est = get_predictor("blend", space="nb201", random_state=0, member_params=SHORT)
    return est.fit(t.subset(train).archs, y[train])


def test_the_prediction_is_the_members_standardized_mean_on_the_target_scale(nb201, fitted):
    t, y, train, test = nb201
    archs = t.subset(test).archs
    transformer, trees = fitted.members_
    assert transformer.name == "transformer" and transformer.n_ensemble == 2 and transformer.epochs == 10
    assert trees.name == "lgb" and trees.encoding == "graf" and trees.n_estimators == 30 and trees.num_leaves == 15
    assert transformer.random_state == trees.random_state == 0
    from pyengine.spaces import get_space

    reference = get_space("nb201").sample(2048, np.random.default_rng(0))  # scale="space": 2048 drawn cells
    zs = []
    for m in fitted.members_:
        on_ref = m.predict(reference)
        zs.append((m.predict(archs) - on_ref.mean()) / on_ref.std())
    expected = y[train].mean() + y[train].std() * (zs[0] + zs[1]) / 2
    pred = fitted.predict(archs)
    np.testing.assert_allclose(pred, expected, rtol=1e-10)
    # one architecture's prediction does not depend on the rest of the batch
    # (to float32 rounding: the transformer scores batches of another size in another program)
    np.testing.assert_allclose(fitted.predict(t.subset(test[7:9]).archs), pred[7:9], rtol=1e-6)
    # on the targets' scale, and ranking better than chance on cells it did not see
    assert abs(pred.mean() - y[test].mean()) < 3 * y[test].std()
    assert kendall_tau(y[test], pred) > 0.4


def test_scaled_on_the_training_set(nb201, fitted):
    t, y, train, test = nb201
    est = get_predictor("blend", space="nb201", random_state=0, member_params=SHORT, scale="train")
    est.fit(t.subset(train).archs, y[train])
    on_train = [m.predict(t.subset(train).archs) for m in est.members_]
    np.testing.assert_allclose(est.member_mean_, [p.mean() for p in on_train], rtol=1e-12)
    np.testing.assert_allclose(est.member_scale_, [p.std() for p in on_train], rtol=1e-12)
    # the same members as the default's (same seed); only their standardization differs
    np.testing.assert_array_equal(
        est.members_[1].predict(t.subset(test).archs), fitted.members_[1].predict(t.subset(test).archs)
    )
    assert not np.allclose(est.member_scale_, fitted.member_scale_)


def test_a_zero_weight_leaves_the_other_members_ranking(nb201, fitted):
    t, y, train, test = nb201
    archs = t.subset(test).archs
    only_trees = get_predictor("blend", space="nb201", random_state=0, member_params=SHORT, weights=(0, 1))
    only_trees.fit(t.subset(train).archs, y[train])
    np.testing.assert_array_equal(rankdata(only_trees.predict(archs)), rankdata(fitted.members_[1].predict(archs)))


def test_members_by_name_with_repeats_and_zero_cost_inputs(nb201):
    t, y, train, test = nb201
    est = get_predictor(
        "blend",
        space="nb201",
        members="rf,rf",
        member_params=[{"encoding": "op_counts", "n_estimators": 20}, {"n_estimators": 20}],
        zc=("params", "flops"),
        random_state=3,
    ).fit(t.subset(train).archs, y[train])
    first, second = est.members_
    assert first.encoding == "op_counts" and second.encoding == "graf"  # a feature-based member reads graf
    assert first.zc == second.zc == ("params", "flops") and est.zc_names() == ["params", "flops"]
    from pyengine.encodings import encode

    dims = [encode(t.space, e, t.subset(train[:2]).archs).shape[1] for e in ("op_counts", "graf")]
    assert [first.n_features_in_, second.n_features_in_] == [dims[0] + 2, dims[1] + 2]  # the two scores joined
    assert np.isfinite(est.predict(t.subset(test).archs)).all()
    assert get_tags(est).requires == ()  # random forests need no optional library


def test_tags_follow_the_members():
    assert get_tags(get_predictor("blend")).requires == (("lightgbm", "boosting"),)
    assert get_tags(get_predictor("blend", members="transformer,xgb,lgb")).requires == (
        ("xgboost", "boosting"),
        ("lightgbm", "boosting"),
    )
    assert get_tags(get_predictor("blend")).arch_input
    assert not get_tags(get_predictor("blend")).has_std
    assert set(BLEND_MEMBER_DEFAULTS) == {"transformer", "lgb", "xgb"}


@pytest.mark.parametrize(
    "params, match",
    [
        ({"members": ("nope",)}, "names 'nope', which is no predictor"),
        ({"members": ()}, "names no predictor"),
        ({"members": "blend,rf"}, "cannot hold another blend"),
        ({"members": "sotl,rf"}, "Member 'sotl' of BlendPredictor must learn from architectures"),
        ({"weights": (1,)}, "must hold 2 finite non-negative numbers"),
        ({"weights": (1, float("nan"))}, "must hold 2 finite non-negative numbers"),
        ({"weights": (0, 0)}, "not all zero"),
        ({"member_params": {"epochs": 3}}, "must be a sequence of 2 dicts"),
        ({"member_params": [{"depth": 3}, None]}, "Member 'transformer' of BlendPredictor has no parameter 'depth'"),
        ({"zc": ("synflow", "nope")}, "names 'nope', which is no zero-cost proxy"),
        ({"scale": "test"}, "'scale' parameter of BlendPredictor must be 'space' or 'train'"),
        ({"reference_size": 1}, "reference_size"),
        ({"space": None}, "needs 'space' to draw its reference architectures"),
    ],
)
def test_bad_parameters_fail_before_any_fit_with_typed_errors(params, match, nb201):
    from pyengine.errors import InvalidValueError

    t, y, train, _ = nb201
    with pytest.raises(InvalidValueError, match=match):
        get_predictor("blend", **{"space": "nb201", **params}).fit(t.subset(train).archs, y[train])


def test_bad_inputs(nb201, fitted):
    from pyengine.errors import InvalidTypeError, InvalidValueError, NoUncertaintyError

    t, y, train, test = nb201
    with pytest.raises(InvalidTypeError, match="reads architectures"):
        get_predictor("blend", space="nb201").fit(np.zeros((5, 3)), np.zeros(5))
    bad = y[train].copy()
    bad[3] = np.nan
    with pytest.raises(InvalidValueError, match="NaN or infinite target"):
        get_predictor("blend", space="nb201").fit(t.subset(train).archs, bad)
    with pytest.raises(NoUncertaintyError, match="no uncertainty"):
        fitted.predict(t.subset(test).archs, return_std=True)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match=r"call fit\(X, y\)"):
        get_predictor("blend", space="nb201").predict(t.subset(test).archs)


def test_the_evaluator_runs_a_blend_by_name(nb201):
    from pyengine.evaluation import PredictorEvaluator

    t, _, _, _ = nb201
    records = PredictorEvaluator(
        t,
        ["blend"],
        train_sizes=[40],
        seeds=1,
        test_size=200,
        predictor_params={"blend": {"member_params": SHORT}},
    ).run()
    (rec,) = records
    assert rec["predictor"] == "blend" and rec["encoding"] == "architectures" and rec["kendalltau"] > 0.2
