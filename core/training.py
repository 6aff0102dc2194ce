"""Training shared by tunelab's gradient-trained models: the linear models and the multi-layer perceptrons.

Each model minimises f(theta) = (1/n) sum_i loss(x_i, y_i; theta) + (alpha/2) |W|^2 (intercepts and biases
not penalised) by its Numba kernel (tunelab.core.kernels) handed to an optimizer of tunelab.optimizers, or
by an exact solve. `_EpochTrainedModel` holds what they share: the checks of hyperparameters and data, the
targets the kernel reads (class labels as codes in classes_, a 0/1 column for two classes, one-hot for
more), the training call with early stopping, warm_start and partial_fit, loss_curve_, n_epochs_ and
converged_ (with a ConvergenceWarning when `fit` runs out of epochs before its stopping rule is met; the
rules are those of tunelab.optimizers.train), the centring and rescaling of inputs for L-BFGS (so a linear
model fits inputs of any magnitude), and the refusal of a warm start whose architecture changed.

For gradient-based hyperparameter search a fitted model hands out its training problem,
`model.training_problem(y)` -> TrainingProblem (kernel, Hessian-vector product, targets, spec, alpha,
weights), and takes weights back by `model.set_weights(theta)`; `offers_training_problem(estimator)` tells
whether an estimator has both. Nothing outside the model touches its private state.

The kernels (and the optimizers' update rules) are imported with the first fit, not with tunelab: creating
a Numba function sets up Numba's compiler for the process (about 0.1 s), which an import should not pay.
"""

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tunelab.core.base import BaseEstimator
from tunelab.core.validation import (
    ConvergenceError,
    check_array,
    check_bool,
    check_is_fitted,
    check_n_features,
    check_random_state,
    check_scalar,
    check_X_y,
    is_class_labels,
    unique_labels,
)
from tunelab.optimizers import LBFGS, ConvergenceWarning, FirstOrderOptimizer, KernelProblem, train

LBFGS_SCALE_RANGE = 2.0 ** 20  # L-BFGS fits of a linear model rescale inputs with max|x| outside [1/R, R]
ORDINARY_SCALE = (1e-3, 1e3)  # inputs (or targets) with max|x| outside are named when a fit diverges


def max_abs(A):
    """max_i |a_i| of an array (0 for an empty one), in two passes that allocate nothing."""
    return float(max(A.max(), -A.min())) if A.size else 0.0


def check_optimizer(optimizer):
    """None or an optimizer object of tunelab.optimizers (an instance, not the class)."""
    if optimizer is None or isinstance(optimizer, (FirstOrderOptimizer, LBFGS)):
        return optimizer
    hint = " (an instance is needed: write GD() rather than GD)" if isinstance(optimizer, type) else ""
    raise TypeError(
        "`optimizer` must be None or one of GD, SGD, Momentum, Adam, LBFGS from tunelab.optimizers"
        f"{hint}; got {optimizer!r}."
    )


def offers_training_problem(estimator):
    """True when `estimator` (an instance) hands out its fitted training problem and takes weights back, by
    the methods training_problem(y) and set_weights(theta) that tunelab's gradient-trained models offer."""
    return not isinstance(estimator, type) and all(
        callable(getattr(estimator, name, None)) for name in ("training_problem", "set_weights"))


@dataclass(frozen=True)
class TrainingProblem:
    """A fitted model's training loss at its weights, as gradient-based hyperparameter search needs it:

        L(theta) = kernel(theta, X, Y, rows, alpha, spec, grad) = (1/m) sum_{i in rows} loss_i + (alpha/2) |W|^2

    kernel : the model's loss-and-gradient kernel (one of tunelab.core.kernels).
    hvp    : its exact Hessian-vector product kernel hvp(theta, X, Y, rows, alpha, spec, v, out), or None when it
             has none (the MLP; take finite differences of the kernel's gradient instead).
    Y      : (n, k) float64, the targets of the y given to training_problem, as the kernel reads them.
    spec   : (s,) int64, the model's structure as the kernel reads it.
    alpha  : the L2 strength the model is set with.
    theta  : (p,) float64, a copy of the fitted weights.
    X is the caller's: the (n, d) float64 C-contiguous rows whose targets Y holds.
    """

    kernel: Callable
    hvp: Callable | None
    Y: np.ndarray
    spec: np.ndarray
    alpha: float
    theta: np.ndarray


class _EpochTrainedModel(BaseEstimator):
    """Training shared by tunelab's models. A subclass provides:

    _kernel()                   the loss-and-gradient kernel;
    _setup(X, y, classes)       fitted attributes that do not depend on the weights (classes_, _spec);
    _initial_theta(rng)         the starting weights;
    _default_optimizer()        the optimizer used when `optimizer` is None (None: an exact solve);
    _publish(theta)             the public fitted attributes (coef_, ...) from theta;
    _validation_score(theta, X, y)  accuracy or R^2 of theta on held-out rows (higher is better).
    """

    _is_classifier = False
    _centres_for_lbfgs = False  # a linear model x W + b: L-BFGS centres and rescales X (_input_shift, _input_scale)

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
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X, y = check_X_y(X, y, y_numeric=not self._is_classifier)
        return X, y

    def _fitted(self):
        return hasattr(self, "_theta")

    # --------------------------------------------------------------------------------------- targets
    def _check_classes(self, y, classes):
        """Sorted class labels (from `classes` or y); at least two, and class labels (is_class_labels)."""
        labels = unique_labels(np.asarray(y) if classes is None else np.asarray(classes),
                               "y" if classes is None else "classes")
        if not is_class_labels(labels):
            if labels.dtype.kind == "f":  # an example for the message: the first non-integral value
                labels = labels[~(np.isfinite(labels) & (labels == np.round(labels)))]
            example = labels[0]
            raise ValueError(f"Unknown label type: `y` holds continuous values (e.g. {example!r}); a classifier needs "
                             "class labels. For a numeric target use LinearRegression or MLPRegressor.")
        if labels.size < 2:
            where = "`classes`" if classes is not None else "`y`"
            raise ValueError(f"{where} has only one class ({labels.tolist()}); a classifier needs at least two.")
        return labels

    def _codes(self, y):
        """Class labels -> indices into classes_, refusing labels the model has not seen."""
        unseen = ~np.isin(y, self.classes_)
        if unseen.any():
            raise ValueError(f"`y` contains labels {np.unique(y[unseen]).tolist()} that are not among the classes "
                             f"{self.classes_.tolist()} this model was fitted with.")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _n_outputs(self):
        """Outputs k of the kernel: one for a regressor or two classes (the log-odds of classes_[1]), K otherwise."""
        return 1 if not self._is_classifier or len(self.classes_) == 2 else len(self.classes_)

    def _targets(self, y):
        """Y (n, k) float64 as the kernel reads it: y as a column (regressor); the codes of y in classes_ as a
        column in {0, 1} (two classes) or one-hot rows (K classes)."""
        if not self._is_classifier:
            return np.ascontiguousarray(y, dtype=np.float64).reshape(-1, 1)
        codes = self._codes(y)
        if len(self.classes_) == 2:
            return codes.astype(np.float64).reshape(-1, 1)  # (n, 1) in {0, 1}
        return np.ascontiguousarray(np.eye(len(self.classes_))[codes])  # one-hot (n, K)

    # -------------------------------------------------------------------------------------- training
    def fit(self, X, y):
        """Fit the model on (X, y) for at most `max_epochs` epochs, from the current weights when `warm_start`.

        Training stops early by the optimizer's stopping rule (see the class docstring's `tol`); a fit that
        reaches max_epochs before the rule is met sets ``converged_ = False`` and warns with a
        ConvergenceWarning. A fit whose loss diverges raises ConvergenceError.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs, converted to float64.
        y : array-like of shape (n_samples,)
            Targets: class labels of any type for a classifier, numbers for a regressor.

        Returns
        -------
        self
            The fitted model.
        """
        self._check_params()
        X, y = self._check_data(X, y)
        if self.warm_start and self._fitted():
            check_n_features(self, X)
            self._check_same_architecture()
            self._train(X, y, self.max_epochs, self.tol, self.early_stopping, continuing=True)
        else:
            classes = self._check_classes(y, None) if self._is_classifier else None
            self._train_from_scratch(X, y, classes, self.max_epochs, self.tol, self.early_stopping)
        if self._not_converged is not None:
            warnings.warn(f"{type(self).__name__} did not converge: it {self._not_converged}. Raise max_epochs, "
                          "tune the optimizer (e.g. its lr) or scale the data.", ConvergenceWarning, stacklevel=2)
        return self

    def partial_fit(self, X, y, classes=None, epochs=1):
        """Train exactly `epochs` more epochs on (X, y), continuing from the current weights and optimizer state.

        The first call starts from scratch. No early stopping and no ConvergenceWarning here: the caller
        decides how many epochs to spend (``converged_`` stays False for first-order optimizers).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs, converted to float64.
        y : array-like of shape (n_samples,)
            Targets: class labels for a classifier, numbers for a regressor.
        classes : array-like of shape (n_classes,), default=None
            Every class label the model will meet (classifiers only); a first call whose `y` lacks some class
            should name them all. Later calls may repeat the same classes.
        epochs : int, default=1
            Epochs to train (for L-BFGS, iterations unless its own max_iter is set).

        Returns
        -------
        self
            The model, trained further.
        """
        self._check_params()
        check_scalar(epochs, "epochs", numbers.Integral, low=1)
        X, y = self._check_data(X, y)
        if self._fitted():
            check_n_features(self, X)
            self._check_same_architecture()
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
        self._fitted_architecture = self._architecture()
        self._theta0 = self._initial_theta(self._rng)
        try:
            return self._train(X, y, epochs, tol, early_stopping, continuing=False)
        except BaseException:
            self._forget()  # a failed first fit leaves no half-fitted model behind
            raise

    def _forget(self):
        """Drop every fitted attribute (public ones end in `_`) and the private training state."""
        fitted = [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]
        for name in fitted + ["_theta", "_theta0", "_state", "_rng", "_optimizer_type", "_spec", "_not_converged",
                              "_fitted_architecture"]:
            self.__dict__.pop(name, None)

    def _architecture(self):
        """The settings that fix the layout of the weights theta and the kernel's spec, name -> value: here
        fit_intercept (the linear models); the MLPs add their layer sizes and activation."""
        return {"fit_intercept": self.fit_intercept} if "fit_intercept" in self.get_params(deep=False) else {}

    def _check_same_architecture(self):
        """A warm start or partial_fit continues the fitted weights: refuse settings that change their layout
        (scikit-learn likewise refuses a warm start it cannot continue, e.g. when the classes changed)."""
        fitted = getattr(self, "_fitted_architecture", None)
        if fitted is None:  # fitted by a version that did not record it
            return
        for name, value in self._architecture().items():
            if value != fitted.get(name, value):
                raise ValueError(
                    f"`{name}` is {value!r} but {type(self).__name__} was fitted with {fitted[name]!r}; "
                    "warm_start=True and partial_fit continue the fitted weights, whose layout this setting fixes. "
                    f"Set warm_start=False (or clone the model) to fit the new `{name}` from scratch.")

    def _train(self, X, y, epochs, tol, early_stopping, continuing):
        Y = self._targets(y)  # (n, k)
        optimizer = self.optimizer if self.optimizer is not None else self._default_optimizer()
        theta0 = self._theta if continuing else self._theta0
        if optimizer is None:  # the exact solve; its loss curve is the objective at the solution
            theta, scores, state, converged = self._exact_solution(X, Y), None, None, True
            self._not_converged = None
            all_rows = np.arange(X.shape[0], dtype=np.int64)
            curve = [float(self._kernel()(theta, X, Y, all_rows, float(self.alpha), self._spec, np.empty_like(theta)))]
        else:
            try:
                theta, result = self._train_by(optimizer, X, y, Y, theta0, epochs, tol, early_stopping, continuing)
            except ConvergenceError as exc:
                hint = self._scale_hint(X, Y)
                if not hint:
                    raise
                raise ConvergenceError(f"{exc} {hint}") from exc
            curve, scores, state, converged = result.loss_curve, result.validation_scores, result.state, result.converged
            # why training stopped short of its rule, for fit's ConvergenceWarning (None: converged, or no rule)
            self._not_converged = None if converged or result.stopping_rule is None else result.message
        self.converged_ = bool(converged)
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

    def _train_by(self, optimizer, X, y, Y, theta0, epochs, tol, early_stopping, continuing):
        """Epochs of `optimizer` from theta0; returns (theta, the TrainResult of tunelab.optimizers.train)."""
        alpha, k = float(self.alpha), self._input_scale(X, optimizer)
        if k is not None:  # train v = 2^k W on X / 2^k with alpha / 4^k, the same optimum (see _input_scale)
            X, theta0, alpha = np.ldexp(X, -k), self._scale_weights(theta0, k), self._scaled_alpha(alpha, k)
        shift = self._input_shift(X, optimizer)
        if shift is not None:  # train in centred coordinates, the same optimum (see _input_shift)
            X, theta0 = X - shift, self._shift_intercept(theta0, shift, +1.0)
        validation_score = None
        if early_stopping:
            train_rows, val_rows = self._split(y)
            X_val, y_val = X[val_rows], y[val_rows]
            validation_score = lambda theta: self._validation_score(theta, X_val, y_val)  # noqa: E731
            X, Y = X[train_rows], Y[train_rows]  # copies; without early stopping X is used as it is
        problem = KernelProblem(self._kernel(), X, Y, alpha, self._spec)
        state = None
        if continuing and getattr(self, "_optimizer_type", None) is type(optimizer) and self._state is not None:
            state = replace(self._state, buffers=self._state.buffers.copy())  # untouched if training fails
        result = train(optimizer, problem, theta0, max_epochs=epochs, tol=tol,
                       n_iter_no_change=self.n_iter_no_change, random_state=self._rng,
                       validation_score=validation_score, state=state)
        theta = result.theta if shift is None else self._shift_intercept(result.theta, shift, -1.0)
        return (theta if k is None else self._scale_weights(theta, -k)), result

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

    # ------------------------------------------------------------------------ intercepts and centring
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

    def _input_scale(self, X, optimizer):
        """The exponent k of the scale c = 2^k of X, or None. Only linear models fitted by L-BFGS use it, and only
        for inputs of magnitude max|x| outside [2^-20, 2^20]: x W = (x / c)(c W) and (alpha/2)|W|^2 =
        (alpha / (2 c^2))|c W|^2, so training v = c W on X / c with alpha / c^2 reaches the same optimum
        W = v / c while the numbers it meets are of order one. L-BFGS needs that: its first step is 1/max|g|
        and its curvature pairs s^T y scale as c^-2, so on inputs of magnitude 1e15 its line search finds no
        step at all. c is the power of two with c <= max|x| < 2c, raised for tiny inputs until the penalty
        alpha / c^2 is at most 1 (tiny inputs under a penalty have tiny weights: what matters is that the
        intercepts fit). Scaling by a power of two is exact. gtol then bounds the gradient in v, (1/c) max|g_W|."""
        if not (self._centres_for_lbfgs and isinstance(optimizer, LBFGS)):
            return None
        top = max_abs(X)
        if top == 0.0 or 1.0 / LBFGS_SCALE_RANGE <= top <= LBFGS_SCALE_RANGE:
            return None
        k = math.frexp(top)[1] - 1
        if self.alpha > 0:
            k = max(k, math.ceil(math.log2(self.alpha) / 2))  # 4^k >= alpha
        return k

    @staticmethod
    def _scaled_alpha(alpha, k):
        """alpha / 4^k, exactly."""
        return math.ldexp(alpha, -2 * k)

    def _scale_weights(self, theta, k):
        """theta with its weights W multiplied by 2^k, exactly, and its intercepts b left (layout: W (d, k'), b)."""
        d = self.n_features_in_
        n_weights = theta.shape[0] // (d + 1) * d
        scaled = theta.copy()
        scaled[:n_weights] = np.ldexp(theta[:n_weights], k)
        return scaled

    def _scale_hint(self, X, Y):
        """A sentence naming inputs (and a regressor's targets) of unusual magnitude, for a diverged fit; ''
        when they are within ORDINARY_SCALE."""
        low, high = ORDINARY_SCALE
        arrays = [("inputs reach max|x|", X)] + ([] if self._is_classifier else [("targets reach max|y|", Y)])
        unusual = []
        for what, A in arrays:
            top = max_abs(A)
            if top > 0 and not low <= top <= high:
                unusual.append(f"the {what} = {top:.3g}")
        if not unusual:
            return ""
        return (f"Note that {' and '.join(unusual)}: standardise them first (e.g. StandardScaler, or a Pipeline "
                "with it), then tune the learning rate.")

    # ------------------------------------------------------------- the fitted problem, read and written
    def training_problem(self, y):
        """The training problem at the fitted weights, for gradient-based hyperparameter search.

        Returns a TrainingProblem: the kernel and Hessian-vector product of this model's training loss,
        the targets Y (n, k) of the labels or values `y` (n,) as the kernel reads them (y may be any rows,
        e.g. all rows of the data whose folds were fitted), the model's spec, its alpha and a copy of its
        fitted weights theta. With X the float64 rows of y, kernel(theta, X, Y, rows, alpha, spec, grad)
        is the loss `fit` minimised on `rows`.
        """
        check_is_fitted(self, "n_epochs_")
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"`y` must be 1-D; got shape {y.shape}.")
        if not self._is_classifier:
            y = check_array(y, "y", ndim=1)
        kernel = self._kernel()
        from tunelab.core.kernels import hessian_vector_product

        return TrainingProblem(kernel=kernel, hvp=hessian_vector_product(kernel), Y=self._targets(y),
                               spec=self._spec.copy(), alpha=float(self.alpha), theta=self._theta.copy())

    def set_weights(self, theta):
        """Make `theta` (p,) the fitted weights, in the layout of training_problem(y).theta, and publish the
        fitted attributes from it (coef_ and intercept_, or coefs_ and intercepts_). loss_curve_, n_epochs_
        and the optimizer's state stay as they are; a warm start continues from theta. Returns self."""
        check_is_fitted(self, "n_epochs_")
        theta = check_array(theta, "theta", ndim=1)
        if theta.shape != self._theta.shape:
            raise ValueError(f"`theta` must have shape {self._theta.shape}, one entry per weight of this model; "
                             f"got {theta.shape}.")
        self._theta = theta.copy()
        self._publish(self._theta)
        return self

    def _check_predict_input(self, X):
        check_is_fitted(self, "n_epochs_")
        X = check_array(X, "X")
        check_n_features(self, X)
        return X
