"""Input checks shared by every model, metric and splitter of tunelab.

X is converted once to a C-contiguous float64 array, so kernels can rely on that layout.
Whether a target holds class labels is decided by `is_class_labels` alone.
Scalar checks and seeds come from `tunelab.optimizers.validation`, the one validation helper.
Messages carry the phrases scikit-learn's own checks look for ("Reshape your data", "0 feature(s)",
"Complex data not supported", "sparse", "X has 1 features, but ... is expecting 4 features as input"), so
tools written for scikit-learn recognise them.
"""

import functools
import sys
import warnings

import numpy as np

from tunelab.optimizers.validation import (  # noqa: F401  (re-exported: one helper for the package)
    ConvergenceError,
    check_bool,
    check_choice,
    check_random_state,
    check_scalar,
)


class NotFittedError(ValueError, AttributeError):
    """Raised when predict/score/transform is called before fit.

    When scikit-learn is loaded, the error raised is of a subclass that is also
    sklearn.exceptions.NotFittedError (see `not_fitted_error`), so code written for scikit-learn catches it."""


class DataConversionWarning(UserWarning):
    """y came in a shape the estimator had to change (a column vector (n, 1) where (n,) was expected)."""


@functools.cache
def _sklearn_not_fitted_error():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    return type("SklearnNotFittedError", (NotFittedError, SklearnNotFittedError),
                {"__module__": __name__, "__doc__": "tunelab's NotFittedError that is also scikit-learn's."})


def __getattr__(name):  # PEP 562: the class above is built on first use, also when an instance is unpickled
    if name == "SklearnNotFittedError":
        return _sklearn_not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def not_fitted_error(message):
    """NotFittedError(message); once scikit-learn is imported, of the subclass that is also scikit-learn's
    NotFittedError. tunelab never imports scikit-learn for this: while it is not loaded, no caller can be
    catching scikit-learn's class."""
    if "sklearn.exceptions" in sys.modules:
        return _sklearn_not_fitted_error()(message)
    return NotFittedError(message)


def _is_sparse(X):
    """True for a scipy.sparse matrix or array, told by its class's module (scipy is not imported)."""
    return type(X).__module__.startswith("scipy.sparse")


def _sum_is_finite(array):
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(array.sum()))


def check_array(X, name="X", *, ndim=2, dtype=np.float64, allow_empty=False):
    """Return X as a C-contiguous `dtype` array with `ndim` dimensions, finite and not empty.

    An object array is converted to numbers when its entries are numbers; a scipy sparse matrix is refused
    (TypeError: tunelab's kernels read dense rows)."""
    if _is_sparse(X):
        raise TypeError(f"`{name}` is a sparse matrix ({type(X).__name__}); tunelab needs dense data: "
                        f"pass {name}.toarray().")
    try:
        array = np.asarray(X)
    except Exception as exc:  # ragged lists and other non-arrays
        raise ValueError(f"`{name}` must be array-like; could not convert it ({exc}).") from exc
    if np.iscomplexobj(array):
        raise ValueError(f"`{name}` must be real (Complex data not supported); got dtype {array.dtype}.")
    if array.dtype == object:
        array = _objects_as_numbers(array, name, dtype)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"`{name}` must be numeric; got an array of dtype {array.dtype}.")
    if array.ndim != ndim:
        hint = ""
        if ndim == 2 and array.ndim == 1:
            hint = (f". Reshape your data: {name}.reshape(-1, 1) for a single feature, {name}.reshape(1, -1) "
                    "for a single sample")
        raise ValueError(f"`{name}` must be {ndim}-D; got shape {array.shape}{hint}.")
    if not allow_empty and array.size == 0:
        what = "feature(s)" if array.ndim == 2 and array.shape[0] > 0 else "sample(s)"
        raise ValueError(f"`{name}` is empty: 0 {what} (shape={array.shape}) while a minimum of 1 is required.")
    array = np.ascontiguousarray(array, dtype=dtype)
    # one sum is far cheaper than an elementwise test; it is finite unless a value is NaN/inf (or huge)
    if np.issubdtype(array.dtype, np.floating) and not _sum_is_finite(array) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"`{name}` contains {bad} NaN or infinite value(s); remove or impute them first.")
    return array


def _objects_as_numbers(array, name, dtype):
    """An object array of numbers as `dtype`; an entry that is no number raises (TypeError or ValueError as
    numpy's conversion does, its message kept)."""
    try:
        return array.astype(dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"`{name}` must be numeric; could not convert its objects to numbers ({exc}).") from exc


def check_X_y(X, y, *, y_numeric=False):
    """Check a 2-D X and a 1-D y of the same length; returns (X float64, y).

    y is returned as float64 when `y_numeric`, otherwise as it came (labels of any type), 1-D.
    """
    X = check_array(X, "X")
    y_array = np.asarray(y)
    if y_array.ndim == 2 and y_array.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it is used as y.ravel(), "
                      f"shape ({y_array.shape[0]},).", DataConversionWarning, stacklevel=4)
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


def unique_labels(y, name="y", **unique_kwargs):
    """np.unique(y, **unique_kwargs) of an array of class labels; a ValueError naming `name` when the labels
    cannot be ordered (numbers mixed with strings, or None among them), as scikit-learn refuses a "mix of
    label input types"."""
    try:
        return np.unique(y, **unique_kwargs)
    except TypeError:
        kinds = sorted({type(value).__name__ for value in np.asarray(y, dtype=object).ravel().tolist()})
        raise ValueError(f"`{name}` mixes labels of types {', '.join(kinds)}, which cannot be ordered; class labels "
                         f"must be all numbers or all strings (e.g. convert them with {name}.astype(str)).") from None


def check_is_fitted(estimator, attribute):
    """Raise NotFittedError unless `estimator` has the fitted attribute `attribute`."""
    if not hasattr(estimator, attribute):
        raise not_fitted_error(f"This {type(estimator).__name__} is not fitted yet; call fit(X, y) before using it.")


def check_n_features(estimator, X):
    """Check that X has the number of columns the estimator was fitted on."""
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input (the number it was fitted with).")
