"""Metrics: hand-computed cases, properties, agreement with scikit-learn, scorers and bad input."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core.metrics import (
    SCORERS,
    UndefinedMetricWarning,
    accuracy_score,
    check_scoring,
    confusion_matrix,
    f1_score,
    get_scorer,
    get_scorer_names,
    log_loss,
    make_scorer,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

labels_pair = st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
))


# ----------------------------------------------------------------------------- hand-computed cases


def test_accuracy_and_confusion_matrix_by_hand():
    y_true = ["cat", "dog", "dog", "bird", "cat", "dog"]
    y_pred = ["cat", "dog", "cat", "bird", "dog", "dog"]
    assert accuracy_score(y_true, y_pred) == pytest.approx(4 / 6)
    # labels sorted: bird, cat, dog
    expected = [[1, 0, 0],
                [0, 1, 1],
                [0, 1, 2]]
    C = confusion_matrix(y_true, y_pred)
    assert C.dtype == np.int64 and C.tolist() == expected
    # an explicit label order; labels not listed are left out
    assert confusion_matrix(y_true, y_pred, labels=["dog", "cat"]).tolist() == [[2, 1], [1, 1]]


def test_binary_precision_recall_f1_by_hand():
    y_true = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]  # tp=3, fn=1, fp=2
    assert precision_score(y_true, y_pred) == pytest.approx(3 / 5)
    assert recall_score(y_true, y_pred) == pytest.approx(3 / 4)
    assert f1_score(y_true, y_pred) == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    # the other class as positive: tp=4, fn=2, fp=1
    assert precision_score(y_true, y_pred, pos_label=0) == pytest.approx(4 / 5)
    assert recall_score(y_true, y_pred, pos_label=0) == pytest.approx(4 / 6)


def test_multiclass_averages_by_hand():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    # per class: tp = (2, 1, 1), predicted = (2, 2, 2), true = (3, 2, 1)
    p = np.array([2 / 2, 1 / 2, 1 / 2])
    r = np.array([2 / 3, 1 / 2, 1 / 1])
    f = 2 * np.array([2, 1, 1]) / (np.array([2, 2, 2]) + np.array([3, 2, 1]))
    np.testing.assert_allclose(precision_score(y_true, y_pred, average=None), p)
    np.testing.assert_allclose(recall_score(y_true, y_pred, average=None), r)
    np.testing.assert_allclose(f1_score(y_true, y_pred, average=None), f)
    assert precision_score(y_true, y_pred, average="macro") == pytest.approx(p.mean())
    assert recall_score(y_true, y_pred, average="weighted") == pytest.approx(np.average(r, weights=[3, 2, 1]))
    assert f1_score(y_true, y_pred, average="weighted") == pytest.approx(np.average(f, weights=[3, 2, 1]))
    assert f1_score(y_true, y_pred, average="micro") == pytest.approx(4 / 6)  # = accuracy
    # a subset of labels for the macro average
    assert f1_score(y_true, y_pred, labels=[0, 2], average="macro") == pytest.approx((f[0] + f[2]) / 2)


def test_zero_division_values():
    y_true, y_pred = [1, 0, 1], [0, 0, 0]  # nothing predicted positive
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined.*due to no predicted samples"):
        assert precision_score(y_true, y_pred) == 0.0  # the default "warn": 0.0 and a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a chosen value is silent
        assert precision_score(y_true, y_pred, zero_division=0.0) == 0.0
        assert precision_score(y_true, y_pred, zero_division=1.0) == 1.0
        assert math.isnan(precision_score(y_true, y_pred, zero_division=np.nan))
        assert recall_score(y_true, y_pred) == 0.0  # recall well defined: 0 / 2
        assert f1_score(y_true, y_pred, zero_division=1.0) == 0.0  # 2tp/(t+p) = 0/2, defined
        # nothing positive at all: recall and F1 are 0/0
        assert f1_score([0, 0], [0, 0], zero_division=1.0) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="Recall is ill-defined.*no true samples"):
        assert recall_score([0, 0], [0, 0]) == 0.0
    # macro average ignores NaN entries
    assert precision_score([0, 1, 2], [0, 1, 1], average="macro", zero_division=np.nan) == pytest.approx(0.75)


def test_a_label_absent_from_the_data_warns_and_names_it():
    y_true, y_pred = [0, 1, 1, 2], [0, 1, 2, 2]
    with pytest.warns(UndefinedMetricWarning, match=r"Recall is ill-defined.*labels \[5\] with no true samples"):
        r = recall_score(y_true, y_pred, labels=[0, 1, 5], average=None)
    np.testing.assert_allclose(r, [1.0, 0.5, 0.0])
    with pytest.warns(UndefinedMetricWarning, match=r"F-score is ill-defined.*\[5\].*no true nor predicted"):
        assert f1_score(y_true, y_pred, labels=[0, 5], average="macro") == pytest.approx(0.5)
    with pytest.warns(UndefinedMetricWarning, match=r"Precision.*labels \['c'\] with no predicted samples"):
        precision_score(["a", "b", "c"], ["a", "b", "b"], average="weighted")


def test_log_loss_by_hand():
    y_true = ["spam", "ham", "ham", "spam"]
    proba = [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]  # columns: ham, spam (sorted)
    expected = -np.mean(np.log([0.9, 0.9, 0.8, 0.65]))
    assert log_loss(y_true, proba) == pytest.approx(expected)
    # binary 1-D form: probability of the second (larger) label
    assert log_loss(y_true, [0.9, 0.1, 0.2, 0.65]) == pytest.approx(expected)
    # perfect and clipped predictions: finite, eps-sized
    assert 0 <= log_loss([0, 1], [[1.0, 0.0], [0.0, 1.0]]) < 1e-12
    assert log_loss([0, 1], [[0.0, 1.0], [1.0, 0.0]]) == pytest.approx(-np.log(np.finfo(float).eps))
    assert log_loss([0, 1], [[0.0, 1.0], [1.0, 0.0]], eps=1e-3) == pytest.approx(-np.log(1e-3))
    # labels give the columns when y_true misses a class
    assert log_loss([2, 2], [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], labels=[0, 1, 2]) == pytest.approx(
        -np.mean(np.log([0.7, 0.4])))


def test_roc_auc_by_hand():
    assert roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc_score([0, 1], [0.5, 0.5]) == pytest.approx(0.5)  # a tie counts one half
    assert roc_auc_score([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0
    assert roc_auc_score(["no", "yes", "no", "yes"], [4, 3, 2, 1]) == pytest.approx(0.25)  # positive = "yes"
    # ties across classes: pairs (p, n) with s_p > s_n count 1, equal 1/2
    y, s = [0, 1, 0, 1, 1], [0.2, 0.2, 0.5, 0.5, 0.9]
    assert roc_auc_score(y, s) == pytest.approx((0.5 + 0 + 1 + 0.5 + 1 + 1) / 6)
    # a single class: no negative (or positive) to rank against, so NaN and a warning
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present"):
        assert math.isnan(roc_auc_score([1, 1], [0.2, 0.3]))


def test_regression_metrics_by_hand():
    y_true, y_pred = [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]
    assert mean_squared_error(y_true, y_pred) == pytest.approx(0.375)
    assert mean_absolute_error(y_true, y_pred) == pytest.approx(0.5)
    ss_tot = np.sum((np.array(y_true) - np.mean(y_true)) ** 2)
    assert r2_score(y_true, y_pred) == pytest.approx(1 - 1.5 / ss_tot)
    # constant target: 1 if perfect, else 0 (scikit-learn's convention)
    assert r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert r2_score([2.0, 2.0], [2.0, 3.0]) == 0.0
    # 2-D targets: the mean over outputs
    Y, P = np.array([[1.0, 0.0], [2.0, 2.0], [3.0, 1.0]]), np.array([[1.0, 0.0], [2.0, 1.0], [4.0, 1.0]])
    assert r2_score(Y, P) == pytest.approx(np.mean([r2_score(Y[:, j], P[:, j]) for j in range(2)]))
    assert mean_squared_error(Y, P) == pytest.approx(2 / 6)
    with pytest.warns(UndefinedMetricWarning, match="two samples"):
        assert math.isnan(r2_score([1.0], [1.0]))


# ----------------------------------------------------------------------------- properties


@pytest.mark.filterwarnings("ignore::tunelab.core.UndefinedMetricWarning")
@settings(max_examples=30, deadline=None)
@given(labels_pair)
def test_classification_properties(pair):
    y_true, y_pred = map(np.array, pair)
    n = len(y_true)
    C = confusion_matrix(y_true, y_pred)
    assert C.sum() == n and (C >= 0).all()
    assert np.trace(C) / n == pytest.approx(accuracy_score(y_true, y_pred))
    for average in ("macro", "weighted", None):
        p = np.atleast_1d(precision_score(y_true, y_pred, average=average))
        r = np.atleast_1d(recall_score(y_true, y_pred, average=average))
        f = np.atleast_1d(f1_score(y_true, y_pred, average=average))
        assert ((0 <= f) & (f <= 1)).all()
        if average is None:  # per label, F1 is the harmonic mean: between min(p, r) and max(p, r)
            assert (f >= np.minimum(p, r) - 1e-12).all() and (f <= np.maximum(p, r) + 1e-12).all()
    # micro-averaged P = R = F1 = accuracy when every label is counted
    for metric in (precision_score, recall_score, f1_score):
        assert metric(y_true, y_pred, average="micro") == pytest.approx(accuracy_score(y_true, y_pred))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
def test_roc_auc_matches_pair_counting_and_is_antisymmetric(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1
    s = rng.integers(0, 5, n).astype(float)  # many ties
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert roc_auc_score(y, s) == pytest.approx(pairs.mean())
    assert roc_auc_score(y, s) + roc_auc_score(y, -s) == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 30), k=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_log_loss_is_nonnegative_and_matches_definition(n, k, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n)
    value = log_loss(y, proba, labels=np.arange(k))
    assert value >= 0
    assert value == pytest.approx(-np.mean(np.log(np.clip(proba[np.arange(n), y], 1e-300, 1))))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 2**32 - 1))
def test_regression_properties(n, seed):
    rng = np.random.default_rng(seed)
    y, yhat = rng.normal(size=n), rng.normal(size=n)
    assert r2_score(y, y) == 1.0
    assert mean_squared_error(y, y) == 0.0 and mean_absolute_error(y, yhat) >= 0
    assert r2_score(y, np.full(n, y.mean())) == pytest.approx(0.0, abs=1e-12)  # predicting the mean
    assert mean_absolute_error(y, yhat) <= math.sqrt(mean_squared_error(y, yhat)) + 1e-12  # Jensen


# ----------------------------------------------------------------------------- agreement with scikit-learn


@settings(max_examples=30, deadline=None)
@given(labels_pair, st.sampled_from([0.0, 1.0, np.nan]))
def test_precision_recall_f1_confusion_agree_with_sklearn(pair, zero_division):
    skm = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = map(np.array, pair)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a single label is present
        np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    assert accuracy_score(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    averages = ["micro", "macro", "weighted", None]
    if len(np.unique(np.concatenate([y_true, y_pred]))) <= 2:
        averages.append("binary")
    for average in averages:
        pos_label = int(max(y_true.max(), y_pred.max())) if average == "binary" else 1
        for ours, theirs in ((precision_score, skm.precision_score), (recall_score, skm.recall_score),
                             (f1_score, skm.f1_score)):
            kwargs = dict(average=average, zero_division=zero_division, pos_label=pos_label)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = theirs(y_true, y_pred, **kwargs)
            np.testing.assert_allclose(ours(y_true, y_pred, **kwargs), expected, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), k=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_log_loss_and_roc_auc_agree_with_sklearn(n, k, seed):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k) if n >= k else y[:k]
    proba = rng.dirichlet(np.ones(k), n)
    labels = np.arange(k)
    assert log_loss(y, proba, labels=labels) == pytest.approx(skm.log_loss(y, proba, labels=labels))
    yb = (y == 0).astype(int)
    if 0 < yb.sum() < n:
        s = np.round(proba[:, 0], 1)  # rounded to create ties
        assert roc_auc_score(yb, s) == pytest.approx(skm.roc_auc_score(yb, s))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 30), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_regression_metrics_agree_with_sklearn(n, m, seed):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y, yhat = rng.normal(size=(n, m)), rng.normal(size=(n, m))
    for ours, theirs in ((mean_squared_error, skm.mean_squared_error),
                         (mean_absolute_error, skm.mean_absolute_error), (r2_score, skm.r2_score)):
        assert ours(y, yhat) == pytest.approx(theirs(y, yhat))
        assert ours(y[:, 0], yhat[:, 0]) == pytest.approx(theirs(y[:, 0], yhat[:, 0]))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, error, match", [
    (lambda: accuracy_score([0, 1], [0]), ValueError, "same length"),
    (lambda: accuracy_score([], []), ValueError, "empty"),
    (lambda: accuracy_score([[0, 1], [1, 0]], [[0, 1], [1, 0]]), ValueError, "1-D"),
    (lambda: accuracy_score(["a", "b"], [0, 1]), ValueError, "mix string and number"),
    (lambda: accuracy_score([0.0, 1.0], [0.2, 1.3]), ValueError, "continuous"),
    (lambda: accuracy_score([0.0, np.nan], [0.0, 1.0]), ValueError, "NaN"),
    (lambda: f1_score([0, 1, 2], [0, 1, 2]), ValueError, "multiclass"),
    (lambda: f1_score([0, 1], [0, 1], average="mean"), ValueError, "average"),
    (lambda: f1_score([0, 1], [0, 1], zero_division=0.5), ValueError, "zero_division"),
    (lambda: precision_score([2, 3], [2, 3]), ValueError, "pos_label"),
    (lambda: precision_score(["a", "b"], ["a", "b"]), ValueError, "pos_label"),
    (lambda: confusion_matrix([0, 1], [0, 1], labels=[5]), ValueError, "At least one label"),
    (lambda: confusion_matrix([0, 1], [0, 1], labels=[0, 0]), ValueError, "repeat"),
    (lambda: log_loss([1, 1], [0.5, 0.5]), ValueError, "only one label"),
    (lambda: log_loss([0, 1, 2], [[0.5, 0.5]] * 3), ValueError, "columns"),
    (lambda: log_loss([0, 1], [[1.5, -0.5], [0.5, 0.5]]), ValueError, r"\[0, 1\]"),
    (lambda: log_loss([0, 1], [0.5]), ValueError, "same length"),
    (lambda: log_loss([0, 3], [0.5, 0.5], labels=[0, 1]), ValueError, "not in `labels`"),
    (lambda: log_loss([0, 1], [0.5, np.nan]), ValueError, "NaN"),
    (lambda: log_loss([0, 1], [0.5, 0.5], eps=0.7), ValueError, "eps"),
    (lambda: roc_auc_score([0, 1, 2], [0.2, 0.3, 0.1]), ValueError, "multi_class='ovr' or 'ovo'"),
    (lambda: roc_auc_score([0, 1], [[0.2, 0.8], [0.3, 0.7]]), ValueError, r"proba\[:, 1\]"),
    (lambda: roc_auc_score([0, 1, 1], [0.2, 0.3]), ValueError, "same length"),
    (lambda: r2_score([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "same shape"),
    (lambda: mean_squared_error([1.0, np.nan], [1.0, 2.0]), ValueError, "NaN"),
    (lambda: mean_absolute_error([], []), ValueError, "empty"),
    (lambda: mean_squared_error(["a"], ["b"]), ValueError, "numeric"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_log_loss_warns_when_rows_do_not_sum_to_one():
    with pytest.warns(UserWarning, match="sum to one"):
        log_loss([0, 1], [[0.5, 0.2], [0.5, 0.5]])


# ----------------------------------------------------------------------------- scorers


class ThresholdClassifier:
    """Tiny binary classifier on one feature: class 1 when x > t; proba from a logistic curve."""

    _estimator_type = "classifier"

    def __init__(self, t=0.0, use_decision=True):
        self.t = t
        self.classes_ = np.array([0, 1])
        if use_decision:
            self.decision_function = lambda X: np.asarray(X)[:, 0] - self.t

    def predict(self, X):
        return (np.asarray(X)[:, 0] > self.t).astype(int)

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-(np.asarray(X)[:, 0] - self.t)))
        return np.column_stack([1 - p, p])

    def score(self, X, y):
        return accuracy_score(y, self.predict(X))


class ConstantRegressor:
    def __init__(self, c):
        self.c = c

    def predict(self, X):
        return np.full(len(X), self.c)

    def score(self, X, y):
        return r2_score(y, self.predict(X))


def test_scorer_registry():
    names = get_scorer_names()
    required = {"accuracy", "precision", "recall", "f1", "precision_macro", "recall_macro", "f1_macro",
                "f1_micro", "f1_weighted", "neg_log_loss", "roc_auc", "neg_mean_squared_error",
                "neg_mean_absolute_error", "r2"}
    assert required <= set(names) and names == sorted(names) and set(names) == set(SCORERS)
    for name in names:
        scorer = get_scorer(name)
        assert scorer.greater_is_better is True and scorer.name == name
    with pytest.raises(ValueError, match="not a known scorer.*accuracy.*roc_auc"):
        get_scorer("accuracy_score")
    with pytest.raises(TypeError, match="scoring"):
        get_scorer(3)


def test_scorers_compute_their_metric():
    X = np.array([[-2.0], [-0.5], [0.3], [1.0], [2.5], [-0.1]])
    y = np.array([0, 1, 0, 1, 1, 0])
    clf = ThresholdClassifier(t=0.0)
    y_pred, proba = clf.predict(X), clf.predict_proba(X)
    assert get_scorer("accuracy")(clf, X, y) == pytest.approx(accuracy_score(y, y_pred))
    assert get_scorer("f1")(clf, X, y) == pytest.approx(f1_score(y, y_pred))
    assert get_scorer("recall_macro")(clf, X, y) == pytest.approx(recall_score(y, y_pred, average="macro"))
    assert get_scorer("neg_log_loss")(clf, X, y) == pytest.approx(-log_loss(y, proba))
    auc = roc_auc_score(y, X[:, 0])
    assert get_scorer("roc_auc")(clf, X, y) == pytest.approx(auc)
    assert get_scorer("roc_auc")(ThresholdClassifier(use_decision=False), X, y) == pytest.approx(auc)
    reg = ConstantRegressor(1.0)
    target = np.array([0.0, 1.0, 3.0])
    Xr = np.zeros((3, 1))
    assert get_scorer("neg_mean_squared_error")(reg, Xr, target) == pytest.approx(-5 / 3)
    assert get_scorer("neg_mean_absolute_error")(reg, Xr, target) == pytest.approx(-1.0)
    assert get_scorer("r2")(reg, Xr, target) == pytest.approx(r2_score(target, np.ones(3)))


def test_neg_log_loss_uses_estimator_classes_when_a_fold_misses_a_class():
    clf = ThresholdClassifier(t=0.0)
    X, y = np.array([[1.0], [2.0]]), np.array([1, 1])  # only class 1 present
    loss = -np.mean(np.log(clf.predict_proba(X)[:, 1]))
    assert get_scorer("neg_log_loss")(clf, X, y) == pytest.approx(-loss)


def test_roc_auc_scorer_refuses_multiclass_estimators():
    clf = ThresholdClassifier()
    clf.classes_ = np.array([0, 1, 2])
    with pytest.raises(ValueError, match="binary"):
        get_scorer("roc_auc")(clf, np.zeros((3, 1)), [0, 1, 2])


def test_callables_make_scorer_and_check_scoring():
    def my_scorer(estimator, X, y):
        return 42.0

    assert get_scorer(my_scorer) is my_scorer
    loss = make_scorer(mean_absolute_error, greater_is_better=False)
    reg = ConstantRegressor(0.0)
    assert loss(reg, np.zeros((2, 1)), [1.0, 3.0]) == pytest.approx(-2.0)
    assert loss.greater_is_better is True and loss.name == "mean_absolute_error"
    default = check_scoring(reg)
    assert default(reg, np.zeros((2, 1)), np.array([1.0, 3.0])) == pytest.approx(r2_score([1.0, 3.0], [0.0, 0.0]))
    assert check_scoring(reg, "r2") is SCORERS["r2"]
    with pytest.raises(TypeError, match="no `score` method"):
        check_scoring(object())
    with pytest.raises(TypeError, match="score_func"):
        make_scorer("mae")
    with pytest.raises(ValueError, match="response_method"):
        make_scorer(mean_absolute_error, response_method="transform")


def test_scorers_agree_with_sklearn_on_logistic_regression():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer as sk_get_scorer

    from tunelab.core.datasets import load_breast_cancer

    X, y = load_breast_cancer()
    X = (X - X.mean(0)) / X.std(0)
    clf = LogisticRegression(max_iter=500).fit(X[:400], y[:400])
    for name in ("accuracy", "f1", "precision", "recall", "f1_macro", "f1_weighted", "neg_log_loss", "roc_auc"):
        assert get_scorer(name)(clf, X[400:], y[400:]) == pytest.approx(sk_get_scorer(name)(clf, X[400:], y[400:]))
