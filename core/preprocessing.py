"""Feature scaling: z = (x - mean) / std per column, fitted on training data only."""

import numpy as np

from tunelab.core.validation import check_array, check_bool, check_is_fitted, check_n_features
from tunelab.core.base import BaseEstimator


class StandardScaler(BaseEstimator):
    """Standardise each feature: z_j = (x_j - mu_j) / sigma_j, mu_j the mean and sigma_j^2 the (population,
    ddof=0) variance of column j on the data given to `fit`.

    A constant column (max == min) gets var_ = 0 and scale_ = 1, so it maps to exactly 0 instead of 0 / 0.
    As sklearn.preprocessing.StandardScaler.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the column means; False leaves the centre alone.
    with_std : bool, default=True
        Divide by the column standard deviations; False leaves the scale alone.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,) or None
        The column means mu_j; None when with_mean and with_std are both False.
    var_ : ndarray of shape (n_features,) or None
        The column variances sigma_j^2 (ddof=0); None when with_std is False.
    scale_ : ndarray of shape (n_features,) or None
        The divisors: sigma_j, or 1 for a constant column; None when with_std is False.
    n_features_in_ : int
        Number of features seen by fit.
    n_samples_seen_ : int
        Number of rows seen by fit.
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Compute mean_, var_ and scale_ of each column of X (n, d); `y` is ignored. Returns self."""
        check_bool(self.with_mean, "with_mean")
        check_bool(self.with_std, "with_std")
        X = check_array(X, "X")  # (n, d)
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        constant = X.max(axis=0) == X.min(axis=0)  # (d,)
        mu = np.where(constant, X[0], X.mean(axis=0))  # a constant column's mean is its value, exactly
        self.mean_ = mu if (self.with_mean or self.with_std) else None
        if self.with_std:
            var = np.where(constant, 0.0, X.var(axis=0))
            self.var_ = var
            sigma = np.sqrt(var)
            self.scale_ = np.where(sigma > 0, sigma, 1.0)  # zero variance: scale 1
        else:
            self.var_ = None
            self.scale_ = None
        return self

    def _check(self, X):
        check_is_fitted(self, "n_features_in_")
        X = check_array(X, "X")
        check_n_features(self, X)
        return X.copy()  # never hand back (or modify) the caller's array

    def transform(self, X):
        """z = (x - mean_) / scale_ (each step only when enabled); returns a new float64 array (n, d)."""
        X = self._check(X)
        if self.with_mean:
            X -= self.mean_
        if self.with_std:
            X /= self.scale_
        return X

    def fit_transform(self, X, y=None):
        """fit(X) then transform(X): the standardised copy of X (n, d)."""
        return self.fit(X, y).transform(X)

    def inverse_transform(self, Z):
        """x = z * scale_ + mean_, the inverse of transform."""
        Z = self._check(Z)
        if self.with_std:
            Z *= self.scale_
        if self.with_mean:
            Z += self.mean_
        return Z
