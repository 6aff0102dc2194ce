"""Linear models: least squares with an L2 penalty (ridge) and logistic regression.

Both minimise  f(w, b) = (1/n) sum_i loss(x_i w + b, y_i) + (alpha/2) |w|^2  (the intercept b is not
penalised), by a Numba loss-and-gradient kernel (tunelab.core._linear_kernels) handed to an optimizer of
tunelab.optimizers; LinearRegression without an optimizer solves its normal equations exactly.
`alpha` relates to scikit-learn's C by C = 1 / (n alpha), and to Ridge's alpha by alpha_sklearn = n alpha.

`_EpochTrainedModel` holds what every gradient-trained model of tunelab.core shares (the MLPs too): input
checks, the training call, early stopping, warm_start and partial_fit, loss_curve_ and n_epochs_.
"""

import numbers
from dataclasses import replace

import numpy as np

from tunelab.core import _linear_kernels as lk
from tunelab.core.validation import (
    check_array,
    check_is_fitted,
    check_n_features,
    check_random_state,
    check_scalar,
    check_X_y,
)
from tunelab.core.base import BaseEstimator, ClassifierMixin, RegressorMixin
from tunelab.optimizers import LBFGS, FirstOrderOptimizer, KernelProblem, train


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {value!r} of type {type(value).__name__}.")
    return bool(value)


def check_optimizer(optimizer):
    """None or an optimizer object of tunelab.optimizers (an instance, not the class)."""
    if optimizer is None or isinstance(optimizer, (FirstOrderOptimizer, LBFGS)):
        return optimizer
    hint = " (an instance is needed: write GD() rather than GD)" if isinstance(optimizer, type) else ""
    raise TypeError(
        "`optimizer` must be None or one of GD, SGD, Momentum, Adam, LBFGS from tunelab.optimizers"
        f"{hint}; got {optimizer!r}."
    )


def softmax_rows(Z):
    """Row-wise softmax with the max subtracted first: exp never overflows."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sigmoid(z):
    """1 / (1 + e^-z) as (1 or e) / (1 + e) with e = e^{-|z|} <= 1: no overflow, full relative precision."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


class _EpochTrainedModel(BaseEstimator):
    """Training shared by tunelab's models. A subclass provides:

    _kernel()                   the loss-and-gradient kernel;
    _setup(X, y, classes)       fitted attributes that do not depend on the weights (classes_, _spec);
    _targets(y)                 Y (n, k) float64 for the kernel;
    _initial_theta(rng)         the starting weights;
    _default_optimizer()        the optimizer used when `optimizer` is None (None: an exact solve);
    _publish(theta)             the public fitted attributes (coef_, ...) from theta;
    _validation_score(theta, X, y)  accuracy or R^2 of theta on held-out rows (higher is better).
    """

    _is_classifier = False
    _centres_for_lbfgs = False  # see _input_shift

    # ---------------------------------------------------------------------------------------- checks
    def _check_params(self):
        check_scalar(self.alpha, "alpha", low=0.0)
        check_scalar(self.max_epochs, "max_epochs", numbers.Integral, low=1)
        check_scalar(self.tol, "tol", low=0.0, allow_none=True)
        check_scalar(self.n_iter_no_change, "n_iter_no_change", numbers.Integral, low=1)
        check_bool(self.early_stopping, "early_stopping")
        check_scalar(self.validation_fraction, "validation_fraction", low=0.0, high=1.0,
                     low_inclusive=False, high_inclusive=False)
        check_bool(self.warm_start, "warm_start")
        check_optimizer(self.optimizer)

    def _check_data(self, X, y):
        X, y = check_X_y(X, y, y_numeric=not self._is_classifier)
        return X, y

    def _fitted(self):
        return hasattr(self, "_theta")

    def _codes(self, y):
        """Class labels -> indices into classes_, refusing labels the model has not seen."""
        unseen = ~np.isin(y, self.classes_)
        if unseen.any():
            raise ValueError(f"`y` contains labels {np.unique(y[unseen]).tolist()} that are not among the classes "
                             f"{self.classes_.tolist()} this model was fitted with.")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _check_classes(self, y, classes):
        """Sorted class labels (from `classes` or y); at least two."""
        labels = np.unique(np.asarray(y) if classes is None else np.asarray(classes))
        if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
            example = labels[labels != np.round(labels)][0]
            raise ValueError(f"`y` holds continuous values (e.g. {example!r}); a classifier needs class labels. "
                             "For a numeric target use LinearRegression or MLPRegressor.")
        if labels.size < 2:
            where = "`classes`" if classes is not None else "`y`"
            raise ValueError(f"{where} has only one class ({labels.tolist()}); a classifier needs at least two.")
        return labels

    # -------------------------------------------------------------------------------------- training
    def fit(self, X, y):
        """Fit on (X, y) for at most max_epochs epochs (from the current weights when warm_start)."""
        self._check_params()
        X, y = self._check_data(X, y)
        if self.warm_start and self._fitted():
            check_n_features(self, X)
            return self._train(X, y, self.max_epochs, self.tol, self.early_stopping, continuing=True)
        classes = self._check_classes(y, None) if self._is_classifier else None
        return self._train_from_scratch(X, y, classes, self.max_epochs, self.tol, self.early_stopping)

    def partial_fit(self, X, y, classes=None, epochs=1):
        """Train exactly `epochs` more epochs on (X, y), continuing from the current weights and optimizer
        state (the first call starts from scratch; a classifier's first call may name all `classes`).
        No early stopping here: the caller decides how many epochs to spend."""
        self._check_params()
        check_scalar(epochs, "epochs", numbers.Integral, low=1)
        X, y = self._check_data(X, y)
        if self._fitted():
            check_n_features(self, X)
            if classes is not None and self._is_classifier and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(f"`classes` {np.unique(classes).tolist()} differ from the classes "
                                 f"{self.classes_.tolist()} of the first call.")
            return self._train(X, y, epochs, None, False, continuing=True)
        if classes is not None and not self._is_classifier:
            raise ValueError(f"`classes` is for classifiers only; {type(self).__name__} got {classes!r}.")
        labels = self._check_classes(y, classes) if self._is_classifier else None
        return self._train_from_scratch(X, y, labels, epochs, None, False)

    def _train_from_scratch(self, X, y, classes, epochs, tol, early_stopping):
        self._forget()
        self._rng = check_random_state(self.random_state)
        self.n_features_in_ = X.shape[1]
        self._setup(X, y, classes)
        self._theta0 = self._initial_theta(self._rng)
        try:
            return self._train(X, y, epochs, tol, early_stopping, continuing=False)
        except BaseException:
            self._forget()  # a failed first fit leaves no half-fitted model behind
            raise

    def _forget(self):
        """Drop every fitted attribute (public ones end in `_`) and the private training state."""
        fitted = [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]
        for name in fitted + ["_theta", "_theta0", "_state", "_rng", "_optimizer_type", "_spec"]:
            self.__dict__.pop(name, None)

    def _train(self, X, y, epochs, tol, early_stopping, continuing):
        Y = self._targets(y)  # (n, k)
        optimizer = self.optimizer if self.optimizer is not None else self._default_optimizer()
        theta0 = self._theta if continuing else self._theta0
        if optimizer is None:  # the exact solve; its loss curve is the objective at the solution
            theta, scores, state = self._exact_solution(X, Y), None, None
            all_rows = np.arange(X.shape[0], dtype=np.int64)
            curve = [float(self._kernel()(theta, X, Y, all_rows, float(self.alpha), self._spec, np.empty_like(theta)))]
        else:
            shift = self._input_shift(X, optimizer)
            if shift is not None:  # train in centred coordinates, the same optimum (see _input_shift)
                X, theta0 = X - shift, self._shift_intercept(theta0, shift, +1.0)
            validation_score = None
            if early_stopping:
                train_rows, val_rows = self._split(y)
                X_val, y_val = X[val_rows], y[val_rows]
                validation_score = lambda theta: self._validation_score(theta, X_val, y_val)  # noqa: E731
                X, Y = X[train_rows], Y[train_rows]  # copies; without early stopping X is used as it is
            problem = KernelProblem(self._kernel(), X, Y, float(self.alpha), self._spec)
            state = None
            if continuing and getattr(self, "_optimizer_type", None) is type(optimizer) and self._state is not None:
                state = replace(self._state, buffers=self._state.buffers.copy())  # untouched if training fails
            result = train(optimizer, problem, theta0, max_epochs=epochs, tol=tol,
                           n_iter_no_change=self.n_iter_no_change, random_state=self._rng,
                           validation_score=validation_score, state=state)
            theta, curve, scores, state = result.theta, result.loss_curve, result.validation_scores, result.state
            if shift is not None:
                theta = self._shift_intercept(theta, shift, -1.0)
        self._theta, self._state, self._optimizer_type = theta, state, type(optimizer)
        self.loss_curve_ = (list(self.loss_curve_) if continuing else []) + list(curve)
        if scores is None:
            self.validation_scores_ = None
        else:
            old = self.validation_scores_ if continuing and self.validation_scores_ is not None else []
            self.validation_scores_ = list(old) + list(scores)
        self.n_epochs_ = len(self.loss_curve_)
        self._publish(theta)
        return self

    def _split(self, y):
        """(train rows, validation rows): a seeded split of validation_fraction, stratified for classes."""
        n = y.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(f"early_stopping needs at least 2 samples to split off validation_fraction="
                             f"{self.validation_fraction}; got {n}.")
        perm = self._rng.permutation(n)
        if self._is_classifier:  # stratify: take each class's share of the validation rows
            codes = self._codes(y)[perm]
            counts = np.bincount(codes, minlength=len(self.classes_))
            shares = np.floor(counts * n_val / n).astype(int)
            val = np.concatenate([perm[codes == c][:shares[c]] for c in range(len(counts))])
            rest = np.setdiff1d(perm, val, assume_unique=True)
            val = np.r_[val, self._rng.permutation(rest)[:n_val - val.size]]
        else:
            val = perm[:n_val]
        train_rows = np.setdiff1d(np.arange(n), val)
        return train_rows.astype(np.int64), np.sort(val).astype(np.int64)

    def _exact_solution(self, X, Y):
        raise NotImplementedError  # only models whose _default_optimizer() returns None have one

    def _input_shift(self, X, optimizer):
        """Column means to centre X by, or None. Only linear models with an intercept fitted by L-BFGS use it:
        x w + b = (x - mu) w + (b + mu w), so centring leaves the objective (the penalty is on w only) and its
        optimum as they are while it decouples b from w, which L-BFGS converges on much faster when the
        features have large means. It is worth a copy of X only when some mean is larger than its column's
        spread (mu_j^2 > var_j, the variance estimated on the first 1000 rows)."""
        if not (self._centres_for_lbfgs and self.fit_intercept and isinstance(optimizer, LBFGS)):
            return None
        mu = X.mean(axis=0)
        return mu if np.any(mu ** 2 > X[:1000].var(axis=0)) else None

    def _shift_intercept(self, theta, mu, sign):
        """theta with b replaced by b + sign * mu W (theta's layout: W (d, k) row-major, then b (k,))."""
        d = mu.shape[0]
        k = theta.shape[0] // (d + 1)
        shifted = theta.copy()
        shifted[d * k:] += sign * (mu @ theta[:d * k].reshape(d, k))
        return shifted

    def _check_predict_input(self, X):
        check_is_fitted(self, "n_epochs_")
        X = check_array(X, "X")
        check_n_features(self, X)
        return X


SINGULAR_PIVOT = 1e-12  # a Cholesky pivot C_jj^2 below this times max_j A_jj: the normal equations are singular


class LinearRegression(RegressorMixin, _EpochTrainedModel):
    """Least squares with an L2 penalty: minimises 1/(2n) |X w + b - y|^2 + (alpha/2) |w|^2.

    optimizer=None solves exactly: with x_bar, y_bar the column means (when fit_intercept),
    (X_c^T X_c + n alpha I) w = X_c^T y_c by a Cholesky factorisation and b = y_bar - x_bar w (numpy's
    minimum-norm least-squares solution when a pivot shows the normal equations numerically singular).
    Any optimizer of tunelab.optimizers fits the same objective by epochs instead (then warm_start,
    partial_fit, tol and early_stopping apply). Fitted: coef_ (d,), intercept_, n_features_in_, loss_curve_, n_epochs_.
    Source: Hastie, Tibshirani & Friedman, The Elements of Statistical Learning, section 3.4.1.
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
        return lk.squared_loss_grad

    def _setup(self, X, y, classes):
        self._spec = np.array([int(self.fit_intercept)], dtype=np.int64)

    def _targets(self, y):
        return np.ascontiguousarray(y, dtype=np.float64).reshape(-1, 1)

    def _initial_theta(self, rng):
        return np.zeros(self.n_features_in_ + 1)

    def _default_optimizer(self):
        return None

    def _exact_solution(self, X, Y):
        n, d = X.shape
        y = Y[:, 0]
        x_bar = X.mean(axis=0) if self.fit_intercept else np.zeros(d)
        y_bar = y.mean() if self.fit_intercept else 0.0
        Xc = X - x_bar  # (n, d)
        A = Xc.T @ Xc + n * float(self.alpha) * np.eye(d)  # (d, d)
        r = Xc.T @ (y - y_bar)  # (d,)
        try:
            C = np.linalg.cholesky(A)  # A = C C^T
            singular = np.diag(C).min() ** 2 <= SINGULAR_PIVOT * max(np.diag(A).max(), np.finfo(float).tiny)
        except np.linalg.LinAlgError:
            singular = True
        if singular:  # (numerically) singular normal equations: the minimum-norm least-squares solution
            w = np.linalg.lstsq(np.vstack([Xc, np.sqrt(n * float(self.alpha)) * np.eye(d)]),
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
    Fitted: classes_, coef_ (1, d) or (K, d), intercept_ (1,) or (K,), n_features_in_, loss_curve_, n_epochs_.
    Source: Hastie, Tibshirani & Friedman, section 4.4; Bishop, Pattern Recognition and Machine Learning, 4.3.
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

    def _n_scores(self):
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _kernel(self):
        return lk.logistic_loss_grad if len(self.classes_) == 2 else lk.softmax_loss_grad

    def _setup(self, X, y, classes):
        self.classes_ = classes
        self._spec = np.array([int(self.fit_intercept)], dtype=np.int64)

    def _targets(self, y):
        codes = self._codes(y)
        if len(self.classes_) == 2:
            return codes.astype(np.float64).reshape(-1, 1)  # (n, 1) in {0, 1}
        return np.ascontiguousarray(np.eye(len(self.classes_))[codes])  # one-hot (n, K)

    def _initial_theta(self, rng):
        k = self._n_scores()
        return np.zeros(self.n_features_in_ * k + k)

    def _default_optimizer(self):
        return LBFGS()

    def _scores(self, theta, X):
        d, k = X.shape[1], self._n_scores()
        return X @ theta[:d * k].reshape(d, k) + theta[d * k:]  # (n, k)

    def _publish(self, theta):
        d, k = self.n_features_in_, self._n_scores()
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
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.c_[-np.logaddexp(0.0, Z), -np.logaddexp(0.0, -Z)]
        return Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class label for each row."""
        Z = self.decision_function(X)
        return self.classes_[self._predict_codes(Z.reshape(len(Z), -1))]
