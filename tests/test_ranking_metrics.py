"""ROC and precision-recall curves, ROC AUC (binary, partial, multiclass one-vs-rest and Hand & Till's
one-vs-one) and average precision: hand-computed cases, pair-counting definitions, warnings on undefined
values, agreement with scikit-learn, and bad input."""

import math
import warnings
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import UndefinedMetricWarning
from tunelab.core.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

Y4, S4 = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])  # scikit-learn's documented example


def pair_auc(positive, score):
    """P(score of a random positive > score of a random negative), ties counting 1/2: the AUC's definition."""
    pos, neg = score[positive], score[~positive]
    return float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))


def random_problem(n, k, seed, decimals=1):
    """Labels 0..k-1 with every class present (n >= k) and rounded probabilities (many ties)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.r_[np.arange(k), rng.integers(0, k, n - k)])
    S = np.round(rng.dirichlet(np.ones(k), n), decimals)
    return y, S / S.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- hand-computed cases


def test_roc_curve_by_hand():
    fpr, tpr, thresholds = roc_curve(Y4, S4)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert auc(fpr, tpr) == pytest.approx(0.75) == roc_auc_score(Y4, S4)
    # string labels with an explicit positive label give the same curve
    same = roc_curve(np.array(["n", "n", "p", "p"]), S4, pos_label="p")
    for a, b in zip(same, (fpr, tpr, thresholds)):
        np.testing.assert_allclose(a, b)


def test_roc_curve_drops_only_collinear_points():
    y, s = [1, 1, 0, 0], [4, 3, 2, 1]
    fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, [0, 0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1, 1])
    kept = roc_curve(y, s)  # (0.5, 1) lies on the segment from (0, 1) to (1, 1)
    np.testing.assert_allclose(kept[0], [0, 0, 0, 1])
    np.testing.assert_allclose(kept[1], [0, 0.5, 1, 1])
    np.testing.assert_allclose(kept[2], [np.inf, 4, 3, 1])
    assert auc(kept[0], kept[1]) == auc(fpr, tpr) == 1.0


def test_precision_recall_curve_and_average_precision_by_hand():
    precision, recall, thresholds = precision_recall_curve(Y4, S4)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.5, 1, 1])
    np.testing.assert_allclose(recall, [1, 1, 0.5, 0.5, 0])
    np.testing.assert_allclose(thresholds, [0.1, 0.35, 0.4, 0.8])
    # AP = sum_k (R_k - R_{k-1}) P_k, thresholds from high to low: 0.5 * 1 + 0 * 0.5 + 0.5 * 2/3 + 0 * 0.5
    assert average_precision_score(Y4, S4) == pytest.approx(0.5 + 0.5 * 2 / 3)
    # drop_intermediate keeps the first and last threshold of each run of equal recall (here 5 and 2)
    p, r, t = precision_recall_curve([1, 0, 0, 0, 1], [5, 4, 3, 2, 1], drop_intermediate=True)
    np.testing.assert_allclose(t, [1, 2, 5])
    np.testing.assert_allclose(r, [1, 0.5, 0.5, 0])
    np.testing.assert_allclose(p, [0.4, 0.25, 1, 1])


def test_auc_trapezoid():
    assert auc([0, 1, 2], [0, 1, 0]) == pytest.approx(1.0)
    assert auc([2, 1, 0], [0, 1, 0]) == pytest.approx(1.0)  # decreasing x: the same area
    assert auc([0, 0.5, 1], [1, 1, 1]) == pytest.approx(1.0)


def test_partial_auc_is_standardised():
    y = np.array([0, 1] * 10)
    for max_fpr in (0.1, 0.5, 1.0):
        assert roc_auc_score(y, np.ones(20), max_fpr=max_fpr) == pytest.approx(0.5)  # all tied: chance
        assert roc_auc_score(y, y + 0.1, max_fpr=max_fpr) == pytest.approx(1.0)  # perfect ranking
    # reversed scores: area 0 under the curve up to max_fpr, so 0.5 * (1 - (a^2/2) / (a - a^2/2))
    a = 0.4
    assert roc_auc_score(y, -y, max_fpr=a) == pytest.approx(0.5 * (1 - (a * a / 2) / (a - a * a / 2)))
    assert roc_auc_score(Y4, S4, max_fpr=1.0) == roc_auc_score(Y4, S4)


def test_multiclass_roc_auc_by_hand():
    y = np.array([0, 0, 1, 1, 2, 2])
    S = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.3, 0.4, 0.3],
                  [0.5, 0.4, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    ovr = [pair_auc(y == k, S[:, k]) for k in range(3)]
    assert roc_auc_score(y, S, multi_class="ovr") == pytest.approx(np.mean(ovr))
    np.testing.assert_allclose(roc_auc_score(y, S, multi_class="ovr", average=None), ovr)
    assert roc_auc_score(y, S, multi_class="ovr", average="micro") == pytest.approx(
        pair_auc((y[:, None] == np.arange(3)).ravel(), S.ravel()))
    # Hand & Till: mean over pairs (i, j) of (A(i|j) + A(j|i)) / 2, each on the samples of i and j only
    pairs = []
    for i, j in combinations(range(3), 2):
        m = (y == i) | (y == j)
        pairs.append((pair_auc(y[m] == i, S[m, i]) + pair_auc(y[m] == j, S[m, j])) / 2)
    assert roc_auc_score(y, S, multi_class="ovo") == pytest.approx(np.mean(pairs))
    # equal class sizes: the weighted averages equal the plain ones
    assert roc_auc_score(y, S, multi_class="ovo", average="weighted") == pytest.approx(np.mean(pairs))
    assert roc_auc_score(y, S, multi_class="ovr", average="weighted") == pytest.approx(np.mean(ovr))
    # string labels: the columns follow the sorted labels
    names = np.array(["ant", "bee", "cat"])[y]
    assert roc_auc_score(names, S, multi_class="ovo") == pytest.approx(np.mean(pairs))


def test_two_columns_with_multi_class_score_the_binary_problem():
    y, S = np.array([0, 1, 1, 0, 1]), np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5], [0.1, 0.9]])
    for multi_class in ("ovr", "ovo"):
        assert roc_auc_score(y, S, multi_class=multi_class) == pytest.approx(roc_auc_score(y, S[:, 1]))


def test_multiclass_average_precision_by_hand():
    y = np.array([0, 1, 2, 0])
    S = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]])
    per_class = [average_precision_score(y == k, S[:, k], pos_label=True) for k in range(3)]
    np.testing.assert_allclose(average_precision_score(y, S, average=None), per_class)
    assert average_precision_score(y, S) == pytest.approx(np.mean(per_class))
    assert average_precision_score(y, S, average="weighted") == pytest.approx(np.average(per_class, weights=[2, 1, 1]))


# ----------------------------------------------------------------------------- undefined values warn


def test_single_class_and_absent_labels_warn():
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        fpr, tpr, _ = roc_curve([1, 1, 1], [0.2, 0.5, 0.9])
    assert np.isnan(fpr).all() and tpr[-1] == 1.0
    with pytest.warns(UndefinedMetricWarning, match="No positive samples"):
        fpr, tpr, _ = roc_curve([0, 0], [0.2, 0.5])
    assert np.isnan(tpr).all()
    with pytest.warns(UndefinedMetricWarning, match="recall is set to one"):
        _, recall, _ = precision_recall_curve([0, 0, 0], [0.1, 0.4, 0.3])
    np.testing.assert_array_equal(recall, [1, 1, 1, 0])
    with pytest.warns(UndefinedMetricWarning, match="No positive class"):
        assert average_precision_score([0, 0], [0.1, 0.2]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(roc_auc_score([0, 0, 0], [0.1, 0.2, 0.3], max_fpr=0.5))
    # class 2 is a column of y_score but absent from y_true: its one-vs-rest AUC is undefined
    y = np.array([0, 1, 1, 0])
    S = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2]])
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        per_class = roc_auc_score(y, S, multi_class="ovr", labels=[0, 1, 2], average=None)
    assert math.isnan(per_class[2]) and not np.isnan(per_class[:2]).any()
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(roc_auc_score(y, S, multi_class="ovr", labels=[0, 1, 2]))
    with pytest.warns(UndefinedMetricWarning):  # weight 0 for the absent class
        weighted = roc_auc_score(y, S, multi_class="ovr", labels=[0, 1, 2], average="weighted")
    assert weighted == pytest.approx(np.mean(per_class[:2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one-vs-one averages over the pairs present: defined, silent
        ovo = roc_auc_score(y, S, multi_class="ovo", labels=[0, 1, 2])
    assert ovo == pytest.approx((pair_auc(y == 0, S[:, 0]) + pair_auc(y == 1, S[:, 1])) / 2)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 40), k=st.integers(3, 5), seed=st.integers(0, 2**32 - 1))
def test_multiclass_auc_matches_pair_counting(n, k, seed):
    y, S = random_problem(max(n, k), k, seed)
    ovr = [pair_auc(y == c, S[:, c]) for c in range(k)]
    assert roc_auc_score(y, S, multi_class="ovr") == pytest.approx(np.mean(ovr))
    counts = np.bincount(y, minlength=k)
    assert roc_auc_score(y, S, multi_class="ovr", average="weighted") == pytest.approx(np.average(ovr, weights=counts))
    pairs, prevalence = [], []
    for i, j in combinations(range(k), 2):
        m = (y == i) | (y == j)
        pairs.append((pair_auc(y[m] == i, S[m, i]) + pair_auc(y[m] == j, S[m, j])) / 2)
        prevalence.append(m.mean())
    assert roc_auc_score(y, S, multi_class="ovo") == pytest.approx(np.mean(pairs))
    assert roc_auc_score(y, S, multi_class="ovo", average="weighted") == pytest.approx(
        np.average(pairs, weights=prevalence))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
def test_curves_are_monotone_and_their_areas_match(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.r_[0, 1, rng.integers(0, 2, n - 2)])
    s = rng.integers(0, 6, n).astype(float)
    for drop in (True, False):
        fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=drop)
        assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all() and (np.diff(thresholds) < 0).all()
        assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
        assert auc(fpr, tpr) == pytest.approx(pair_auc(y == 1, s))
    precision, recall, thresholds = precision_recall_curve(y, s)
    assert (np.diff(recall) <= 0).all() and precision[-1] == 1 and recall[-1] == 0
    assert len(precision) == len(recall) == len(thresholds) + 1
    # AP: mean over the positives of the precision at their rank, with ties as one threshold
    ap = np.mean([np.mean(y[s >= v] == 1) for v in s[y == 1]])
    assert average_precision_score(y, s) == pytest.approx(ap)


# ----------------------------------------------------------------------------- agreement with scikit-learn


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 2**32 - 1), drop=st.booleans())
def test_binary_curves_and_scores_agree_with_sklearn(n, seed, drop):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.round(rng.random(n), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn when a class is missing
        for ours, theirs in ((roc_curve, skm.roc_curve), (precision_recall_curve, skm.precision_recall_curve)):
            for a, b in zip(ours(y, s, drop_intermediate=drop), theirs(y, s, drop_intermediate=drop)):
                np.testing.assert_allclose(a, b, equal_nan=True)
        assert average_precision_score(y, s) == pytest.approx(skm.average_precision_score(y, s))
        np.testing.assert_allclose(roc_auc_score(y, s), skm.roc_auc_score(y, s), equal_nan=True)
        if 0 < y.sum() < n:
            for max_fpr in (0.2, 0.75):
                assert roc_auc_score(y, s, max_fpr=max_fpr) == pytest.approx(
                    skm.roc_auc_score(y, s, max_fpr=max_fpr))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 40), k=st.integers(3, 5), seed=st.integers(0, 2**32 - 1), missing=st.booleans())
def test_multiclass_scores_agree_with_sklearn(n, k, seed, missing):
    skm = pytest.importorskip("sklearn.metrics")
    y, S = random_problem(max(n, k), k, seed)
    labels = np.arange(k)
    if missing:  # a label of the columns absent from y_true
        y = np.where(y == k - 1, 0, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for multi_class, averages in (("ovr", ("macro", "weighted", "micro", None)), ("ovo", ("macro", "weighted"))):
            for average in averages:
                kwargs = dict(multi_class=multi_class, average=average, labels=labels)
                np.testing.assert_allclose(roc_auc_score(y, S, **kwargs), skm.roc_auc_score(y, S, **kwargs),
                                           equal_nan=True)
        present = np.unique(y)
        if len(present) > 2:
            for average in ("macro", "weighted", "micro", None):
                np.testing.assert_allclose(average_precision_score(y, S[:, present], average=average),
                                           skm.average_precision_score(y, S[:, present], average=average))


# ----------------------------------------------------------------------------- bad input


S3 = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1]])


@pytest.mark.parametrize("call, error, match", [
    (lambda: roc_curve([0, 2, 2], [0.1, 0.2, 0.3]), ValueError, "pos_label"),
    (lambda: roc_curve(["a", "b"], [0.1, 0.2]), ValueError, "pos_label"),
    (lambda: roc_curve([0, 1], [0.1, 0.2, 0.3]), ValueError, "same length"),
    (lambda: roc_curve([0, 1], [[0.1, 0.9], [0.2, 0.8]]), ValueError, "1-D"),
    (lambda: roc_curve([0, 1], [0.1, np.nan]), ValueError, "NaN"),
    (lambda: precision_recall_curve([0.5, 1.5], [0.1, 0.2]), ValueError, "continuous"),
    (lambda: auc([0], [1]), ValueError, "At least 2 points"),
    (lambda: auc([0, 2, 1], [0, 1, 1]), ValueError, "neither increasing nor decreasing"),
    (lambda: auc([0, 1], [0, 1, 2]), ValueError, "same length"),
    (lambda: average_precision_score([2, 3], [0.1, 0.2]), ValueError, "pos_label"),
    (lambda: average_precision_score([0, 1, 2], S3, pos_label=2), ValueError, "fixed to 1"),
    (lambda: average_precision_score([0, 1, 2], S3[:, :2]), ValueError, "columns"),
    (lambda: average_precision_score([0, 1], [0.1, 0.2], average="samples"), ValueError, "average"),
    (lambda: roc_auc_score([0, 1, 2], S3), ValueError, "multi_class='ovr' or 'ovo'"),
    (lambda: roc_auc_score([0, 1], [[0.1, 0.9], [0.2, 0.8]]), ValueError, r"proba\[:, 1\]"),
    (lambda: roc_auc_score([0, 1, 2], S3, multi_class="ovx"), ValueError, "multi_class"),
    (lambda: roc_auc_score([0, 1, 2], S3 * 2, multi_class="ovr"), ValueError, "sum to 1"),
    (lambda: roc_auc_score([0, 1, 2], S3, multi_class="ovr", labels=[2, 1, 0]), ValueError, "sorted"),
    (lambda: roc_auc_score([0, 1, 2], S3, multi_class="ovr", labels=[0, 1, 2, 3]), ValueError, "columns"),
    (lambda: roc_auc_score([0, 1, 5], S3, multi_class="ovr", labels=[0, 1, 2]), ValueError, r"\[5\]"),
    (lambda: roc_auc_score([0, 1, 1], S3, multi_class="ovr"), ValueError, "`labels`"),
    (lambda: roc_auc_score([0, 1, 2], S3, multi_class="ovo", average=None), ValueError, "ovo"),
    (lambda: roc_auc_score([0, 1, 2], S3, multi_class="ovr", max_fpr=0.5), ValueError, "max_fpr"),
    (lambda: roc_auc_score([0, 1], [0.1, 0.2], max_fpr=0), ValueError, "max_fpr"),
    (lambda: roc_auc_score([0, 1], [0.1, 0.2], max_fpr=1.5), ValueError, "max_fpr"),
    (lambda: roc_auc_score([0, 1], [0.1, 0.2], average="mean"), ValueError, "average"),
    (lambda: roc_auc_score([0, 1], [0.1, 0.2], max_fpr="all"), TypeError, "max_fpr"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
