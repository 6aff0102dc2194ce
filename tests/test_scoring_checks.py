"""Scorers are checked against the estimator and the target before any fit: a binary-only scorer on a
multiclass y (and similar mismatches) fails at the start of cross_validate, the curves and SearchCV.
The multiclass scorers (roc_auc_ovr/ovo, average_precision) compute their metric."""

import numpy as np
import pytest

from tunelab.core import UndefinedMetricWarning, check_scoring
from tunelab.core.base import BaseEstimator, ClassifierMixin, RegressorMixin
from tunelab.core.metrics import (
    average_precision_score, f1_score, get_scorer, make_scorer, mean_squared_error, roc_auc_score,
)
from tunelab.core.model_selection import cross_val_score, cross_validate, learning_curve, validation_curve
from tunelab.searchers.search_cv import SearchCV
from tunelab.searchers.space import Real

FITS = []  # every fit of the estimators below appends here


class SoftCentroid(ClassifierMixin, BaseEstimator):
    """Nearest class mean; predict_proba = softmax(-distance^2 / temperature)."""

    def __init__(self, temperature=1.0):
        self.temperature = temperature

    def fit(self, X, y):
        FITS.append(type(self).__name__)
        X, y = np.asarray(X, float), np.asarray(y)
        self.classes_ = np.unique(y)
        self.centroids_ = np.array([X[y == c].mean(axis=0) for c in self.classes_])  # (K, d)
        return self

    def predict_proba(self, X):
        d2 = ((np.asarray(X, float)[:, None, :] - self.centroids_[None]) ** 2).sum(-1)  # (n, K)
        z = -d2 / self.temperature
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class MeanRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, X, y):
        FITS.append(type(self).__name__)
        self.mean_ = float(np.mean(y)) + self.offset
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def blobs(k=3, n_per=10, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    return rng.normal(size=(len(y), 2)) + 3.0 * np.c_[np.cos(y), np.sin(y)], y


X3, Y3 = blobs(3)
X2, Y2 = blobs(2)


@pytest.fixture(autouse=True)
def no_fits_yet():
    FITS.clear()


# ----------------------------------------------------------------------------- check_scoring


@pytest.mark.parametrize("scoring, hint", [
    ("roc_auc", "'roc_auc_ovr', 'roc_auc_ovo'"),
    ("f1", "'f1_macro', 'f1_weighted' or 'f1_micro'"),
    ("precision", "'precision_macro'"),
    ("recall", "'recall_macro'"),
    (make_scorer(f1_score), "average='macro'"),
    (make_scorer(roc_auc_score, response_method="threshold"), "multi_class='ovr'"),
])
def test_binary_only_scorers_are_refused_on_a_multiclass_target(scoring, hint):
    with pytest.raises(ValueError, match=rf"binary targets only, but y is multiclass \(3 distinct values \[0, 1, 2\]\).*{hint}"):
        check_scoring(SoftCentroid(), scoring, y=Y3)
    assert check_scoring(SoftCentroid(), scoring, y=Y2) is get_scorer(scoring)  # binary: fine


@pytest.mark.parametrize("scoring", ["accuracy", "f1_macro", "precision_weighted", "recall_micro", "neg_log_loss",
                                     "roc_auc_ovr", "roc_auc_ovo", "roc_auc_ovr_weighted", "roc_auc_ovo_weighted",
                                     "average_precision", make_scorer(f1_score, average="macro")])
def test_multiclass_scorers_are_accepted(scoring):
    assert check_scoring(SoftCentroid(), scoring, y=Y3) is get_scorer(scoring)


def test_other_mismatches_between_scorer_and_target():
    y_text = np.array(["no", "yes"])[Y2]
    with pytest.raises(ValueError, match=r"positive label 1, which is not a label of y \(\['no', 'yes'\]\).*'f1_macro'"):
        check_scoring(SoftCentroid(), "f1", y=y_text)
    with pytest.raises(ValueError, match="positive label 1"):
        check_scoring(SoftCentroid(), "average_precision", y=y_text)
    assert check_scoring(SoftCentroid(), make_scorer(f1_score, pos_label="yes"), y=y_text) is not None
    check_scoring(SoftCentroid(), "roc_auc", y=y_text)  # the positive class is the larger label
    y_real = np.linspace(0.0, 1.0, 30)
    with pytest.raises(ValueError, match="'accuracy' needs class labels, but y looks continuous.*'r2'"):
        check_scoring(MeanRegressor(), "accuracy", y=y_real)
    with pytest.raises(ValueError, match="SoftCentroid is a classifier but `y` looks continuous"):
        check_scoring(SoftCentroid(), None, y=y_real)
    with pytest.raises(ValueError, match="'r2' is a regression scorer, but y holds text labels"):
        check_scoring(MeanRegressor(), "r2", y=y_text)
    assert check_scoring(MeanRegressor(), "neg_mean_squared_error", y=Y3) is not None  # integer targets regress
    assert check_scoring(MeanRegressor(), None, y=y_real) is not None
    assert check_scoring(MeanRegressor(), "r2", y=np.c_[y_real, y_real]) is not None  # two outputs


def test_scorers_need_the_estimator_methods_they_call():
    with pytest.raises(TypeError, match="'neg_log_loss' scorer needs predict_proba; MeanRegressor has no predict_proba"):
        check_scoring(MeanRegressor(), "neg_log_loss")
    with pytest.raises(TypeError, match="'roc_auc' scorer needs decision_function or predict_proba.*neither"):
        check_scoring(MeanRegressor(), "roc_auc", y=Y2)


def test_user_callables_are_not_checked():
    def constant(estimator, X, y):
        return 1.0

    assert check_scoring(SoftCentroid(), constant, y=np.linspace(0, 1, 5)) is constant
    custom = make_scorer(lambda y_true, y_pred: 0.0, name="mine")
    assert custom.targets is None and check_scoring(SoftCentroid(), custom, y=Y3) is custom


# ----------------------------------------------------------------------------- before any fit


@pytest.mark.parametrize("run", [
    lambda scoring: cross_validate(SoftCentroid(), X3, Y3, cv=3, scoring=scoring),
    lambda scoring: cross_validate(SoftCentroid(), X3, Y3, cv=3, scoring=["accuracy", scoring]),
    lambda scoring: cross_validate(SoftCentroid(), X3, Y3, cv=3, scoring={"a": "accuracy", "b": scoring}),
    lambda scoring: cross_val_score(SoftCentroid(), X3, Y3, cv=3, scoring=scoring),
    lambda scoring: learning_curve(SoftCentroid(), X3, Y3, train_sizes=[0.6, 1.0], cv=3, scoring=scoring,
                                   shuffle=True, random_state=0),
    lambda scoring: validation_curve(SoftCentroid(), X3, Y3, "temperature", [0.5, 1.0], cv=3, scoring=scoring),
    lambda scoring: SearchCV(SoftCentroid(), {"temperature": Real(0.1, 10.0, log=True)}, n_trials=3, cv=3,
                             scoring=scoring, random_state=0).fit(X3, Y3),
])
def test_a_binary_scorer_on_a_multiclass_target_fails_before_any_fit(run):
    with pytest.raises(ValueError, match="'roc_auc' is for binary targets only"):
        run("roc_auc")
    assert FITS == []
    run("roc_auc_ovr")  # the multiclass form runs
    assert FITS


# ----------------------------------------------------------------------------- the multiclass scorers


def test_multiclass_scorers_compute_their_metric():
    model = SoftCentroid(temperature=4.0).fit(X3, Y3)
    proba = model.predict_proba(X3)
    for multi_class in ("ovr", "ovo"):
        for suffix, average in (("", "macro"), ("_weighted", "weighted")):
            expected = roc_auc_score(Y3, proba, multi_class=multi_class, average=average)
            assert get_scorer(f"roc_auc_{multi_class}{suffix}")(model, X3, Y3) == pytest.approx(expected)
    assert get_scorer("average_precision")(model, X3, Y3) == pytest.approx(average_precision_score(Y3, proba))
    binary = SoftCentroid(temperature=4.0).fit(X2, Y2)  # a two-class estimator: the binary AUC
    auc = roc_auc_score(Y2, binary.predict_proba(X2)[:, 1])
    for name in ("roc_auc", "roc_auc_ovr", "roc_auc_ovo_weighted"):
        assert get_scorer(name)(binary, X2, Y2) == pytest.approx(auc)


def test_a_fold_without_a_class_uses_the_estimator_classes():
    model = SoftCentroid(temperature=4.0).fit(X3, Y3)
    keep = Y3 != 2  # class 2 absent from this fold, but a column of predict_proba
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(get_scorer("roc_auc_ovr")(model, X3[keep], Y3[keep]))
    with pytest.warns(UndefinedMetricWarning):
        weighted = get_scorer("roc_auc_ovr_weighted")(model, X3[keep], Y3[keep])
    proba = model.predict_proba(X3[keep])
    per_class = [roc_auc_score(Y3[keep] == k, proba[:, k]) for k in (0, 1)]
    assert weighted == pytest.approx(np.mean(per_class))  # equal class sizes
    assert get_scorer("roc_auc_ovo")(model, X3[keep], Y3[keep]) == pytest.approx(
        roc_auc_score(Y3[keep], proba, multi_class="ovo", labels=[0, 1, 2]))


def test_a_binary_only_scorer_refuses_a_multiclass_estimator():
    model = SoftCentroid().fit(X3, Y3)
    with pytest.raises(ValueError, match="'roc_auc' scorer is for binary targets only; the estimator has 3"):
        get_scorer("roc_auc")(model, X3[Y3 < 2], Y3[Y3 < 2])


def test_multiclass_scorers_agree_with_sklearn():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer as sk_get_scorer

    from tunelab.core.datasets import load_wine

    X, y = load_wine()
    X = (X - X.mean(0)) / X.std(0)
    clf = LogisticRegression(C=0.05, max_iter=500).fit(X[::2], y[::2])
    for name in ("roc_auc_ovr", "roc_auc_ovo", "roc_auc_ovr_weighted", "roc_auc_ovo_weighted", "average_precision"):
        ours, theirs = get_scorer(name)(clf, X[1::2], y[1::2]), sk_get_scorer(name)(clf, X[1::2], y[1::2])
        assert ours == pytest.approx(theirs, rel=1e-12), name


def test_regression_scorers_still_score():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    scores = cross_val_score(MeanRegressor(), X, y, cv=4, scoring="neg_mean_squared_error")
    first_test = np.arange(5)
    assert scores[0] == pytest.approx(-mean_squared_error(y[first_test], np.full(5, y[5:].mean())))
