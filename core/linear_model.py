"""Linear models: least squares with an L2 penalty (ridge) and logistic regression.

Both minimise  f(w, b) = (1/n) sum_i loss(x_i w + b, y_i) + (alpha/2) |w|^2  (the intercept b is not
penalised), by a Numba loss-and-gradient kernel (tunelab.core.kernels) handed to an optimizer of
tunelab.optimizers; LinearRegression without an optimizer solves its normal equations exactly.
`alpha` relates to scikit-learn's C by C = 1 / (n alpha), and to Ridge's alpha by alpha_sklearn = n alpha.
Training, targets, warm starts and early stopping are shared with the MLPs (tunelab.core.training).
"""

import math

import numpy as np

from tunelab.core.base import ClassifierMixin, RegressorMixin
from tunelab.core.training import _EpochTrainedModel, max_abs
from tunelab.core.validation import check_bool
from tunelab.optimizers import LBFGS


def softmax_rows(Z):
    """Row-wise softmax with the max subtracted first: exp never overflows."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sigmoid(z):
    """1 / (1 + e^-z) as (1 or e) / (1 + e) with e = e^{-|z|} <= 1: no overflow, full relative precision."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


SINGULAR_PIVOT = 1e-12  # a Cholesky pivot C_jj^2 below this times max_j A_jj: the normal equations are singular


EXACT_SCALE_FREE = 60  # |x| and |y| within 2^+-60: the normal equations neither overflow nor underflow unscaled


def _exponent(top):
    """k with 2^k <= top < 2^(k+1) for top > 0 (0 for top = 0): the power of two to scale by, exactly."""
    return math.frexp(float(top))[1] - 1 if top > 0 else 0


class LinearRegression(RegressorMixin, _EpochTrainedModel):
    """Least squares with an L2 penalty: minimises 1/(2n) |X w + b - y|^2 + (alpha/2) |w|^2.

    optimizer=None solves exactly: with x_bar, y_bar the column means (when fit_intercept),
    (X_c^T X_c + n alpha I) w = X_c^T y_c by a Cholesky factorisation and b = y_bar - x_bar w (numpy's
    minimum-norm least-squares solution when a pivot shows the normal equations numerically singular).
    Any optimizer of tunelab.optimizers fits the same objective by epochs instead (then warm_start,
    partial_fit, tol and early_stopping apply).
    Source: Hastie, Tibshirani & Friedman, The Elements of Statistical Learning, section 3.4.1.

    Parameters
    ----------
    alpha : float, default=0.0
        L2 strength (>= 0) on w, not on b. scikit-learn's Ridge alpha is n_samples * alpha.
    fit_intercept : bool, default=True
        Fit the intercept b; False fixes b = 0.
    optimizer : optimizer of tunelab.optimizers or None, default=None
        None solves the normal equations exactly; GD, SGD, Momentum, Adam or LBFGS fit by epochs.
    max_epochs : int, default=1000
        Most epochs (passes over the data) a fit may run; for LBFGS, iterations unless its max_iter is set.
        A fit that reaches it before its stopping rule is met warns with ConvergenceWarning.
    tol : float or None, default=1e-4
        Tolerance of the stopping rule (tunelab.optimizers.train). Full batch (GD, or a batch_size of None or
        >= n_samples): stop when max|grad| <= tol * max(1, max|grad at the first epoch|). Mini-batches: stop
        when the training loss has not improved by tol for n_iter_no_change epochs. LBFGS stops on its own
        gtol. None: no stopping rule, every epoch runs. Unused by the exact solve.
    n_iter_no_change : int, default=5
        Epochs without an improvement of at least tol before a mini-batch fit or early stopping stops.
    early_stopping : bool, default=False
        Hold out validation_fraction of the rows and stop when their R^2 has not improved by tol for
        n_iter_no_change epochs, keeping the weights with the best R^2.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping, in (0, 1).
    warm_start : bool, default=False
        `fit` continues from the previous fit's weights (and optimizer state, same optimizer type) instead of
        starting anew.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the mini-batch order and the early-stopping split.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The weights w.
    intercept_ : float
        The intercept b (0.0 when fit_intercept is False).
    n_features_in_ : int
        Number of features seen by fit.
    loss_curve_ : list of float
        The objective at each epoch (the mean mini-batch loss for mini-batches); one value, the objective at
        the solution, for the exact solve. partial_fit and warm starts append to it.
    validation_scores_ : list of float or None
        R^2 on the held-out rows after each epoch when early_stopping, else None.
    n_epochs_ : int
        Epochs trained in all, len(loss_curve_).
    converged_ : bool
        Whether the last fit stopped by its stopping rule (always True for the exact solve); False when it
        ran out of epochs first, or had no rule (tol None, partial_fit).
    """

    def __init__(self, alpha=0.0, fit_intercept=True, optimizer=None, max_epochs=1000, tol=1e-4,
                 n_iter_no_change=5, early_stopping=False, validation_fraction=0.1, warm_start=False,
                 random_state=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state

    _centres_for_lbfgs = True

    def _check_params(self):
        super()._check_params()
        check_bool(self.fit_intercept, "fit_intercept")

    def _kernel(self):
        from tunelab.core import kernels  # Numba code, loaded with the first fit (training.py)

        return kernels.squared_loss_grad

    def _setup(self, X, y, classes):
        self._spec = np.array([int(self.fit_intercept)], dtype=np.int64)

    def _initial_theta(self, rng):
        return np.zeros(self.n_features_in_ + 1)

    def _default_optimizer(self):
        return None

    def _exact_solution(self, X, Y):
        """The exact solve on X / 2^k and y / 2^j, 2^k <= max|x| < 2^(k+1) and likewise for y (k raised until
        alpha / 4^k <= 1): with X = 2^k Z and y = 2^j u the objective is 4^j [1/(2n) |Z v + b' - u|^2 +
        (alpha / 4^k)/2 |v|^2] at w = 2^(j-k) v, b = 2^j b'. Scaling by powers of two is exact, so for ordinary
        data this is the plain solve to the last bit, while no product of the normal equations overflows
        (|x| ~ 1e154 and beyond) or loses precision in subnormals (|x| ~ 1e-154 and below)."""
        k, j = _exponent(max_abs(X)), _exponent(max_abs(Y))
        if self.alpha > 0:
            k = max(k, math.ceil(math.log2(self.alpha) / 2))
        if max(abs(k), abs(j)) <= EXACT_SCALE_FREE:  # nothing can overflow: the same bits without the copies
            k = j = 0
        Z, u = (X, Y[:, 0]) if k == j == 0 else (np.ldexp(X, -k), np.ldexp(Y[:, 0], -j))
        v = self._normal_equations(Z, u, math.ldexp(float(self.alpha), -2 * k))
        with np.errstate(over="ignore"):
            theta = np.r_[np.ldexp(v[:-1], j - k), np.ldexp(v[-1], j)]
        if not np.isfinite(theta).all():
            raise ValueError(f"the least-squares weights overflow float64: `X` reaches max|x| = {max_abs(X):.3g} "
                             f"and `y` max|y| = {max_abs(Y):.3g}, so w ~ y / x leaves float64's range. "
                             "Standardise X and y first (StandardScaler).")
        return theta

    def _normal_equations(self, X, y, alpha):
        """(w, b) minimising 1/(2n) |X w + b - y|^2 + (alpha/2) |w|^2: (X_c^T X_c + n alpha I) w = X_c^T y_c by
        Cholesky, or the minimum-norm least-squares solution when a pivot shows the equations singular."""
        n, d = X.shape
        x_bar = X.mean(axis=0) if self.fit_intercept else np.zeros(d)
        y_bar = y.mean() if self.fit_intercept else 0.0
        Xc = X - x_bar  # (n, d)
        A = Xc.T @ Xc + n * alpha * np.eye(d)  # (d, d)
        r = Xc.T @ (y - y_bar)  # (d,)
        try:
            C = np.linalg.cholesky(A)  # A = C C^T
            singular = np.diag(C).min() ** 2 <= SINGULAR_PIVOT * max(np.diag(A).max(), np.finfo(float).tiny)
        except np.linalg.LinAlgError:
            singular = True
        if singular:  # (numerically) singular normal equations: the minimum-norm least-squares solution
            w = np.linalg.lstsq(np.vstack([Xc, np.sqrt(n * alpha) * np.eye(d)]),
                                np.r_[y - y_bar, np.zeros(d)], rcond=None)[0]
        else:
            w = np.linalg.solve(C.T, np.linalg.solve(C, r))
        return np.r_[w, y_bar - x_bar @ w]

    def _publish(self, theta):
        self.coef_ = theta[:-1].copy()
        self.intercept_ = float(theta[-1])

    def _validation_score(self, theta, X, y):
        from tunelab.core.metrics import r2_score

        return r2_score(y, X @ theta[:-1] + theta[-1])

    def predict(self, X):
        """X w + b, shape (n,)."""
        X = self._check_predict_input(X)
        return X @ self.coef_ + self.intercept_


class LogisticRegression(ClassifierMixin, _EpochTrainedModel):
    """Logistic regression with an L2 penalty, binary (one sigmoid score) or multinomial (softmax over K).

    Minimises (1/n) sum_i -log p(y_i | x_i) + (alpha/2) |W|^2 with p = sigmoid(x w + b) for two classes and
    p = softmax(x W + b) for more; scikit-learn's C corresponds to 1 / (n alpha). The default optimizer is
    L-BFGS to the optimum (max-norm of the gradient <= its gtol). Labels may be of any type.
    Source: Hastie, Tibshirani & Friedman, section 4.4; Bishop, Pattern Recognition and Machine Learning, 4.3.

    Parameters
    ----------
    alpha : float, default=1e-4
        L2 strength (>= 0) on W, not on b; scikit-learn's C is 1 / (n_samples * alpha).
    fit_intercept : bool, default=True
        Fit the intercepts b; False fixes b = 0.
    optimizer : optimizer of tunelab.optimizers or None, default=None
        None means LBFGS() (to max|grad| <= 1e-6); GD, SGD, Momentum and Adam fit by epochs.
    max_epochs : int, default=1000
        Most epochs (passes over the data) a fit may run; for LBFGS, iterations unless its max_iter is set.
        A fit that reaches it before its stopping rule is met warns with ConvergenceWarning.
    tol : float or None, default=1e-4
        Tolerance of the stopping rule (tunelab.optimizers.train). Full batch (GD, or a batch_size of None or
        >= n_samples): stop when max|grad| <= tol * max(1, max|grad at the first epoch|). Mini-batches: stop
        when the training loss has not improved by tol for n_iter_no_change epochs. LBFGS stops on its own
        gtol. None: no stopping rule, every epoch runs.
    n_iter_no_change : int, default=5
        Epochs without an improvement of at least tol before a mini-batch fit or early stopping stops.
    early_stopping : bool, default=False
        Hold out validation_fraction of the rows (stratified) and stop when their accuracy has not improved
        by tol for n_iter_no_change epochs, keeping the weights with the best accuracy.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping, in (0, 1).
    warm_start : bool, default=False
        `fit` continues from the previous fit's weights (and optimizer state, same optimizer type) instead of
        starting anew.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the mini-batch order and the early-stopping split.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights: one row (the log-odds of classes_[1]) for two classes, one per class for more.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts b.
    n_features_in_ : int
        Number of features seen by fit.
    loss_curve_ : list of float
        The objective at each epoch (iteration for LBFGS; the mean mini-batch loss for mini-batches).
    validation_scores_ : list of float or None
        Accuracy on the held-out rows after each epoch when early_stopping, else None.
    n_epochs_ : int
        Epochs (iterations) trained in all, len(loss_curve_).
    converged_ : bool
        Whether the last fit stopped by its stopping rule; False when it ran out of epochs (or LBFGS
        iterations) first, or had no rule (tol None with a first-order optimizer, partial_fit).
    """

    _is_classifier = True

    def __init__(self, alpha=1e-4, fit_intercept=True, optimizer=None, max_epochs=1000, tol=1e-4,
                 n_iter_no_change=5, early_stopping=False, validation_fraction=0.1, warm_start=False,
                 random_state=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state

    _centres_for_lbfgs = True

    def _check_params(self):
        super()._check_params()
        check_bool(self.fit_intercept, "fit_intercept")

    def _kernel(self):
        from tunelab.core import kernels  # Numba code, loaded with the first fit (training.py)

        return kernels.logistic_loss_grad if len(self.classes_) == 2 else kernels.softmax_loss_grad

    def _setup(self, X, y, classes):
        self.classes_ = classes
        self._spec = np.array([int(self.fit_intercept)], dtype=np.int64)

    def _initial_theta(self, rng):
        k = self._n_outputs()
        return np.zeros(self.n_features_in_ * k + k)

    def _default_optimizer(self):
        return LBFGS()

    def _scores(self, theta, X):
        d, k = X.shape[1], self._n_outputs()
        return X @ theta[:d * k].reshape(d, k) + theta[d * k:]  # (n, k)

    def _publish(self, theta):
        d, k = self.n_features_in_, self._n_outputs()
        self.coef_ = np.ascontiguousarray(theta[:d * k].reshape(d, k).T)  # (k, d) as in scikit-learn
        self.intercept_ = theta[d * k:].copy()

    def _predict_codes(self, Z):
        return (Z[:, 0] > 0).astype(np.int64) if Z.shape[1] == 1 else Z.argmax(axis=1)

    def _validation_score(self, theta, X, y):
        return float(np.mean(self.classes_[self._predict_codes(self._scores(theta, X))] == y))

    def decision_function(self, X):
        """Scores x W + b: shape (n,) for two classes (log-odds of classes_[1]), (n, K) otherwise."""
        X = self._check_predict_input(X)
        Z = X @ self.coef_.T + self.intercept_
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities (n, K), columns in the order of classes_."""
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.c_[sigmoid(-Z), sigmoid(Z)]  # 1 - sigmoid(z) = sigmoid(-z), without cancellation
        return softmax_rows(Z)

    def predict_log_proba(self, X):
        """Log class probabilities (n, K), columns in the order of classes_: log(1 - p) = -log(1 + e^z) and
        log p = -log(1 + e^-z) for two classes, z - logsumexp(z) for more (never the log of a rounded-off 0)."""
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.c_[-np.logaddexp(0.0, Z), -np.logaddexp(0.0, -Z)]
        return Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class label for each row."""
        Z = self.decision_function(X)
        return self.classes_[self._predict_codes(Z.reshape(len(Z), -1))]
