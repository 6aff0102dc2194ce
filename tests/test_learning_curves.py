"""learning_curve and validation_curve: each entry is a fit on the stated rows scored as stated, shapes
(n_ticks, n_folds), seeded determinism, a memorising model at train score 1, the incremental path equal
to refitting, agreement with scikit-learn, and bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core.base import BaseEstimator, ClassifierMixin, RegressorMixin
from tunelab.core.metrics import accuracy_score, r2_score
from tunelab.core.model_selection import (
    FitFailedWarning, KFold, StratifiedKFold, learning_curve, validation_curve,
)


class OneNearestNeighbour(ClassifierMixin, BaseEstimator):
    """Predict the label of the closest training row: it memorises its training set."""

    def __init__(self, p=2):
        self.p = p

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X, float), np.asarray(y)
        self.classes_ = np.unique(self.y_)
        return self

    def predict(self, X):
        d = (np.abs(np.asarray(X, float)[:, None, :] - self.X_[None]) ** self.p).sum(-1)  # (m, n)
        return self.y_[np.argmin(d, axis=1)]


class RunningMean(RegressorMixin, BaseEstimator):
    """Predict the mean of the targets seen so far (plus `offset`); partial_fit updates it exactly."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, X, y):
        self.n_seen_, self.total_ = 0, 0.0
        return self.partial_fit(X, y)

    def partial_fit(self, X, y):
        if not hasattr(self, "n_seen_"):
            self.n_seen_, self.total_ = 0, 0.0
        y = np.asarray(y, float)
        if (y < -100).any():
            raise RuntimeError("target out of range")
        self.n_seen_ += len(y)
        self.total_ += float(y.sum())
        return self

    def predict(self, X):
        return np.full(len(X), self.total_ / self.n_seen_ + self.offset)


class AllClassesClassifier(OneNearestNeighbour):
    """1-NN grown by partial_fit, which fails unless it is told all the classes a, b, c."""

    def partial_fit(self, X, y, classes=None):
        if classes is None or list(classes) != ["a", "b", "c"]:
            raise ValueError(f"partial_fit got classes={classes!r}")
        X_old = getattr(self, "X_", np.empty((0, np.shape(X)[1])))
        y_old = getattr(self, "y_", np.empty(0, dtype=np.asarray(y).dtype))
        return self.fit(np.vstack([X_old, X]), np.r_[y_old, y])


def regression_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=n)


# ----------------------------------------------------------------------------- learning_curve


def test_learning_curve_entries_by_hand():
    X, y = regression_data(40)
    cv = KFold(4, shuffle=True, random_state=1)
    sizes, train_scores, test_scores = learning_curve(RunningMean(), X, y, train_sizes=[0.2, 0.5, 1.0], cv=cv,
                                                      shuffle=True, random_state=7)
    np.testing.assert_array_equal(sizes, [6, 15, 30])  # floor of the fraction of the 30 training rows
    assert train_scores.shape == test_scores.shape == (3, 4)
    rng = np.random.default_rng(7)  # shuffle: one permutation of each fold's training rows, in fold order
    for k, (train, test) in enumerate(cv.split(X, y)):
        train = rng.permutation(train)
        for t, n in enumerate(sizes):
            prediction = y[train[:n]].mean()
            assert test_scores[t, k] == pytest.approx(r2_score(y[test], np.full(len(test), prediction)))
            assert train_scores[t, k] == pytest.approx(r2_score(y[train[:n]], np.full(n, prediction)))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(12, 40), k=st.integers(2, 4), fractions=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_a_memorising_model_scores_one_on_its_training_rows(n, k, fractions, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))  # distinct rows: 1-NN recalls every training label
    y = rng.integers(0, 3, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # duplicate sizes are dropped with a warning
        sizes, train_scores, test_scores, fit_times, score_times = learning_curve(
            OneNearestNeighbour(), X, y, train_sizes=fractions, cv=KFold(k), return_times=True)
    n_max = n - int(np.ceil(n / k))  # the first fold's training part
    expected = np.unique(np.clip((np.array(fractions) * n_max).astype(int), 1, n_max))
    np.testing.assert_array_equal(sizes, expected)
    for scores in (train_scores, test_scores, fit_times, score_times):
        assert scores.shape == (len(sizes), k) and scores.dtype == np.float64
    np.testing.assert_array_equal(train_scores, 1.0)
    assert ((0 <= test_scores) & (test_scores <= 1)).all() and (fit_times >= 0).all()


def test_learning_curve_is_deterministic_given_the_seed():
    X, y = regression_data(30)
    runs = [learning_curve(RunningMean(), X, y, cv=3, train_sizes=[0.1, 0.5], shuffle=True, random_state=seed)
            for seed in (3, 3, 4)]
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][2], runs[2][2])  # another seed, other rows in the small training sets
    plain = learning_curve(RunningMean(), X, y, cv=3, train_sizes=[0.1, 0.5])
    again = learning_curve(RunningMean(), X, y, cv=3, train_sizes=[0.1, 0.5])
    np.testing.assert_array_equal(plain[2], again[2])


def test_incremental_learning_equals_refitting():
    X, y = regression_data(36)
    kwargs = dict(train_sizes=[3, 10, 24], cv=KFold(3, shuffle=True, random_state=0), shuffle=True, random_state=2)
    refit = learning_curve(RunningMean(), X, y, **kwargs)
    incremental = learning_curve(RunningMean(), X, y, exploit_incremental_learning=True, **kwargs)
    for a, b in zip(refit, incremental):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # a classifier's partial_fit is told every class of y, even those missing from the first slices
    yc = np.repeat(["a", "b", "c"], 12)
    _, train_scores, _ = learning_curve(AllClassesClassifier(), X, yc, train_sizes=[2, 24], cv=StratifiedKFold(3),
                                        exploit_incremental_learning=True, error_score="raise")
    np.testing.assert_array_equal(train_scores, 1.0)


def test_learning_curve_records_failures():
    X, y = regression_data(30)
    y[0] = -1000.0  # every training set holding row 0 fails to fit
    with pytest.warns(FitFailedWarning) as record:
        sizes, train_scores, test_scores = learning_curve(RunningMean(), X, y, train_sizes=[5, 20], cv=KFold(3))
    assert "Fit failed on fold 1 with 20 training samples (RuntimeError: target out of range)" in str(record[1].message)
    assert len(record) == 4
    # fold 0 tests on row 0; folds 1 and 2 train on it, from the first row on
    assert np.isfinite(test_scores[:, 0]).all() and np.isnan(test_scores[:, 1:]).all()
    assert np.isnan(train_scores[:, 1:]).all()
    with pytest.raises(RuntimeError, match="out of range"):
        learning_curve(RunningMean(), X, y, train_sizes=[5, 20], cv=KFold(3), error_score="raise")
    with pytest.warns(FitFailedWarning):
        _, _, incremental = learning_curve(RunningMean(), X, y, train_sizes=[5, 20], cv=KFold(3),
                                           exploit_incremental_learning=True)
    np.testing.assert_array_equal(np.isnan(incremental), np.isnan(test_scores))
    y_all_bad = np.full(30, -1000.0)
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="All the 6 fits of the learning curve failed"):
        learning_curve(RunningMean(), X, y_all_bad, train_sizes=[5, 20], cv=KFold(3))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(train_sizes=[0.0, 0.5]), ValueError, r"\(0, 1\]"),
    (dict(train_sizes=[0.5, 1.5]), ValueError, r"\(0, 1\]"),
    (dict(train_sizes=[0, 10]), ValueError, r"\[1, 20\]"),
    (dict(train_sizes=[5, 21]), ValueError, r"\[1, 20\]"),
    (dict(train_sizes=[]), ValueError, "non-empty"),
    (dict(train_sizes=["half"]), TypeError, "train_sizes"),
    (dict(shuffle="yes"), TypeError, "shuffle"),
    (dict(shuffle=True, random_state=1.5), TypeError, "random_state"),
    (dict(return_times=1), TypeError, "return_times"),
    (dict(scoring=["r2"]), TypeError, "one scorer"),
    (dict(error_score="ignore"), ValueError, "error_score"),
    (dict(cv=[]), ValueError, "empty"),
])
def test_learning_curve_bad_input(kwargs, error, match):
    X, y = regression_data(30)
    with pytest.raises(error, match=match):
        learning_curve(RunningMean(), X, y, **{"cv": KFold(3), **kwargs})


def test_learning_curve_bad_estimator_and_duplicates():
    X, y = regression_data(30)
    with pytest.raises(TypeError, match="partial_fit"):
        learning_curve(OneNearestNeighbour(), X, y.round(), exploit_incremental_learning=True)
    with pytest.warns(RuntimeWarning, match="Removed duplicate entries"):
        sizes, _, _ = learning_curve(RunningMean(), X, y, train_sizes=[0.5, 0.51, 1.0], cv=KFold(3))
    np.testing.assert_array_equal(sizes, [10, 20])
    with pytest.raises(ValueError, match="same number of rows"):
        learning_curve(RunningMean(), X, y[:-1])


# ----------------------------------------------------------------------------- validation_curve


def test_validation_curve_entries_by_hand():
    X, y = regression_data(30)
    offsets = [-1.0, 0.0, 0.5, 2.0]
    cv = KFold(5, shuffle=True, random_state=0)
    train_scores, test_scores = validation_curve(RunningMean(), X, y, "offset", offsets, cv=cv)
    assert train_scores.shape == test_scores.shape == (4, 5)
    for k, (train, test) in enumerate(cv.split(X, y)):
        for i, offset in enumerate(offsets):
            prediction = y[train].mean() + offset
            assert test_scores[i, k] == pytest.approx(r2_score(y[test], np.full(len(test), prediction)))
            assert train_scores[i, k] == pytest.approx(r2_score(y[train], np.full(len(train), prediction)))
    assert np.argmax(train_scores.mean(axis=1)) == 1  # offset 0 is the least-squares constant on the train rows
    # keyword form, as scikit-learn's signature reads
    again = validation_curve(RunningMean(), X, y, param_name="offset", param_range=offsets, cv=cv)
    np.testing.assert_array_equal(again[1], test_scores)


def test_validation_curve_of_a_memorising_model():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 2, 30)
    train_scores, test_scores = validation_curve(OneNearestNeighbour(), X, y, "p", [1, 2, 3], cv=3,
                                                 scoring="accuracy")
    np.testing.assert_array_equal(train_scores, 1.0)
    for k, (train, test) in enumerate(StratifiedKFold(3).split(X, y)):  # cv=3 stratifies a classifier
        model = OneNearestNeighbour(p=1).fit(X[train], y[train])
        assert test_scores[0, k] == pytest.approx(accuracy_score(y[test], model.predict(X[test])))


@pytest.mark.parametrize("args, kwargs, error, match", [
    (("alpha", [1.0]), {}, ValueError, "'alpha' is not a parameter of RunningMean; its parameters are offset"),
    ((3, [1.0]), {}, TypeError, "param_name"),
    (("offset", []), {}, ValueError, "empty"),
    (("offset", "abc"), {}, TypeError, "param_range"),
    (("offset", 2.0), {}, TypeError, "param_range"),
    (("offset", [0.0]), {"scoring": {"a": "r2"}}, TypeError, "one scorer"),
    (("offset", [0.0]), {"scoring": "accuracy"}, ValueError, "needs class labels"),
])
def test_validation_curve_bad_input(args, kwargs, error, match):
    X, y = regression_data(30)
    with pytest.raises(error, match=match):
        validation_curve(RunningMean(), X, y, *args, **kwargs)


def test_validation_curve_records_failures():
    X, y = regression_data(30)
    y[0] = -1000.0
    with pytest.warns(FitFailedWarning) as record:
        _, test_scores = validation_curve(RunningMean(), X, y, "offset", [0.0, 1.0], cv=KFold(3))
    assert [str(w.message).split(" (")[0] for w in record] == [
        f"Fit failed on fold {k} with offset={v}" for k in (1, 2) for v in (0.0, 1.0)]
    assert np.isfinite(test_scores[:, 0]).all() and np.isnan(test_scores[:, 1:]).all()
    with pytest.raises(RuntimeError, match="out of range"):
        validation_curve(RunningMean(), X, y, "offset", [0.0], cv=KFold(3), error_score="raise")


# ----------------------------------------------------------------------------- agreement with scikit-learn


def test_curves_agree_with_sklearn():
    sk = pytest.importorskip("sklearn.model_selection")
    from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from tunelab.core.datasets import load_wine

    X, y = load_wine()
    Xr, yr = X[:, 1:], X[:, 0]
    ridge = make_pipeline(StandardScaler(), Ridge())
    for train_sizes in ([0.1, 0.4, 1.0], [5, 50, 100]):
        ours = learning_curve(ridge, Xr, yr, train_sizes=train_sizes, cv=4, return_times=True)
        theirs = sk.learning_curve(ridge, Xr, yr, train_sizes=train_sizes, cv=4, return_times=True)
        for a, b in zip(ours[:3], theirs[:3]):
            np.testing.assert_allclose(a, b, rtol=1e-10)
        assert [a.shape for a in ours] == [b.shape for b in theirs]
    ours = validation_curve(ridge, Xr, yr, "ridge__alpha", [0.01, 1.0, 100.0], cv=4, scoring="neg_mean_squared_error")
    theirs = sk.validation_curve(ridge, Xr, yr, param_name="ridge__alpha", param_range=[0.01, 1.0, 100.0], cv=4,
                                 scoring="neg_mean_squared_error")
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    # a classifier: stratified folds, and the small unshuffled training sets that miss classes fail alike
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = learning_curve(clf, X, y, train_sizes=[0.1, 0.3, 1.0], cv=3, scoring="f1_macro")
        theirs = sk.learning_curve(clf, X, y, train_sizes=[0.1, 0.3, 1.0], cv=3, scoring="f1_macro")
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, equal_nan=True)
        sgd = SGDClassifier(random_state=0)
        ours = learning_curve(sgd, X / X.max(0), y, train_sizes=[0.3, 1.0], cv=3, exploit_incremental_learning=True)
        theirs = sk.learning_curve(sgd, X / X.max(0), y, train_sizes=[0.3, 1.0], cv=3,
                                   exploit_incremental_learning=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_curves_of_a_tunelab_model():
    from tunelab.core import LogisticRegression, load_breast_cancer

    X, y = load_breast_cancer()
    X = (X - X.mean(0)) / X.std(0)
    sizes, train_scores, test_scores = learning_curve(LogisticRegression(), X, y, train_sizes=[0.2, 1.0], cv=3,
                                                      shuffle=True, random_state=0)
    assert sizes.tolist() == [75, 379] and np.isfinite(test_scores).all()
    train_scores, test_scores = validation_curve(LogisticRegression(), X, y, "alpha", [1e-4, 10.0], cv=3)
    assert train_scores.shape == (2, 3) and np.isfinite(train_scores).all()
    assert train_scores[0].mean() > train_scores[1].mean()  # a strong penalty underfits the training rows
