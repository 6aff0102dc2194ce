"""Input checks shared by every model, metric and splitter of tunelab.

X is converted once to a C-contiguous float64 array, so kernels can rely on that layout.
Whether a target holds class labels is decided by `is_class_labels` alone.
Scalar checks and seeds come from `tunelab.optimizers.validation`, the one validation helper.
"""

import numpy as np

from tunelab.optimizers.validation import (  # noqa: F401  (re-exported: one helper for the package)
    ConvergenceError,
    check_bool,
    check_choice,
    check_random_state,
    check_scalar,
)


class NotFittedError(ValueError, AttributeError):
    """Raised when predict/score/transform is called before fit."""


def _sum_is_finite(array):
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(array.sum()))


def check_array(X, name="X", *, ndim=2, dtype=np.float64, allow_empty=False):
    """Return X as a C-contiguous `dtype` array with `ndim` dimensions, finite and not empty."""
    try:
        array = np.asarray(X)
    except Exception as exc:  # ragged lists and other non-arrays
        raise ValueError(f"`{name}` must be array-like; could not convert it ({exc}).") from exc
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"`{name}` must be numeric; got an array of dtype {array.dtype}.")
    if np.iscomplexobj(array):
        raise ValueError(f"`{name}` must be real; got complex dtype {array.dtype}.")
    if array.ndim != ndim:
        hint = " (reshape a single feature with X.reshape(-1, 1))" if ndim == 2 and array.ndim == 1 else ""
        raise ValueError(f"`{name}` must be {ndim}-D; got shape {array.shape}{hint}.")
    if not allow_empty and array.size == 0:
        raise ValueError(f"`{name}` is empty; got shape {array.shape}.")
    array = np.ascontiguousarray(array, dtype=dtype)
    # one sum is far cheaper than an elementwise test; it is finite unless a value is NaN/inf (or huge)
    if np.issubdtype(array.dtype, np.floating) and not _sum_is_finite(array) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"`{name}` contains {bad} NaN or infinite value(s); remove or impute them first.")
    return array


def check_X_y(X, y, *, y_numeric=False):
    """Check a 2-D X and a 1-D y of the same length; returns (X float64, y).

    y is returned as float64 when `y_numeric`, otherwise as it came (labels of any type), 1-D.
    """
    X = check_array(X, "X")
    y_array = np.asarray(y)
    if y_array.ndim == 2 and y_array.shape[1] == 1:
        y_array = y_array.ravel()
    if y_array.ndim != 1:
        raise ValueError(f"`y` must be 1-D; got shape {y_array.shape}.")
    if y_array.shape[0] != X.shape[0]:
        raise ValueError(f"`X` and `y` must have the same number of rows; got {X.shape[0]} and {y_array.shape[0]}.")
    if y_numeric:
        y_array = check_array(y_array, "y", ndim=1)
    elif y_array.dtype.kind == "f" and not np.isfinite(y_array).all():
        raise ValueError("`y` contains NaN or infinite values.")
    return X, y_array


def is_class_labels(y):
    """True when the 1-D `y` holds class labels rather than a continuous target.

    Labels are booleans, integers, strings or other objects, or floats that are all finite and integral
    (1.0, 2.0, as read from a CSV file); any other float (0.5, NaN, inf), a complex or date dtype, or an
    array that is not 1-D is not. Classifiers, classification metrics and stratified splits all ask this.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        return False
    if y.dtype.kind == "f":
        return bool(np.isfinite(y).all() and np.array_equal(y, np.round(y)))
    return y.dtype.kind in "biuUSO"  # bool, signed and unsigned ints, bytes, str, object


def check_is_fitted(estimator, attribute):
    """Raise NotFittedError unless `estimator` has the fitted attribute `attribute`."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet; call fit(X, y) before using it."
        )


def check_n_features(estimator, X):
    """Check that X has the number of columns the estimator was fitted on."""
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"`X` has {X.shape[1]} features, but {type(estimator).__name__} was fitted with "
            f"{estimator.n_features_in_} features."
        )
