"""Base classes of tunelab's estimators: scikit-learn's contract, written once."""

import numpy as np

from tunelab.optimizers.params import ParamsMixin, clone  # noqa: F401  (clone is re-exported)


class BaseEstimator(ParamsMixin):
    """Constructor stores hyperparameters only; `fit` returns self; fitted attributes end in `_`."""


class ClassifierMixin:
    """`score` is the mean accuracy, as in scikit-learn."""

    _estimator_type = "classifier"

    def score(self, X, y):
        """Mean accuracy of predict(X) against the labels y, in [0, 1]."""
        from tunelab.core.metrics import accuracy_score

        return accuracy_score(y, self.predict(X))


class RegressorMixin:
    """`score` is the coefficient of determination R^2, as in scikit-learn."""

    _estimator_type = "regressor"

    def score(self, X, y):
        """R^2 = 1 - sum (y - predict(X))^2 / sum (y - mean y)^2 (1 is perfect; it can be negative)."""
        from tunelab.core.metrics import r2_score

        return r2_score(y, self.predict(X))


def is_classifier(estimator):
    """True for tunelab's classifiers and scikit-learn's (which declare their type in tags since 1.6)."""
    if getattr(estimator, "_estimator_type", None) == "classifier":
        return True
    tags = getattr(estimator, "__sklearn_tags__", None)
    try:
        return callable(tags) and tags().estimator_type == "classifier"
    except Exception:  # foreign or partial tag implementations: not a classifier as far as we can tell
        return False


def encode_labels(y):
    """Map labels of any type to 0..K-1; returns (classes, codes) with classes sorted (np.unique)."""
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    return classes, codes.astype(np.int64)
