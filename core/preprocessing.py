"""Feature scaling: z = (x - mean) / std per column, fitted on training data only."""

import numpy as np

from tunelab.core.validation import check_array, check_bool, check_is_fitted, check_n_features
from tunelab.core.base import BaseEstimator

SCALE_FREE = 400  # columns with max|x| within 2^+-400: squares stay inside float64's range, no rescaling needed


class StandardScaler(BaseEstimator):
    """Standardise each feature: z_j = (x_j - mu_j) / sigma_j, mu_j the mean and sigma_j^2 the (population,
    ddof=0) variance of column j on the data given to `fit`.

    A constant column (max == min) gets var_ = 0 and scale_ = 1, so it maps to exactly 0 instead of 0 / 0.
    As sklearn.preprocessing.StandardScaler.

    Any finite input is standardised right. When some column reaches beyond 2^+-400 (about 1e+-120), the
    moments are those of column j divided by c_j, the power of two with c_j <= max|x_j| < 2 c_j:
    mu_j = c_j mean(x_j / c_j) and sigma_j = c_j std(x_j / c_j), so no square overflows (|x| ~ 1e154 and
    beyond) or underflows (|x| ~ 1e-154 and below); scaling by a power of two is exact, so this is the plain
    formula wherever that one works. var_ = sigma_j^2 is then rounded to float64 and may be inf or 0 where the
    variance itself leaves float64's range; scale_ stays exact. transform and inverse_transform redo a column
    whose x - mean_ (or z scale_) overflowed as x / scale_ - mean_ / scale_ (or (z + mean_ / scale_) scale_).

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
        high, low = X.max(axis=0), X.min(axis=0)  # (d,)
        constant = high == low
        k = np.frexp(np.maximum(high, -low))[1] - 1  # (d,) exponents: 2^k <= max|x_j| < 2^(k+1)
        if np.abs(k).max() <= SCALE_FREE:  # no square can leave float64's range: the same bits without a copy
            k, Z = np.zeros_like(k), X
        else:
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
        """z = (x - mean_) / scale_ (each step only when enabled); returns a new float64 array (n, d)."""
        Z = self._check(X)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.with_mean:
                Z -= self.mean_
            if self.with_std:
                Z /= self.scale_
            if self.with_mean and self.with_std:
                self._redo_overflowed(Z, X, lambda A, m, s: A / s - m / s)
        return Z

    def fit_transform(self, X, y=None):
        """fit(X) then transform(X): the standardised copy of X (n, d)."""
        return self.fit(X, y).transform(X)

    def inverse_transform(self, Z):
        """x = z * scale_ + mean_, the inverse of transform; a new float64 array (n, d)."""
        X = self._check(Z)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.with_std:
                X *= self.scale_
            if self.with_mean:
                X += self.mean_
            if self.with_mean and self.with_std:
                self._redo_overflowed(X, Z, lambda A, m, s: (A + m / s) * s)
        return X

    def _redo_overflowed(self, out, given, safe):
        """Recompute by safe(A, mean_, scale_) the columns of `out` (computed in place from `given`) that overflowed:
        a column sum that is not finite finds them in one pass without a copy."""
        bad = ~np.isfinite(out.sum(axis=0))  # (d,)
        if bad.any():
            A = check_array(given, "X")[:, bad]
            out[:, bad] = safe(A, self.mean_[bad], self.scale_[bad])
