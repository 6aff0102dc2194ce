"""Input checks shared by the metrics: label vectors, label lists, the kind of a target, and the warning
a metric gives when its value is undefined for the data it met.
"""

import numpy as np

from tunelab.core.validation import is_class_labels


class UndefinedMetricWarning(UserWarning):
    """A metric met data for which it is undefined (a 0/0, a label absent from the data, a single class)
    and returned the value its `zero_division` (or its documentation) names, as scikit-learn warns."""


def as_1d(y, name):
    """y as a non-empty 1-D array (a column (n, 1) is flattened)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got shape {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; metrics need at least one sample.")
    return y


def is_text(y):
    return y.dtype.kind in "US" or (y.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in y))


def check_class_labels(y, name):
    """Refuse NaN and anything else that is not class labels (is_class_labels), e.g. non-integral floats."""
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    if not is_class_labels(y):
        what = "non-integer floats" if y.dtype.kind == "f" else f"dtype {y.dtype}"
        raise ValueError(
            f"`{name}` looks continuous ({what}); classification metrics need class labels. "
            "For a regressor use a regression metric (r2, neg_mean_squared_error)."
        )


def check_targets(y_true, y_pred):
    """Check two label vectors of equal length; returns (y_true, y_pred, classes) with classes = sorted union."""
    y_true, y_pred = as_1d(y_true, "y_true"), as_1d(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"`y_true` and `y_pred` must have the same length; got {len(y_true)} and {len(y_pred)}.")
    if is_text(y_true) != is_text(y_pred):
        raise ValueError(
            f"`y_true` and `y_pred` mix string and number labels (dtypes {y_true.dtype} and {y_pred.dtype}); "
            "encode both the same way."
        )
    check_class_labels(y_true, "y_true")
    check_class_labels(y_pred, "y_pred")
    try:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    except TypeError as exc:
        raise ValueError(f"labels in `y_true`/`y_pred` cannot be sorted: {exc}.") from exc
    return y_true, y_pred, classes


def check_label_list(labels, y, name="labels"):
    """`labels` as a non-empty 1-D array without repeats, of the same kind (text or numbers) as `y`."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D list of labels; got {labels!r}.")
    if len(np.unique(labels)) != len(labels):
        raise ValueError(f"`{name}` must not repeat a label; got {labels.tolist()}.")
    if is_text(labels) != is_text(y):
        raise ValueError(f"`{name}` and the targets mix string and number labels; got {labels.tolist()}.")
    return labels


def positions(values, labels):
    """Index of each value in `labels`, -1 where absent; returns int64 (n,)."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    pos = np.clip(np.searchsorted(sorted_labels, values), 0, len(labels) - 1)
    found = sorted_labels[pos] == values
    return np.where(found, order[pos], -1).astype(np.int64)


def target_type(y):
    """The kind of a target, as scikit-learn's `type_of_target` names it for the targets tunelab handles:
    "binary" (class labels, at most two distinct), "multiclass" (more than two), "continuous" (numbers
    that are not class labels), "continuous-multioutput" (a numeric (n, m) array, m > 1), else "unknown".
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim == 2 and y.dtype.kind in "biuf":
        return "continuous-multioutput"
    if y.ndim != 1 or y.size == 0:
        return "unknown"
    if is_class_labels(y):
        try:
            return "binary" if len(np.unique(y)) <= 2 else "multiclass"
        except TypeError:  # mixed labels that cannot be sorted
            return "unknown"
    return "continuous" if y.dtype.kind in "iuf" else "unknown"
