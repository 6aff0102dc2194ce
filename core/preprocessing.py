"""Feature scaling: z = (x - mean) / std per column, fitted on training data only."""

import numpy as np

from tunelab.core.validation import check_array, check_bool, check_is_fitted, check_n_features
from tunelab.core.base import BaseEstimator


class StandardScaler(BaseEstimator):
    """Standardise each feature: z_j = (x_j - mu_j) / sigma_j, mu_j the mean and sigma_j^2 the (population,
    ddof=0) variance of column j on the data given to `fit`.

    A constant column (max == min) gets var_ = 0 and scale_ = 1, so it maps to exactly 0 instead of 0 / 0.
    As sklearn.preprocessing.StandardScaler.

    The moments are those of column j divided by c_j, the power of two with c_j <= max|x_j| < 2 c_j:
    mu_j = c_j mean(x_j / c_j) and sigma_j = c_j std(x_j / c_j). Scaling by a power of two is exact, so for
    ordinary data this is the plain formula to the last bit, while no square overflows (|x| ~ 1e154 and beyond)
    or underflows (|x| ~ 1e-154 and below): any finite input is standardised right. var_ = sigma_j^2 is then
    rounded to float64 and may be inf or 0 where the variance itself leaves float64's range; scale_ is exact.

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
        k = np.frexp(np.abs(X).max(axis=0))[1] - 1  # (d,) exponents: 2^k <= max|x_j| < 2^(k+1)
        Z = np.ldexp(X, -k)  # (n, d), |z| < 2: exact
        mu = np.where(constant, X[0], np.ldexp(Z.mean(axis=0), k))  # a constant column's mean is its value, exactly
        self.mean_ = mu if (self.with_mean or self.with_std) else None
        if self.with_std:
            sigma = np.where(constant, 0.0, np.ldexp(Z.std(axis=0), k))
            with np.errstate(over="ignore"):
                self.var_ = sigma ** 2
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
        """z = (x - mean_) / scale_ (each step only when enabled); returns a new float64 array (n, d).

        Where x - mean_ overflows (both near float64's largest, of opposite signs), z = x / scale_ - mean_ / scale_.
        """
        X = self._check(X)
        if self.with_mean and self.with_std:
            return _affine(X, self.mean_, self.scale_, lambda A, m, s: (A - m) / s, lambda A, m, s: A / s - m / s)
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
        if self.with_mean and self.with_std:
            return _affine(Z, self.mean_, self.scale_, lambda A, m, s: A * s + m, lambda A, m, s: (A + m / s) * s)
        if self.with_std:
            Z *= self.scale_
        if self.with_mean:
            Z += self.mean_
        return Z


def _affine(A, m, s, plain, safe):
    """plain(A, m, s) elementwise, with safe(A, m, s) for the columns where plain overflowed (n, d)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = plain(A, m, s)
        bad = ~np.isfinite(out).all(axis=0)  # (d,)
        if bad.any():
            out[:, bad] = safe(A[:, bad], m[bad], s[bad])
    return out
