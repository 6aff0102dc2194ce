"""Splitters partition the data; stratification keeps class shares; cross_validate scores clones per fold."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core.base import BaseEstimator, ClassifierMixin, RegressorMixin
from tunelab.core.linear_model import LogisticRegression
from tunelab.core.metrics import accuracy_score, r2_score
from tunelab.core.model_selection import (
    FitFailedWarning,
    KFold,
    StratifiedKFold,
    check_cv,
    cross_val_score,
    cross_validate,
    train_test_split,
)
from tunelab.core.validation import is_class_labels


class NearestCentroid(ClassifierMixin, BaseEstimator):
    """Predict the class whose training mean is closest (Euclidean)."""

    def __init__(self, shrink=0.0):
        self.shrink = shrink

    def fit(self, X, y):
        X, y = np.asarray(X, float), np.asarray(y)
        self.classes_ = np.unique(y)
        self.centroids_ = np.array([(1 - self.shrink) * X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, X):
        d = ((np.asarray(X, float)[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        return self.classes_[np.argmin(d, axis=1)]


class MeanRegressor(RegressorMixin, BaseEstimator):
    """Predict the training mean of y (plus an offset)."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, X, y):
        self.mean_ = float(np.mean(y)) + self.offset
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class FailingRegressor(MeanRegressor):
    """Fails to fit whenever the training rows include the marker value X = -1."""

    def fit(self, X, y):
        if (np.asarray(X) == -1).any():
            raise RuntimeError("diverged")
        return super().fit(X, y)


def _assert_partition(splits, n):
    tests = [test for _, test in splits]
    all_test = np.concatenate(tests)
    assert np.array_equal(np.sort(all_test), np.arange(n))  # each sample in exactly one test fold
    for train, test in splits:
        assert train.dtype == np.int64 and test.dtype == np.int64
        assert np.intersect1d(train, test).size == 0
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n))


# ----------------------------------------------------------------------------- KFold


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 60), k=st.integers(2, 10), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_kfold_partitions_with_balanced_sizes(n, k, shuffle, seed):
    k = min(k, n)
    cv = KFold(k, shuffle=shuffle, random_state=seed if shuffle else None)
    splits = list(cv.split(np.zeros((n, 2))))
    assert len(splits) == cv.get_n_splits() == k
    _assert_partition(splits, n)
    sizes = [len(test) for _, test in splits]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    if shuffle:  # an int seed gives the same folds on every call
        again = list(cv.split(np.zeros((n, 2))))
        assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))


def test_kfold_without_shuffle_equals_sklearn_and_shuffle_changes_folds():
    sk = pytest.importorskip("sklearn.model_selection")
    X = np.zeros((23, 1))
    for (tr, te), (tr_ref, te_ref) in zip(KFold(4).split(X), sk.KFold(4).split(X)):
        np.testing.assert_array_equal(tr, tr_ref)
        np.testing.assert_array_equal(te, te_ref)
    plain = [te for _, te in KFold(4).split(X)]
    shuffled = [te for _, te in KFold(4, shuffle=True, random_state=0).split(X)]
    other = [te for _, te in KFold(4, shuffle=True, random_state=1).split(X)]
    assert any(not np.array_equal(a, b) for a, b in zip(plain, shuffled))
    assert any(not np.array_equal(a, b) for a, b in zip(shuffled, other))


def test_kfold_accepts_lists_and_generators_advance():
    splits = list(KFold(3).split([[0], [1], [2], [3], [4], [5]]))
    _assert_partition(splits, 6)
    cv = KFold(3, shuffle=True, random_state=np.random.default_rng(0))
    first = [te for _, te in cv.split(np.zeros(30))]
    second = [te for _, te in cv.split(np.zeros(30))]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))  # a Generator is consumed


@pytest.mark.parametrize("make, error, match", [
    (lambda: KFold(1), ValueError, "n_splits"),
    (lambda: KFold(2.5), TypeError, "n_splits"),
    (lambda: KFold(3, shuffle="yes"), TypeError, "shuffle"),
    (lambda: KFold(3, random_state=0), ValueError, "random_state"),
    (lambda: list(KFold(5).split(np.zeros(3))), ValueError, "n_splits.*n_samples=3"),
    (lambda: list(StratifiedKFold(5).split(np.zeros(3), [0, 1, 0])), ValueError, "n_splits"),
    (lambda: list(StratifiedKFold(2).split(np.zeros(4))), ValueError, "needs the class labels"),
    (lambda: list(StratifiedKFold(2).split(np.zeros(4), [0.1, 0.2, 0.3, 0.4])), ValueError, "continuous"),
    (lambda: list(StratifiedKFold(2).split(np.zeros(4), [0, 1, 0])), ValueError, "one label per row"),
    (lambda: list(StratifiedKFold(3).split(np.zeros(4), [0, 0, 1, 1])), ValueError, "each class"),
])
def test_splitter_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------------------- StratifiedKFold


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(3, 25), min_size=1, max_size=4), k=st.integers(2, 3),
       shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_stratified_kfold_keeps_class_shares(counts, k, shuffle, seed):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    n = len(y)
    cv = StratifiedKFold(k, shuffle=shuffle, random_state=seed if shuffle else None)
    splits = list(cv.split(np.zeros((n, 1)), y))
    _assert_partition(splits, n)
    for _, test in splits:
        per_class = np.bincount(y[test], minlength=len(counts))
        assert (np.abs(per_class - np.array(counts) / k) < 1).all()  # within 1 of c / k
    sizes = [len(test) for _, test in splits]
    assert max(sizes) - min(sizes) <= 1


@settings(max_examples=20, deadline=None)
@given(y=st.lists(st.sampled_from(["a", "b", "c"]), min_size=6, max_size=40), k=st.integers(2, 4))
def test_stratified_kfold_without_shuffle_equals_sklearn(y, k):
    sk = pytest.importorskip("sklearn.model_selection")
    y = np.array(y)
    X = np.zeros((len(y), 1))
    if np.bincount(np.unique(y, return_inverse=True)[1]).max() < k:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = list(StratifiedKFold(k).split(X, y)), list(sk.StratifiedKFold(k).split(X, y))
    for (tr, te), (tr_ref, te_ref) in zip(ours, theirs):
        np.testing.assert_array_equal(te, te_ref)
        np.testing.assert_array_equal(tr, tr_ref)


def test_stratified_kfold_seeded_shuffle():
    y = np.repeat([0, 1, 2], [10, 7, 5])
    X = np.zeros((len(y), 1))
    a = [te for _, te in StratifiedKFold(3, shuffle=True, random_state=5).split(X, y)]
    b = [te for _, te in StratifiedKFold(3, shuffle=True, random_state=5).split(X, y)]
    c = [te for _, te in StratifiedKFold(3, shuffle=True, random_state=6).split(X, y)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert any(not np.array_equal(u, v) for u, v in zip(a, c))


def test_stratified_kfold_warns_for_a_small_class():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.warns(UserWarning, match="least populated class.*only 2 members"):
        splits = list(StratifiedKFold(3).split(np.zeros(12), y))
    _assert_partition(splits, 12)


# ----------------------------------------------------------------------------- train_test_split


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 80), test_size=st.one_of(st.floats(0.05, 0.95), st.integers(1, 79)),
       train_size=st.one_of(st.none(), st.floats(0.05, 0.95), st.integers(1, 79)))
def test_train_test_split_sizes_agree_with_sklearn(n, test_size, train_size):
    sk = pytest.importorskip("sklearn.model_selection")
    X = np.arange(n)
    try:
        X_tr_ref, X_te_ref = sk.train_test_split(X, test_size=test_size, train_size=train_size, random_state=0)
    except ValueError:
        with pytest.raises(ValueError):
            train_test_split(X, test_size=test_size, train_size=train_size)
        return
    X_tr, X_te = train_test_split(X, test_size=test_size, train_size=train_size, random_state=0)
    assert (len(X_tr), len(X_te)) == (len(X_tr_ref), len(X_te_ref))
    assert np.intersect1d(X_tr, X_te).size == 0


def test_train_test_split_keeps_rows_together_and_types():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    names = list("abcdefghij")
    X_tr, X_te, y_tr, y_te, n_tr, n_te = train_test_split(X, y, names, test_size=0.3, random_state=1)
    assert X_tr.shape == (7, 2) and X_te.shape == (3, 2)  # ceil(0.3 * 10) = 3 test rows
    np.testing.assert_array_equal(X_tr[:, 0] // 2 * 10, y_tr)
    np.testing.assert_array_equal(X_te[:, 0] // 2 * 10, y_te)
    assert isinstance(n_tr, list) and [names.index(s) * 10 for s in n_te] == y_te.tolist()
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == y.tolist()
    again = train_test_split(X, y, names, test_size=0.3, random_state=1)
    np.testing.assert_array_equal(again[0], X_tr)
    default = train_test_split(np.arange(10), random_state=0)
    assert (len(default[0]), len(default[1])) == (7, 3)  # 25% test, rounded up
    first, rest = train_test_split(np.arange(10), test_size=4, shuffle=False)
    assert first.tolist() == list(range(6)) and rest.tolist() == [6, 7, 8, 9]


@settings(max_examples=25, deadline=None)
@given(counts=st.lists(st.integers(2, 30), min_size=2, max_size=4), test_size=st.floats(0.2, 0.5),
       seed=st.integers(0, 2**32 - 1))
def test_train_test_split_stratified_shares(counts, test_size, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    n_test = int(np.ceil(test_size * n))
    if n_test < len(counts) or n - n_test < len(counts):
        with pytest.raises(ValueError, match="number of classes"):
            train_test_split(y, test_size=test_size, stratify=y, random_state=seed)
        return
    y_tr, y_te = train_test_split(y, test_size=test_size, stratify=y, random_state=seed)
    assert len(y_te) == n_test and len(y_tr) == n - n_test
    expected = np.array(counts) * n_test / n
    assert (np.abs(np.bincount(y_te, minlength=len(counts)) - expected) < 1 + 1e-9).all()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(test_size=0.0), ValueError, "test_size"),
    (dict(test_size=1.0), ValueError, "test_size"),
    (dict(test_size=10), ValueError, "test_size"),
    (dict(test_size=-1), ValueError, "test_size"),
    (dict(test_size="half"), TypeError, "test_size"),
    (dict(test_size=True), TypeError, "test_size"),
    (dict(test_size=0.6, train_size=0.6), ValueError, "<= 1"),
    (dict(test_size=6, train_size=6), ValueError, "exceed"),
    (dict(shuffle=False, stratify=[0, 1] * 5), ValueError, "shuffle=True"),
    (dict(stratify=[0] * 9 + [1]), ValueError, "least populated"),
    (dict(stratify=[0, 1] * 4), ValueError, "stratify"),
    (dict(random_state=1.5), TypeError, "random_state"),
])
def test_train_test_split_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(np.arange(10), **kwargs)


def test_train_test_split_bad_arrays():
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()
    with pytest.raises(ValueError, match="same length"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="empty"):
        train_test_split(np.zeros((0, 2)))


# ----------------------------------------------------------------------------- check_cv


def test_check_cv():
    y_classes, y_continuous = np.array([0, 1] * 10), np.linspace(0, 1, 20)
    assert isinstance(check_cv(4, y_classes, classifier=True), StratifiedKFold)
    assert type(check_cv(4, y_classes, classifier=False)) is KFold
    assert type(check_cv(4, y_continuous, classifier=True)) is KFold
    assert check_cv(None).get_n_splits() == 5
    splitter = KFold(3, shuffle=True, random_state=0)
    assert check_cv(splitter) is splitter
    fixed = check_cv([(np.array([0, 1]), np.array([2])), ([2, 0], [1])])
    assert fixed.get_n_splits() == 2
    pairs = list(fixed.split(np.zeros(3)))
    assert pairs[1][0].tolist() == [2, 0] and pairs[1][1].dtype == np.int64
    with pytest.raises(ValueError, match="out of range"):
        list(fixed.split(np.zeros(2)))
    with pytest.raises(TypeError, match="cv"):
        check_cv("five")
    with pytest.raises(ValueError, match="pair"):
        check_cv([(np.array([0]),)])
    with pytest.raises(ValueError, match="integer"):
        check_cv([([0.5], [1])])
    with pytest.raises(ValueError, match="empty iterable"):
        check_cv([])
    with pytest.raises(ValueError, match="n_splits"):
        check_cv(1)


@pytest.mark.parametrize("y, expected", [
    ([0, 1, 1], True), (["a", "b"], True), ([True, False], True), (np.array(["a", 1], dtype=object), True),
    (np.array([0.0, 2.0, -1.0]), True), (np.array([0.5, 1.0]), False), (np.array([0.0, np.nan]), False),
    (np.array([1.0, np.inf]), False), (np.array([[0], [1]]), False), (np.array([1 + 2j, 1]), False),
])
def test_is_class_labels(y, expected):
    assert is_class_labels(y) is expected


@pytest.mark.parametrize("y", [np.array([0.0, 1.0] * 4), np.array([0.0, 1.0, 0.5, 1.0] * 2), np.array([3, 1] * 4)])
def test_splitters_metrics_and_classifiers_agree_on_class_labels(y):
    X = np.random.default_rng(0).normal(size=(len(y), 2))
    labels = is_class_labels(y)
    assert isinstance(check_cv(2, y, classifier=True), StratifiedKFold) is labels
    for call in (lambda: accuracy_score(y, y), lambda: LogisticRegression().fit(X, y),
                 lambda: list(StratifiedKFold(2).split(X, y))):
        if labels:
            call()
        else:
            with pytest.raises(ValueError, match="continuous"):
                call()


# ----------------------------------------------------------------------------- cross_validate


def _two_blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, 2)) + 2.0 * y[:, None]
    return X, y


def test_cross_validate_scores_each_fold_by_hand():
    X, y = _two_blobs()
    cv = StratifiedKFold(4, shuffle=True, random_state=3)
    result = cross_validate(NearestCentroid(), X, y, cv=cv, return_train_score=True, return_estimator=True)
    assert set(result) == {"fit_time", "score_time", "test_score", "train_score", "estimator"}
    for key in ("fit_time", "score_time", "test_score", "train_score"):
        assert result[key].shape == (4,) and result[key].dtype == np.float64
    assert (result["fit_time"] >= 0).all() and (result["score_time"] >= 0).all()
    for k, (train, test) in enumerate(cv.split(X, y)):
        model = NearestCentroid().fit(X[train], y[train])
        assert result["test_score"][k] == pytest.approx(accuracy_score(y[test], model.predict(X[test])))
        assert result["train_score"][k] == pytest.approx(accuracy_score(y[train], model.predict(X[train])))
        np.testing.assert_allclose(result["estimator"][k].centroids_, model.centroids_)
    fitted = result["estimator"]
    assert len({id(m) for m in fitted}) == 4


def test_cross_validate_clones_and_leaves_the_estimator_unfitted():
    X, y = _two_blobs()
    estimator = NearestCentroid(shrink=0.1)
    result = cross_validate(estimator, X, y, cv=3, return_estimator=True)
    assert not hasattr(estimator, "centroids_")
    assert all(m is not estimator and m.shrink == 0.1 for m in result["estimator"])


def test_cross_validate_default_cv_is_stratified_for_classifiers():
    X, y = _two_blobs(n=30)
    default = cross_validate(NearestCentroid(), X, y, cv=3)["test_score"]
    explicit = cross_validate(NearestCentroid(), X, y, cv=StratifiedKFold(3))["test_score"]
    np.testing.assert_array_equal(default, explicit)


def test_cross_validate_regressor_and_multiple_scorers():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    cv = KFold(5)
    result = cross_validate(MeanRegressor(), X, y, cv=cv, scoring=["r2", "neg_mean_squared_error"],
                            return_train_score=True)
    assert {"test_r2", "test_neg_mean_squared_error", "train_r2", "train_neg_mean_squared_error"} <= set(result)
    for k, (train, test) in enumerate(cv.split(X)):
        prediction = np.full(len(test), y[train].mean())
        assert result["test_r2"][k] == pytest.approx(r2_score(y[test], prediction))
        assert result["test_neg_mean_squared_error"][k] == pytest.approx(-np.mean((y[test] - prediction) ** 2))
    custom = cross_validate(MeanRegressor(), X, y, cv=cv,
                            scoring={"mse": "neg_mean_squared_error", "const": lambda est, X_, y_: 1.0})
    np.testing.assert_allclose(custom["test_mse"], result["test_neg_mean_squared_error"])
    np.testing.assert_array_equal(custom["test_const"], np.ones(5))
    np.testing.assert_allclose(cross_val_score(MeanRegressor(), X, y, cv=cv, scoring="r2"), result["test_r2"])


def test_cross_validate_error_score():
    X = np.arange(20, dtype=float).reshape(-1, 1)
    X[0] = -1.0  # the marker: every fold that trains on row 0 fails
    y = np.arange(20, dtype=float)
    with pytest.warns(FitFailedWarning, match="Fit failed on fold .*diverged"):
        scores = cross_val_score(FailingRegressor(), X, y, cv=KFold(4), error_score=np.nan)
    assert np.isnan(scores[1:]).all() and np.isfinite(scores[0])  # only fold 0 keeps row 0 out of training
    with pytest.warns(FitFailedWarning):
        scores = cross_val_score(FailingRegressor(), X, y, cv=KFold(4), error_score=-1.0)
    assert (scores[1:] == -1.0).all()
    with pytest.raises(RuntimeError, match="diverged"):
        cross_val_score(FailingRegressor(), X, y, cv=KFold(4))


def test_cross_validate_bad_input():
    X, y = _two_blobs()
    with pytest.raises(ValueError, match="not a known scorer"):
        cross_validate(NearestCentroid(), X, y, scoring="accuracy_score")
    with pytest.raises(ValueError, match="error_score"):
        cross_validate(NearestCentroid(), X, y, error_score="ignore")
    with pytest.raises(ValueError, match="same number of rows"):
        cross_validate(NearestCentroid(), X, y[:-1])
    with pytest.raises(ValueError, match="names"):
        cross_validate(NearestCentroid(), X, y, scoring=["accuracy", len])
    with pytest.raises(TypeError, match="one scorer"):
        cross_val_score(NearestCentroid(), X, y, scoring=["accuracy"])
    with pytest.raises(TypeError, match="real number"):
        cross_validate(NearestCentroid(), X, y, scoring=lambda est, X_, y_: "good")


def test_cross_validate_agrees_with_sklearn_logistic_regression():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_validate as sk_cross_validate

    from tunelab.core.datasets import load_wine

    X, y = load_wine()
    X = (X - X.mean(0)) / X.std(0)
    scoring = ["accuracy", "f1_macro", "neg_log_loss"]
    ours = cross_validate(LogisticRegression(max_iter=1000), X, y, cv=5, scoring=scoring)
    theirs = sk_cross_validate(LogisticRegression(max_iter=1000), X, y, cv=5, scoring=scoring)
    for name in scoring:
        np.testing.assert_allclose(ours[f"test_{name}"], theirs[f"test_{name}"], rtol=1e-10)
