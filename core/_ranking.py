"""Ranking metrics: ROC and precision-recall curves, the areas under them, and ROC AUC for multiclass targets.

Each metric scores how well a continuous `y_score` ranks the positive samples above the negative ones.
Semantics follow scikit-learn's `sklearn.metrics` (names, arguments, returned arrays, warnings); a metric
that meets a target with a single class warns with UndefinedMetricWarning and returns what
scikit-learn returns (NaN for an AUC). Sample weights and multilabel targets are not supported.
"""

import numbers
import warnings
from itertools import combinations

import numpy as np

from tunelab.core._metric_inputs import (
    UndefinedMetricWarning, as_1d, check_class_labels, check_label_list, is_text, positions,
)
from tunelab.core.validation import check_array, check_choice, check_scalar

_AVERAGES = ("micro", "macro", "weighted", None)


# ----------------------------------------------------------------------------- inputs


def _check_score_1d(y_true, y_score):
    """(y_true labels (n,), y_score float64 (n,)) of equal length."""
    y_true = as_1d(y_true, "y_true")
    check_class_labels(y_true, "y_true")
    score = np.asarray(y_score)
    if score.ndim == 2 and score.shape[1] == 1:
        score = score.ravel()
    if score.ndim != 1:
        raise ValueError(f"`y_score` must be 1-D (one score per sample); got shape {score.shape}.")
    score = check_array(score, "y_score", ndim=1)
    if len(score) != len(y_true):
        raise ValueError(f"`y_true` and `y_score` must have the same length; got {len(y_true)} and {len(score)}.")
    return y_true, score


def _positive_mask(y_true, pos_label):
    """y_true == pos_label as a bool (n,); pos_label=None means 1, allowed only for 0/1 or -1/1 labels."""
    classes = np.unique(y_true)
    if pos_label is None:
        plain = any(np.array_equal(classes, c) for c in ([0, 1], [-1, 1], [0], [-1], [1]))
        if is_text(classes) or not plain:
            raise ValueError(
                f"`y_true` takes values in {classes.tolist()} and `pos_label` is not given: either make y_true "
                "take values in {0, 1} or {-1, 1} or pass `pos_label` explicitly."
            )
        pos_label = 1
    return y_true == pos_label


# ----------------------------------------------------------------------------- curves


def _clf_curve(positive, score):
    """True and false positive counts when the samples with score >= t are called positive, for each
    distinct score t in decreasing order: (fps, tps, thresholds), float64 (m,)."""
    order = np.argsort(score, kind="mergesort")[::-1]
    score, positive = score[order], positive[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # (m,)
    tps = np.cumsum(positive, dtype=np.float64)[last_of_tie]
    fps = 1.0 + last_of_tie - tps
    return fps, tps, score[last_of_tie]


def _rates(counts, what, kind):
    """counts / counts[-1], or NaN everywhere with an UndefinedMetricWarning when there are none."""
    if counts[-1] <= 0:
        warnings.warn(f"No {kind} samples in y_true, {what} value should be meaningless", UndefinedMetricWarning,
                      stacklevel=3)
        return np.full(counts.shape, np.nan)
    return counts / counts[-1]


def roc_curve(y_true, y_score, *, pos_label=None, drop_intermediate=True):
    """Receiver operating characteristic: for each threshold t (decreasing), fpr = FP(t) / N and
    tpr = TP(t) / P, where the samples with score >= t are called positive.

    Returns (fpr, tpr, thresholds), float64 (m,), starting at (0, 0) with thresholds[0] = inf.
    `drop_intermediate` drops the thresholds whose point lies on a straight segment between its
    neighbours (the area is unchanged). pos_label=None means 1 (y_true in {0, 1} or {-1, 1}).
    No positive (negative) sample: tpr (fpr) is NaN, with an UndefinedMetricWarning.
    Source: Fawcett (2006), An introduction to ROC analysis, Pattern Recognit. Lett. 27:861-874.
    """
    y_true, score = _check_score_1d(y_true, y_score)
    fps, tps, thresholds = _clf_curve(_positive_mask(y_true, pos_label), score)
    if drop_intermediate and len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps, thresholds = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]
    return _rates(fps, "false positive", "negative"), _rates(tps, "true positive", "positive"), thresholds


def precision_recall_curve(y_true, y_score, *, pos_label=None, drop_intermediate=False):
    """Precision TP(t) / (TP(t) + FP(t)) and recall TP(t) / P for each distinct score t (increasing).

    Returns (precision, recall, thresholds): precision and recall (m + 1,) end with the point (1, 0)
    that has no threshold; thresholds (m,). Precision 0/0 (no sample called positive) is 0.
    `drop_intermediate` keeps only the first and last threshold of each run of equal recall.
    No positive sample: recall is 1 for all thresholds, with an UndefinedMetricWarning.
    Source: Manning, Raghavan & Schuetze (2008), Introduction to Information Retrieval, sec. 8.4.
    """
    y_true, score = _check_score_1d(y_true, y_score)
    fps, tps, thresholds = _clf_curve(_positive_mask(y_true, pos_label), score)
    if drop_intermediate and len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    called = tps + fps
    precision = np.divide(tps, called, out=np.zeros_like(tps), where=called != 0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.",
                      UndefinedMetricWarning, stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def auc(x, y):
    """Area under the piecewise-linear curve through the points (x_i, y_i), by the trapezoidal rule:
    sum_i (x_{i+1} - x_i) (y_i + y_{i+1}) / 2; x must be monotonic (increasing or decreasing)."""
    x, y = check_array(x, "x", ndim=1), check_array(y, "y", ndim=1)
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must have the same length; got {len(x)} and {len(y)}.")
    if len(x) < 2:
        raise ValueError(f"At least 2 points are needed to compute the area under a curve; got {len(x)}.")
    dx = np.diff(x)
    if (dx < 0).any() and not (dx <= 0).all():
        raise ValueError("`x` is neither increasing nor decreasing.")
    area = float(np.sum(dx * (y[1:] + y[:-1]) / 2.0))
    return -area if (dx <= 0).all() and (dx < 0).any() else area


# ----------------------------------------------------------------------------- binary scores


def _average_ranks(x):
    """Ranks 1..n of x, ties sharing the mean of the ranks they span; float64 (n,)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # rank of the last member of each tied group
    return (last - (counts - 1) / 2.0)[inverse]


def _binary_auc(positive, score):
    """AUC = (sum of ranks of positives - P (P + 1) / 2) / (P N) (Mann-Whitney U; ties count 1/2).
    NaN with an UndefinedMetricWarning when a class is missing. Source: Hanley & McNeil (1982)."""
    P = int(positive.sum())
    N = len(positive) - P
    if P == 0 or N == 0:
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=4)
        return float("nan")
    ranks = _average_ranks(score)
    return float((ranks[positive].sum() - P * (P + 1) / 2.0) / (P * N))


def _partial_auc(positive, score, max_fpr):
    """McClish (1989) standardised partial AUC over fpr in [0, max_fpr]:
    1/2 (1 + (A - max_fpr^2 / 2) / (max_fpr - max_fpr^2 / 2)), so chance is 0.5 and perfect is 1."""
    if positive.all() or not positive.any():
        return _binary_auc(positive, score)  # the warning and NaN of a single class
    fps, tps, _ = _clf_curve(positive, score)
    fpr, tpr = np.r_[0.0, fps] / fps[-1], np.r_[0.0, tps] / tps[-1]
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr = np.r_[tpr[:stop], np.interp(max_fpr, fpr[stop - 1:stop + 1], tpr[stop - 1:stop + 1])]
    fpr = np.r_[fpr[:stop], max_fpr]
    area = auc(fpr, tpr)
    min_area, max_area = 0.5 * max_fpr ** 2, max_fpr
    return float(0.5 * (1 + (area - min_area) / (max_area - min_area)))


def _binary_average_precision(positive, score):
    """AP = sum_k (R_k - R_{k-1}) P_k over the thresholds (no interpolation). Source: Manning et al. 8.4."""
    fps, tps, _ = _clf_curve(positive, score)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.",
                      UndefinedMetricWarning, stacklevel=4)
        return 0.0
    precision, recall = tps / (tps + fps), tps / tps[-1]
    return float(max(0.0, np.sum(np.diff(np.r_[0.0, recall]) * precision)))


def _average_over_classes(binary_metric, Y, S, average):
    """One-vs-rest average of binary_metric(Y[:, k], S[:, k]) over the K columns of the indicator Y (n, K):
    "micro" scores the flattened (Y, S) once; "macro" the plain mean; "weighted" the mean weighted by the
    class counts (a class with weight 0 counts 0, so its NaN is ignored); None the (K,) array."""
    if average == "micro":
        return binary_metric(Y.ravel(), S.ravel())
    per_class = np.array([binary_metric(Y[:, k], S[:, k]) for k in range(Y.shape[1])])  # (K,)
    if average is None:
        return per_class
    weights = Y.sum(axis=0).astype(np.float64) if average == "weighted" else None
    if weights is not None:
        if weights.sum() == 0:
            return 0.0
        per_class[weights == 0] = 0.0
    return float(np.average(per_class, weights=weights))


def _check_score_matrix(y_true, y_score):
    y_true = as_1d(y_true, "y_true")
    check_class_labels(y_true, "y_true")
    S = check_array(y_score, "y_score", ndim=2)
    if len(S) != len(y_true):
        raise ValueError(f"`y_true` and `y_score` must have the same length; got {len(y_true)} and {len(S)}.")
    return y_true, S


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1):
    """Average precision AP = sum_k (R_k - R_{k-1}) P_k, the precision at each threshold weighted by the
    recall it adds: the area under the precision-recall step curve, without interpolation.

    Binary y_true: y_score (n,) scores `pos_label` (which must be one of the two labels present).
    Multiclass y_true: y_score (n, K), column k scoring the k-th sorted label of y_true (one-vs-rest),
    averaged by `average` ("macro", "weighted" by class counts, "micro" over all (sample, class) pairs,
    None for the (K,) array); pos_label must stay 1. No positive sample: 0.0 with an
    UndefinedMetricWarning. Source: Manning, Raghavan & Schuetze (2008), sec. 8.4.
    """
    check_choice(average, "average", _AVERAGES)
    y_true = as_1d(y_true, "y_true")
    check_class_labels(y_true, "y_true")
    present = np.unique(y_true)
    if len(present) > 2:
        if not (isinstance(pos_label, numbers.Integral) and pos_label == 1):
            raise ValueError(f"`pos_label` is fixed to 1 for a multiclass y_true; got {pos_label!r}.")
        y_true, S = _check_score_matrix(y_true, y_score)
        if S.shape[1] != len(present):
            raise ValueError(f"`y_score` has {S.shape[1]} columns but y_true has {len(present)} labels "
                             f"{present.tolist()}; give one column per label, in sorted order.")
        Y = y_true[:, None] == present[None, :]  # (n, K)
        return _average_over_classes(_binary_average_precision, Y, S, average)
    if len(present) == 2 and pos_label not in present.tolist():
        raise ValueError(f"`pos_label`={pos_label!r} is not a valid label; it should be one of {present.tolist()}.")
    y_true, score = _check_score_1d(y_true, y_score)
    return _binary_average_precision(y_true == pos_label, score)


# ----------------------------------------------------------------------------- ROC AUC


def roc_auc_score(y_true, y_score, *, average="macro", max_fpr=None, multi_class="raise", labels=None):
    """Area under the ROC curve: the probability that a random positive scores above a random negative,
    AUC = (sum of ranks of positives - P (P + 1) / 2) / (P N), tied scores sharing average ranks.

    Binary y_true with y_score (n,): the positive class is the larger label; `max_fpr` gives the
    McClish-standardised partial AUC over fpr <= max_fpr. Multiclass (y_score (n, K) of probabilities,
    column k for labels[k], default the sorted labels of y_true): multi_class="ovr" averages the
    one-vs-rest AUCs ("macro", "weighted" by class counts, "micro", None); "ovo" is Hand & Till's M,
    the mean over pairs of classes of (A(i|j) + A(j|i)) / 2 ("weighted" by the pair's prevalence).
    A two-column y_score with multi_class set is scored as the binary problem on its second column.
    A class absent from y_true has no AUC: NaN with an UndefinedMetricWarning (weight 0 in "weighted").
    Sources: Hanley & McNeil (1982), Radiology 143:29-36; Hand & Till (2001), Mach. Learn. 45:171-186;
    Provost & Domingos (2000), Well-trained PETs; McClish (1989), Med. Decis. Making 9:190-195.
    """
    check_choice(average, "average", _AVERAGES)
    check_choice(multi_class, "multi_class", ("raise", "ovr", "ovo"))
    if max_fpr is not None:
        check_scalar(max_fpr, "max_fpr", numbers.Real, low=0, high=1, low_inclusive=False)
    score = np.asarray(y_score)
    if score.ndim == 2 and score.shape[1] > 1:
        if multi_class == "raise":
            raise ValueError(
                f"`y_score` has shape {score.shape}: for a multiclass target set multi_class='ovr' or 'ovo'; "
                "for a binary one pass the scores of the positive class (proba[:, 1])."
            )
        if max_fpr is not None and max_fpr != 1:
            raise ValueError(f"Partial AUC is for binary targets only; `max_fpr` must be None; got {max_fpr!r}.")
        return _multiclass_roc_auc(y_true, score, labels, multi_class, average)
    shape = score.shape
    y_true, score = _check_score_1d(y_true, score)
    classes = np.unique(y_true)
    if len(classes) > 2:
        raise ValueError(
            f"y_true has {len(classes)} classes but `y_score` has shape {shape}: for a multiclass target pass "
            "the (n, K) probabilities (predict_proba) and multi_class='ovr' or 'ovo'."
        )
    positive = y_true == classes[-1]
    if len(classes) == 1:
        positive = np.zeros(len(y_true), dtype=bool)
    if max_fpr is None or max_fpr == 1:
        return _binary_auc(positive, score)
    return _partial_auc(positive, score, float(max_fpr))


def _check_multiclass_labels(y_true, labels, K):
    """The labels of the K columns: `labels` (unique, sorted, holding every y_true) or sorted unique y_true."""
    if labels is None:
        classes = np.unique(y_true)
        if len(classes) != K:
            raise ValueError(f"y_true has {len(classes)} labels {classes.tolist()} but `y_score` has {K} columns; "
                             "pass the column labels through `labels` (e.g. estimator.classes_).")
        return classes
    classes = check_label_list(labels, y_true)
    if not np.array_equal(np.sort(classes), classes):
        raise ValueError(f"`labels` must be sorted (the order of estimator.classes_); got {classes.tolist()}.")
    if len(classes) != K:
        raise ValueError(f"`labels` has {len(classes)} labels but `y_score` has {K} columns.")
    missing = positions(y_true, classes) < 0
    if missing.any():
        raise ValueError(f"y_true contains labels {sorted(set(y_true[missing].tolist()))} that are not in "
                         f"`labels`={classes.tolist()}.")
    return classes


def _multiclass_roc_auc(y_true, y_score, labels, multi_class, average):
    y_true, S = _check_score_matrix(y_true, y_score)  # S: (n, K)
    K = S.shape[1]
    classes = _check_multiclass_labels(y_true, labels, K)
    if not np.allclose(1, S.sum(axis=1)):
        raise ValueError("`y_score` must hold probabilities for multiclass ROC AUC: each row must sum to 1 "
                         "(use predict_proba).")
    codes = positions(y_true, classes)  # (n,) in 0..K-1
    if K == 2:
        return _binary_auc(codes == 1, S[:, 1])
    if multi_class == "ovo":
        if average not in ("macro", "weighted"):
            raise ValueError(f"`average` must be 'macro' or 'weighted' for multi_class='ovo'; got {average!r}.")
        return _hand_till(codes, S, weighted=average == "weighted")
    Y = codes[:, None] == np.arange(K)[None, :]  # (n, K) one-vs-rest indicator
    return _average_over_classes(_binary_auc, Y, S, average)


def _hand_till(codes, S, weighted):
    """M = 2 / (c (c - 1)) sum_{i<j} (A(i|j) + A(j|i)) / 2 over the c classes present, where A(i|j) is the
    AUC of column i separating class i from class j on their samples only; weighted: each pair weighted
    by the fraction of samples in it. Source: Hand & Till (2001), Mach. Learn. 45:171-186, eq. (7)."""
    present = np.unique(codes)
    if len(present) < 2:
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=4)
        return float("nan")
    pair_auc, prevalence = [], []
    for i, j in combinations(present, 2):
        in_pair = (codes == i) | (codes == j)
        c = codes[in_pair]
        pair_auc.append((_binary_auc(c == i, S[in_pair, i]) + _binary_auc(c == j, S[in_pair, j])) / 2.0)
        prevalence.append(in_pair.mean())
    return float(np.average(pair_auc, weights=prevalence if weighted else None))
