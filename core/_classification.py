"""Classification metrics on predicted labels and probabilities: accuracy, the confusion matrix,
precision, recall and F1 with their averages, the classification report, and the log loss.

Semantics follow scikit-learn's `sklearn.metrics`; a 0/0 (a label never predicted, or absent from the
data) takes the value `zero_division`, by default 0.0 with an UndefinedMetricWarning, as scikit-learn does.
"""

import numbers
import warnings

import numpy as np

from tunelab.core._metric_inputs import (
    UndefinedMetricWarning, as_1d, check_class_labels, check_label_list, check_targets, is_text, positions,
)
from tunelab.core.validation import check_array, check_choice, check_scalar


def accuracy_score(y_true, y_pred):
    """Fraction of exact matches: (1/n) sum_i [y_true_i == y_pred_i]."""
    y_true, y_pred, _ = check_targets(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, labels=None):
    """C[i, j] = number of samples with true label labels[i] predicted as labels[j]; int64 (L, L).

    `labels` (default: sorted union of both vectors) fixes the order; samples whose true or predicted
    label is not listed are left out, as in scikit-learn.
    """
    y_true, y_pred, classes = check_targets(y_true, y_pred)
    given = labels is not None
    labels = check_label_list(labels, y_true) if given else classes
    i, j = positions(y_true, labels), positions(y_pred, labels)
    if given and (i < 0).all():
        raise ValueError(f"At least one label in `labels` must occur in `y_true`; got labels={labels.tolist()}.")
    keep = (i >= 0) & (j >= 0)
    L = len(labels)
    return np.bincount(i[keep] * L + j[keep], minlength=L * L).reshape(L, L).astype(np.int64)


_AVERAGES = ("binary", "micro", "macro", "weighted", None)
_ALL_THREE = ("precision", "recall", "f-score")


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


def _divide(numerator, denominator, zero_division, metric, modifier, labels, warn):
    """numerator / denominator elementwise, with `zero_division` where the denominator is 0; with
    zero_division="warn" (value 0.0) an UndefinedMetricWarning names the labels concerned when `warn`.
    `labels` (L,) names the entries, or is None for a micro average (a single entry)."""
    zero = denominator == 0
    out = numerator / np.where(zero, 1, denominator)
    if not zero.any():
        return out
    out[zero] = _check_zero_division(zero_division)
    if warn and isinstance(zero_division, str):
        where = "due to" if len(out) == 1 else f"in labels {labels[zero].tolist()} with"
        warnings.warn(f"{metric} is ill-defined and being set to 0.0 {where} no {modifier} samples. "
                      "Use `zero_division` parameter to control this behavior.", UndefinedMetricWarning,
                      stacklevel=4)
    return out


def _nan_average(values, weights=None):
    """Weighted mean ignoring NaN entries; NaN if all are NaN; equal weights if the weights sum to 0."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or np.sum(weights[keep]) == 0:
        return float(np.mean(values[keep]))
    return float(np.average(values[keep], weights=weights[keep]))


def _scored_labels(classes, y_true, labels, pos_label, average):
    """The labels to score: [pos_label] for average="binary" (checked against the classes present),
    else `labels` or every class present in y_true or y_pred."""
    if average != "binary":
        return classes if labels is None else check_label_list(labels, y_true)
    if len(classes) > 2:
        raise ValueError(
            f"Target is multiclass ({len(classes)} labels) but average='binary'; choose another average "
            "setting, one of 'micro', 'macro', 'weighted' or None."
        )
    type_mismatch = isinstance(pos_label, str) != is_text(classes)
    if pos_label not in classes.tolist() and (len(classes) == 2 or type_mismatch):
        raise ValueError(f"`pos_label`={pos_label!r} is not a valid label; it should be one of {classes.tolist()}.")
    return np.asarray([pos_label])


def _precision_recall_f1(y_true, y_pred, *, labels=None, pos_label=1, average=None, zero_division="warn",
                         warn_for=_ALL_THREE):
    """Per label l: tp_l, predicted count p_l, true count t_l; precision = tp/p, recall = tp/t,
    F1 = 2 tp / (t + p) (the harmonic mean of the two, without the 0/0 of precision*recall/(sum)).

    average: "binary" -> scores of `pos_label` only; "micro" -> sum the counts over labels first;
    "macro" -> unweighted mean over labels; "weighted" -> mean weighted by t_l; None -> arrays per label.
    A 0/0 takes the value `zero_division`; "warn" means 0.0 and an UndefinedMetricWarning for the
    metrics in `warn_for`. Returns (precision, recall, f1, support t).
    """
    check_choice(average, "average", _AVERAGES)
    _check_zero_division(zero_division)
    y_true, y_pred, classes = check_targets(y_true, y_pred)
    labels = _scored_labels(classes, y_true, labels, pos_label, average)
    t_codes, p_codes = positions(y_true, labels), positions(y_pred, labels)
    L = len(labels)
    t = np.bincount(t_codes[t_codes >= 0], minlength=L).astype(np.float64)  # (L,)
    p = np.bincount(p_codes[p_codes >= 0], minlength=L).astype(np.float64)  # (L,)
    hit = (t_codes >= 0) & (t_codes == p_codes)
    tp = np.bincount(t_codes[hit], minlength=L).astype(np.float64)  # (L,)
    if average == "micro":
        tp, p, t, labels = tp.sum(keepdims=True), p.sum(keepdims=True), t.sum(keepdims=True), None
    precision = _divide(tp, p, zero_division, "Precision", "predicted", labels, "precision" in warn_for)
    recall = _divide(tp, t, zero_division, "Recall", "true", labels, "recall" in warn_for)
    f1 = _divide(2 * tp, t + p, zero_division, "F-score", "true nor predicted", labels, "f-score" in warn_for)
    if average is None:
        return precision, recall, f1, t
    weights = t if average == "weighted" else None
    return _nan_average(precision, weights), _nan_average(recall, weights), _nan_average(f1, weights), t.sum()


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """Precision tp / (tp + fp): of the samples predicted as a label, the fraction that carry it.

    average: "binary" scores `pos_label` only; "micro" pools the counts of all labels; "macro" is the
    plain mean over labels, "weighted" the mean weighted by each label's support; None returns the
    (L,) array in the order of `labels` (default: every label of y_true or y_pred, sorted).
    Where tp + fp = 0 the value is `zero_division`: 0.0, 1.0, nan (left out of averages), or "warn"
    (0.0 with an UndefinedMetricWarning naming the labels).
    """
    return _precision_recall_f1(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                zero_division=zero_division, warn_for=("precision",))[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """Recall tp / (tp + fn): of the samples carrying a label, the fraction predicted as it.

    `average` and `zero_division` as in precision_score; the 0/0 here is a label absent from y_true.
    """
    return _precision_recall_f1(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                zero_division=zero_division, warn_for=("recall",))[1]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """F1 = 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall.

    `average` and `zero_division` as in precision_score; the 0/0 here is a label neither true nor predicted.
    """
    return _precision_recall_f1(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                zero_division=zero_division, warn_for=("f-score",))[2]


_REPORT_HEADERS = ("precision", "recall", "f1-score", "support")


def _report_rows(y_true, y_pred, labels, target_names, zero_division):
    """[(name, precision, recall, f1, support)] per label, then per average ("accuracy" replaces the micro
    average when every label present is reported, as it then equals the accuracy)."""
    y_true, y_pred, classes = check_targets(y_true, y_pred)
    given = labels is not None
    labels = check_label_list(labels, y_true) if given else classes
    if target_names is None:
        target_names = [str(label) for label in labels.tolist()]
    elif len(target_names) != len(labels):
        if not given:
            raise ValueError(f"Number of classes, {len(labels)}, does not match size of target_names, "
                             f"{len(target_names)}. Try specifying the labels parameter.")
        warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, {len(target_names)}",
                      UserWarning, stacklevel=3)
    p, r, f, s = _precision_recall_f1(y_true, y_pred, labels=labels, zero_division=zero_division)
    rows = [(str(name), *values) for name, *values in zip(target_names, p, r, f, s)]
    micro_is_accuracy = not given or set(labels.tolist()) >= set(classes.tolist())
    averages = []
    for average in ("micro", "macro", "weighted"):
        name = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        averages.append((name, *_precision_recall_f1(y_true, y_pred, labels=labels, average=average,
                                                     zero_division=zero_division)))
    return rows, averages


def classification_report(y_true, y_pred, *, labels=None, target_names=None, digits=2, output_dict=False,
                          zero_division="warn"):
    """Precision, recall, F1 and support (number of true samples) of each label, then their micro
    ("accuracy"), macro and weighted averages, laid out as scikit-learn's report.

    labels: the labels to report, in order (default: every label of y_true or y_pred, sorted);
    target_names: their display names. output_dict=True returns {name: {"precision", "recall",
    "f1-score", "support"}} with "accuracy" a float, else a text table with `digits` decimals.
    zero_division as in precision_score.
    """
    check_scalar(digits, "digits", numbers.Integral, low=0)
    rows, averages = _report_rows(y_true, y_pred, labels, target_names, zero_division)
    if output_dict:
        report = {name: dict(zip(_REPORT_HEADERS, map(float, values))) for name, *values in rows + averages}
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report
    width = max([len(name) for name, *_ in rows] + [len("weighted avg"), digits])
    head = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in _REPORT_HEADERS)
    lines = [head, ""]
    for name, *values in rows:
        lines.append(_report_line(name, values, width, digits))
    lines.append("")
    for name, *values in averages:
        lines.append(_report_line(name, values, width, digits, accuracy=name == "accuracy"))
    return "\n".join(lines) + "\n"


def _report_line(name, values, width, digits, accuracy=False):
    """One row: the name right-aligned in `width`, three scores and the integer support in 9 columns each."""
    precision, recall, f1, support = values
    scores = ["", "", f"{f1:.{digits}f}"] if accuracy else [f"{v:.{digits}f}" for v in (precision, recall, f1)]
    return f"{name:>{width}s} " + "".join(f" {v:>9}" for v in scores) + f" {int(support):>9}"


def log_loss(y_true, y_proba, *, labels=None, eps="auto"):
    """Cross-entropy L = -(1/n) sum_i log p_i[y_i], with p clipped to [eps, 1 - eps].

    y_proba: (n, K), column k the probability of the k-th label of `labels` (default: sorted unique
    y_true, which is the order of `estimator.classes_`); or (n,) for binary, the probability of the
    second label. eps="auto" is the float64 machine epsilon. Source: Bishop (2006), PRML, p. 209.
    """
    y_true = as_1d(y_true, "y_true")
    check_class_labels(y_true, "y_true")
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
        labels = check_label_list(labels, y_true)
        if len(labels) < 2:
            raise ValueError(f"`labels` must hold at least two labels; got {labels.tolist()}.")
    codes = positions(y_true, labels)
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
