"""Regression metrics: mean squared and absolute errors and the coefficient of determination R^2,
for 1-D targets (n,) or several outputs (n, m), averaged over outputs; as scikit-learn's."""

import warnings

import numpy as np

from tunelab.core._metric_inputs import UndefinedMetricWarning
from tunelab.core.validation import check_array


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
        warnings.warn("R^2 score is not well-defined with less than two samples; returning nan.",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    ss_res = np.sum((y_true - y_pred) ** 2, axis=0)
    ss_tot = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))
