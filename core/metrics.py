"""Classification and regression metrics, and the scorers that cross-validation and the searchers call.

Semantics follow scikit-learn's `sklearn.metrics` (same names, arguments and edge cases) and are written
with numpy only. Labels may be of any type (ints, strings, bools), but not a mix of strings and numbers.
A scorer is a callable `scorer(estimator, X, y) -> float` for which HIGHER IS BETTER: losses appear
negated ("neg_log_loss", "neg_mean_squared_error").
"""

import numbers
import warnings
from types import MappingProxyType

import numpy as np

from tunelab.core.validation import check_array, check_choice, check_scalar, is_class_labels

# ----------------------------------------------------------------------------- input checks


def _as_1d(y, name):
    """y as a non-empty 1-D array (a column (n, 1) is flattened)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got shape {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; metrics need at least one sample.")
    return y


def _is_text(y):
    return y.dtype.kind in "US" or (y.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in y))


def _check_class_labels(y, name):
    """Refuse NaN and anything else that is not class labels (is_class_labels), e.g. non-integral floats."""
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    if not is_class_labels(y):
        what = "non-integer floats" if y.dtype.kind == "f" else f"dtype {y.dtype}"
        raise ValueError(
            f"`{name}` looks continuous ({what}); classification metrics need class labels. "
            "For a regressor use a regression metric (r2, neg_mean_squared_error)."
        )


def _check_targets(y_true, y_pred):
    """Check two label vectors of equal length; returns (y_true, y_pred, classes) with classes = sorted union."""
    y_true, y_pred = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"`y_true` and `y_pred` must have the same length; got {len(y_true)} and {len(y_pred)}.")
    if _is_text(y_true) != _is_text(y_pred):
        raise ValueError(
            f"`y_true` and `y_pred` mix string and number labels (dtypes {y_true.dtype} and {y_pred.dtype}); "
            "encode both the same way."
        )
    _check_class_labels(y_true, "y_true")
    _check_class_labels(y_pred, "y_pred")
    try:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    except TypeError as exc:
        raise ValueError(f"labels in `y_true`/`y_pred` cannot be sorted: {exc}.") from exc
    return y_true, y_pred, classes


def _check_label_list(labels, y, name="labels"):
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D list of labels; got {labels!r}.")
    if len(np.unique(labels)) != len(labels):
        raise ValueError(f"`{name}` must not repeat a label; got {labels.tolist()}.")
    if _is_text(labels) != _is_text(y):
        raise ValueError(f"`{name}` and the targets mix string and number labels; got {labels.tolist()}.")
    return labels


def _positions(values, labels):
    """Index of each value in `labels`, -1 where absent; returns int64 (n,)."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    pos = np.clip(np.searchsorted(sorted_labels, values), 0, len(labels) - 1)
    found = sorted_labels[pos] == values
    return np.where(found, order[pos], -1).astype(np.int64)


# ----------------------------------------------------------------------------- classification


def accuracy_score(y_true, y_pred):
    """Fraction of exact matches: (1/n) sum_i [y_true_i == y_pred_i]."""
    y_true, y_pred, _ = _check_targets(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, labels=None):
    """C[i, j] = number of samples with true label labels[i] predicted as labels[j]; int64 (L, L).

    `labels` (default: sorted union of both vectors) fixes the order; samples whose true or predicted
    label is not listed are left out, as in scikit-learn.
    """
    y_true, y_pred, classes = _check_targets(y_true, y_pred)
    given = labels is not None
    labels = _check_label_list(labels, y_true) if given else classes
    i, j = _positions(y_true, labels), _positions(y_pred, labels)
    if given and (i < 0).all():
        raise ValueError(f"At least one label in `labels` must occur in `y_true`; got labels={labels.tolist()}.")
    keep = (i >= 0) & (j >= 0)
    L = len(labels)
    return np.bincount(i[keep] * L + j[keep], minlength=L * L).reshape(L, L).astype(np.int64)


_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _check_zero_division(zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, numbers.Real) and not isinstance(zero_division, bool) and (
        zero_division in (0, 1) or np.isnan(zero_division)
    ):
        return float(zero_division)
    number = isinstance(zero_division, (str, numbers.Real)) and not isinstance(zero_division, bool)
    raise (ValueError if number else TypeError)(
        f"`zero_division` must be 0.0, 1.0, nan or 'warn'; got {zero_division!r}.")


def _divide(numerator, denominator, zero_division, what):
    """numerator / denominator elementwise, with `zero_division` where the denominator is 0."""
    value = _check_zero_division(zero_division)
    zero = denominator == 0
    out = numerator / np.where(zero, 1, denominator)
    out[zero] = value
    if zero.any() and isinstance(zero_division, str):
        warnings.warn(f"{what} is ill-defined for a label with no samples; set to 0.0. "
                      "Pass `zero_division` to choose the value and silence this warning.", UserWarning)
    return out


def _nan_average(values, weights=None):
    """Weighted mean ignoring NaN entries; NaN if all are NaN; equal weights if the weights sum to 0."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or np.sum(weights[keep]) == 0:
        return float(np.mean(values[keep]))
    return float(np.average(values[keep], weights=weights[keep]))


def _precision_recall_f1(y_true, y_pred, *, labels, pos_label, average, zero_division):
    """Per label l: tp_l, predicted count p_l, true count t_l; precision = tp/p, recall = tp/t,
    F1 = 2 tp / (t + p) (the harmonic mean of the two, without the 0/0 of precision*recall/(sum)).

    average: "binary" -> scores of `pos_label` only; "micro" -> sum the counts over labels first;
    "macro" -> unweighted mean over labels; "weighted" -> mean weighted by t_l; None -> arrays per label.
    """
    check_choice(average, "average", _AVERAGES)
    _check_zero_division(zero_division)
    y_true, y_pred, classes = _check_targets(y_true, y_pred)
    if average == "binary":
        if len(classes) > 2:
            raise ValueError(
                f"Target is multiclass ({len(classes)} labels) but average='binary'; choose another average "
                "setting, one of 'micro', 'macro', 'weighted' or None."
            )
        type_mismatch = isinstance(pos_label, str) != _is_text(classes)
        if pos_label not in classes.tolist() and (len(classes) == 2 or type_mismatch):
            raise ValueError(f"`pos_label`={pos_label!r} is not a valid label; it should be one of {classes.tolist()}.")
        labels = np.asarray([pos_label])
    else:
        labels = classes if labels is None else _check_label_list(labels, y_true)
    t_codes, p_codes = _positions(y_true, labels), _positions(y_pred, labels)
    L = len(labels)
    t = np.bincount(t_codes[t_codes >= 0], minlength=L).astype(np.float64)  # (L,)
    p = np.bincount(p_codes[p_codes >= 0], minlength=L).astype(np.float64)  # (L,)
    hit = (t_codes >= 0) & (t_codes == p_codes)
    tp = np.bincount(t_codes[hit], minlength=L).astype(np.float64)  # (L,)
    if average == "micro":
        tp, p, t = tp.sum(keepdims=True), p.sum(keepdims=True), t.sum(keepdims=True)
    precision = _divide(tp, p, zero_division, "Precision")
    recall = _divide(tp, t, zero_division, "Recall")
    f1 = _divide(2 * tp, t + p, zero_division, "F1")
    if average is None:
        return precision, recall, f1
    weights = t if average == "weighted" else None
    return _nan_average(precision, weights), _nan_average(recall, weights), _nan_average(f1, weights)


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division=0.0):
    """Precision tp / (tp + fp): of the samples predicted as a label, the fraction that carry it.

    See `_precision_recall_f1` for `average`; `zero_division` is returned where tp + fp = 0.
    """
    return _precision_recall_f1(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                zero_division=zero_division)[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division=0.0):
    """Recall tp / (tp + fn): of the samples carrying a label, the fraction predicted as it."""
    return _precision_recall_f1(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                zero_division=zero_division)[1]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division=0.0):
    """F1 = 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall."""
    return _precision_recall_f1(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                zero_division=zero_division)[2]


def log_loss(y_true, y_proba, *, labels=None, eps="auto"):
    """Cross-entropy L = -(1/n) sum_i log p_i[y_i], with p clipped to [eps, 1 - eps].

    y_proba: (n, K), column k the probability of the k-th label of `labels` (default: sorted unique
    y_true, which is the order of `estimator.classes_`); or (n,) for binary, the probability of the
    second label. eps="auto" is the float64 machine epsilon. Source: Bishop (2006), PRML, p. 209.
    """
    y_true = _as_1d(y_true, "y_true")
    _check_class_labels(y_true, "y_true")
    proba = np.asarray(y_proba)
    proba = check_array(proba, "y_proba", ndim=proba.ndim if proba.ndim in (1, 2) else 2)
    if len(proba) != len(y_true):
        raise ValueError(f"`y_true` and `y_proba` must have the same length; got {len(y_true)} and {len(proba)}.")
    if proba.min() < 0 or proba.max() > 1:
        raise ValueError(f"`y_proba` must hold probabilities in [0, 1]; got values in [{proba.min()}, {proba.max()}].")
    if eps == "auto":
        eps = np.finfo(np.float64).eps
    else:
        check_scalar(eps, "eps", numbers.Real, low=0, high=0.5, low_inclusive=False, high_inclusive=False)
    if labels is None:
        labels = np.unique(y_true)
        if len(labels) == 1:
            raise ValueError(
                f"`y_true` contains only one label ({labels[0]!r}); pass all expected labels through `labels`."
            )
    else:
        labels = _check_label_list(labels, y_true)
        if len(labels) < 2:
            raise ValueError(f"`labels` must hold at least two labels; got {labels.tolist()}.")
    codes = _positions(y_true, labels)
    if (codes < 0).any():
        missing = sorted(set(y_true[codes < 0].tolist()))
        raise ValueError(f"`y_true` contains labels {missing} that are not in `labels`={labels.tolist()}.")
    if proba.ndim == 1 or proba.shape[1] == 1:
        proba = proba.reshape(-1)
        proba = np.column_stack([1.0 - proba, proba])  # (n, 2)
    if proba.shape[1] != len(labels):
        raise ValueError(
            f"`y_proba` has {proba.shape[1]} columns but there are {len(labels)} labels {labels.tolist()}; "
            "pass the full label list through `labels` (e.g. estimator.classes_)."
        )
    if not np.allclose(proba.sum(axis=1), 1.0, rtol=np.sqrt(np.finfo(np.float64).eps), atol=0):
        warnings.warn("The rows of `y_proba` do not sum to one; make sure to pass probabilities.", UserWarning)
    p = np.clip(proba[np.arange(len(codes)), codes], eps, 1 - eps)  # (n,)
    return float(-np.mean(np.log(p)))


def _average_ranks(x):
    """Ranks 1..n of x, ties sharing the mean of the ranks they span; float64 (n,)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # rank of the last member of each tied group
    return (last - (counts - 1) / 2.0)[inverse]


def roc_auc_score(y_true, y_score):
    """Area under the ROC curve of a binary problem, via Mann-Whitney U:
    AUC = (sum of ranks of positives - P (P + 1) / 2) / (P N), tied scores sharing average ranks.

    The positive class is the larger of the two labels (classes_[1]). y_score (n,): any score that
    grows with the positive class (probability of classes_[1], or a decision function).
    Source: Hanley & McNeil (1982), Radiology 143:29-36.
    """
    y_true = _as_1d(y_true, "y_true")
    _check_class_labels(y_true, "y_true")
    score = np.asarray(y_score)
    if score.ndim == 2 and score.shape[1] == 2:
        raise ValueError(
            f"`y_score` must be 1-D for binary ROC AUC; got shape {score.shape}. Pass proba[:, 1]."
        )
    score = check_array(score.ravel() if score.ndim == 2 and score.shape[1] == 1 else score, "y_score", ndim=1)
    if len(score) != len(y_true):
        raise ValueError(f"`y_true` and `y_score` must have the same length; got {len(y_true)} and {len(score)}.")
    classes = np.unique(y_true)
    if len(classes) != 2:
        raise ValueError(
            f"ROC AUC needs exactly two classes in `y_true`; got {len(classes)} ({classes.tolist()[:10]}). "
            + ("It is not defined when only one class is present." if len(classes) == 1
               else "Only binary problems are supported.")
        )
    positive = y_true == classes[1]
    P = int(positive.sum())
    N = len(y_true) - P
    ranks = _average_ranks(score)
    return float((ranks[positive].sum() - P * (P + 1) / 2.0) / (P * N))


# ----------------------------------------------------------------------------- regression


def _check_regression(y_true, y_pred):
    """Two finite float64 arrays of equal shape, 1-D (n,) or 2-D (n, outputs); (n, 1) is flattened."""
    out = []
    for y, name in ((y_true, "y_true"), (y_pred, "y_pred")):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim not in (1, 2):
            raise ValueError(f"`{name}` must be 1-D or 2-D; got shape {y.shape}.")
        out.append(check_array(y, name, ndim=y.ndim))
    if out[0].shape != out[1].shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same shape; got {out[0].shape} and {out[1].shape}.")
    return out


def mean_squared_error(y_true, y_pred):
    """MSE = (1/n) sum_i (y_i - yhat_i)^2 (averaged over outputs for 2-D y)."""
    y_true, y_pred = _check_regression(y_true, y_pred)
    return float(np.mean((y_true - y_pred) ** 2))


def mean_absolute_error(y_true, y_pred):
    """MAE = (1/n) sum_i |y_i - yhat_i| (averaged over outputs for 2-D y)."""
    y_true, y_pred = _check_regression(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def r2_score(y_true, y_pred):
    """Coefficient of determination R^2 = 1 - sum (y - yhat)^2 / sum (y - mean y)^2 (mean over outputs).

    Constant y_true: 1.0 for a perfect prediction, else 0.0; fewer than two samples: NaN with a warning
    (both as in scikit-learn).
    """
    y_true, y_pred = _check_regression(y_true, y_pred)
    if len(y_true) < 2:
        warnings.warn("R^2 is not well-defined with less than two samples; returning nan.", UserWarning)
        return float("nan")
    ss_res = np.sum((y_true - y_pred) ** 2, axis=0)
    ss_tot = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


# ----------------------------------------------------------------------------- scorers


def _binary_score(estimator, X):
    """A 1-D score that grows with estimator.classes_[1]: decision_function, else predict_proba[:, 1]."""
    classes = getattr(estimator, "classes_", None)
    if classes is not None and len(classes) != 2:
        raise ValueError(f"The 'roc_auc' scorer is binary only; the estimator has {len(classes)} classes.")
    if hasattr(estimator, "decision_function"):
        s = np.asarray(estimator.decision_function(X))
    elif hasattr(estimator, "predict_proba"):
        s = np.asarray(estimator.predict_proba(X))
    else:
        raise TypeError(f"The 'roc_auc' scorer needs decision_function or predict_proba; "
                        f"{type(estimator).__name__} has neither.")
    return s[:, -1] if s.ndim == 2 else s


_RESPONSES = {
    "predict": lambda est, X: est.predict(X),
    "predict_proba": lambda est, X: est.predict_proba(X),
    "threshold": _binary_score,
}


class Scorer:
    """scorer(estimator, X, y) = sign * metric(y, response(estimator, X), **kwargs); higher is better.

    response: "predict", "predict_proba" (the (n, K) matrix; `labels=estimator.classes_` is passed to the
    metric when `pass_classes`) or "threshold" (a 1-D binary score). sign = -1 turns a loss into a score.
    """

    greater_is_better = True  # always, for the value returned: losses are negated

    def __init__(self, name, metric, response="predict", sign=1, pass_classes=False, **kwargs):
        self.name = name
        self.metric = metric
        self.response = check_choice(response, "response_method", tuple(_RESPONSES))
        self.sign = sign
        self.pass_classes = pass_classes
        self.kwargs = kwargs

    def __call__(self, estimator, X, y):
        y_hat = _RESPONSES[self.response](estimator, X)
        kwargs = dict(self.kwargs)
        if self.pass_classes and getattr(estimator, "classes_", None) is not None:
            kwargs["labels"] = estimator.classes_
        return float(self.sign * self.metric(y, y_hat, **kwargs))

    def __repr__(self):
        return f"Scorer({self.name!r})"


def make_scorer(score_func, *, greater_is_better=True, response_method="predict", name=None, **kwargs):
    """Wrap `score_func(y_true, y_hat, **kwargs)` as a scorer; a loss (greater_is_better=False) is negated."""
    if not callable(score_func):
        raise TypeError(f"`score_func` must be callable; got {score_func!r}.")
    name = name or getattr(score_func, "__name__", "custom")
    return Scorer(name, score_func, response_method, 1 if greater_is_better else -1, **kwargs)


def _build_registry():
    r = {
        "accuracy": Scorer("accuracy", accuracy_score),
        "neg_log_loss": Scorer("neg_log_loss", log_loss, "predict_proba", sign=-1, pass_classes=True),
        "roc_auc": Scorer("roc_auc", roc_auc_score, "threshold"),
        "neg_mean_squared_error": Scorer("neg_mean_squared_error", mean_squared_error, sign=-1),
        "neg_mean_absolute_error": Scorer("neg_mean_absolute_error", mean_absolute_error, sign=-1),
        "r2": Scorer("r2", r2_score),
    }
    for metric_name, metric in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        r[metric_name] = Scorer(metric_name, metric)  # binary, pos_label=1
        for average in ("micro", "macro", "weighted"):
            name = f"{metric_name}_{average}"
            r[name] = Scorer(name, metric, average=average)
    return dict(sorted(r.items()))


SCORERS = MappingProxyType(_build_registry())  # name -> Scorer, read-only


def get_scorer_names():
    """Sorted list of the scorer names accepted by `get_scorer`."""
    return list(SCORERS)


def get_scorer(scoring):
    """A scorer(estimator, X, y) -> float (higher is better) from a name in SCORERS; a callable is returned as is."""
    if isinstance(scoring, str):
        if scoring not in SCORERS:
            raise ValueError(f"`scoring`={scoring!r} is not a known scorer; valid names are {', '.join(SCORERS)}.")
        return SCORERS[scoring]
    if callable(scoring):
        return scoring
    raise TypeError(f"`scoring` must be a scorer name or a callable (estimator, X, y) -> float; got {scoring!r}.")


class _EstimatorScore:
    """The estimator's own `score(X, y)` method (accuracy for classifiers, R^2 for regressors)."""

    name = "score"
    greater_is_better = True

    def __call__(self, estimator, X, y):
        return float(estimator.score(X, y))

    def __repr__(self):
        return "Scorer('score')"


def check_scoring(estimator, scoring=None):
    """get_scorer(scoring), or for scoring=None the estimator's own `score` method."""
    if scoring is None:
        if not hasattr(estimator, "score"):
            raise TypeError(f"{type(estimator).__name__} has no `score` method; pass `scoring` "
                            f"(one of {', '.join(SCORERS)}) or a callable.")
        return _EstimatorScore()
    return get_scorer(scoring)
