"""Multi-layer perceptrons: MLPClassifier (softmax, or one sigmoid unit for two classes) and MLPRegressor.

Both minimise (1/n) sum_i loss_i + (alpha/2) sum_l |W_l|^2 over the weights of
x -> act(x W_0 + b_0) -> ... -> z = a_{L-1} W_{L-1} + b_{L-1}, with cross-entropy of softmax(z) or of
sigmoid(z) (two classes) for the classifier and 1/2 |z - y|^2 for the regressor; the loss and its
gradient (back-propagation written out by hand) come from the Numba kernel mlp_loss_grad of tunelab.core.kernels.
The penalty is per sample: scikit-learn's MLP alpha, which divides by the batch size, is alpha_sklearn = n_batch alpha.

Weights start from the seed: He normal, N(0, 2 / fan_in), for relu layers (He et al., 2015); Glorot uniform,
U(+-sqrt(6 / (fan_in + fan_out))), for tanh and sigmoid layers and the output layer (Glorot & Bengio, 2010);
biases at 0. The default optimizer is Adam(lr=1e-3, batch_size=200), as scikit-learn's.

Like scikit-learn's, these networks want standardised inputs. Inputs so large or small that training in
float64 cannot work are refused before training (`check_magnitude`): the back-propagated gradients grow as
|x| (classifier) or |x|^2 (regressor, whose outputs and errors grow as |x|), and Adam and L-BFGS square them.
"""

import numbers

import numpy as np

from tunelab.core.base import ClassifierMixin, RegressorMixin
from tunelab.core.training import _EpochTrainedModel, max_abs
from tunelab.core.validation import check_choice, check_scalar
from tunelab.optimizers import Adam


def _kernels():
    """tunelab.core.kernels, imported on first use (Numba code, loaded with the first fit: training.py)."""
    from tunelab.core import kernels

    return kernels


SQUARE_SAFE = 1e150  # |g| beyond this (or below 1/SQUARE_SAFE) and g^2 leaves float64's normal range


def check_magnitude(A, name, model, high, low=None):
    """Raise a ValueError naming `name` when max|a| of the array A is above `high`, or (when `low` is given)
    positive and below `low`: a magnitude the network's float64 training cannot handle."""
    top = max_abs(A)
    if top > high:
        limit = f"beyond {high:.0e}, where its back-propagated gradients, squared by Adam and L-BFGS, overflow"
    elif low is not None and 0.0 < top < low:
        limit = f"below {low:.0e}, where the squares of its gradients underflow and the inputs are not seen"
    else:
        return
    letter = name[0].lower()
    raise ValueError(f"`{name}` reaches max|{letter}| = {top:.3g}; {model} trains in float64 and cannot fit values "
                     f"{limit}. Standardise {name} first, e.g. StandardScaler().fit_transform({name}) or a Pipeline "
                     "with StandardScaler" + (" (for a target: y / y.std())." if name == "y" else "."))


def check_hidden_layer_sizes(sizes):
    """A tuple of positive ints (an int means one hidden layer)."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    if not isinstance(sizes, (tuple, list, np.ndarray)):
        raise TypeError(f"`hidden_layer_sizes` must be a tuple of positive integers, e.g. (64, 64); got {sizes!r}.")
    for i, size in enumerate(sizes):
        check_scalar(size, f"hidden_layer_sizes[{i}]", numbers.Integral, low=1)
    return tuple(int(size) for size in sizes)


class _MLP(_EpochTrainedModel):
    """The multi-layer perceptron shared by MLPClassifier and MLPRegressor (see the module docstring)."""

    def __init__(self, hidden_layer_sizes=(64,), activation="relu", alpha=1e-4, optimizer=None, max_epochs=200,
                 tol=1e-4, n_iter_no_change=10, early_stopping=False, validation_fraction=0.1, warm_start=False,
                 random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        check_hidden_layer_sizes(self.hidden_layer_sizes)
        check_choice(self.activation, "activation", tuple(_kernels().ACTIVATIONS))

    def _check_data(self, X, y):
        """The checks of every model, then the magnitudes the float64 training can handle (see check_magnitude):
        gradients grow as |x| for the classifier and as |x|^2 (with |y|) for the regressor."""
        X, y = super()._check_data(X, y)
        name = type(self).__name__
        if self._is_classifier:
            check_magnitude(X, "X", name, SQUARE_SAFE, 1.0 / SQUARE_SAFE)
        else:
            check_magnitude(X, "X", name, np.sqrt(SQUARE_SAFE), 1.0 / SQUARE_SAFE)
            check_magnitude(y, "y", name, np.sqrt(SQUARE_SAFE))
        return X, y

    def _architecture(self):
        """Layer sizes and activation fix the layout of the weights (see _EpochTrainedModel)."""
        return {"hidden_layer_sizes": check_hidden_layer_sizes(self.hidden_layer_sizes), "activation": self.activation}

    def _kernel(self):
        return _kernels().mlp_loss_grad

    def _setup(self, X, y, classes):
        self.classes_ = classes
        sizes = [X.shape[1], *check_hidden_layer_sizes(self.hidden_layer_sizes), self._n_outputs()]
        self._spec = np.array([_kernels().ACTIVATIONS[self.activation], self._output_code(), *sizes], dtype=np.int64)

    def _layer_sizes(self):
        return [int(n) for n in self._spec[2:]]

    def _initial_theta(self, rng):
        sizes = self._layer_sizes()
        parts = []
        for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            hidden = l < len(sizes) - 2
            if hidden and self.activation == "relu":
                W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
            else:
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
            parts += [W.ravel(), np.zeros(fan_out)]
        return np.concatenate(parts)

    def _default_optimizer(self):
        return Adam(lr=1e-3, batch_size=200)

    def _publish(self, theta):
        sizes, off = self._layer_sizes(), 0
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            self.coefs_.append(theta[off:off + fan_in * fan_out].reshape(fan_in, fan_out).copy())
            off += fan_in * fan_out
            self.intercepts_.append(theta[off:off + fan_out].copy())
            off += fan_out

    def _outputs(self, X):
        """The network's outputs for checked X: probabilities (classifier) or values (regressor), (n, n_L)."""
        return _kernels().mlp_forward(self._theta, X, self._spec)


class MLPClassifier(ClassifierMixin, _MLP):
    """Multi-layer perceptron classifier: softmax over K classes, one sigmoid unit for two; any label type.

    Minimises the mean cross-entropy plus (alpha/2) sum_l |W_l|^2 (see the module docstring).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Widths of the hidden layers, e.g. (64, 64); an int is one layer.
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
        Activation of the hidden layers.
    alpha : float, default=1e-4
        L2 strength (>= 0) on the weights, not the biases, per sample (scikit-learn's MLP alpha is
        batch_size * alpha).
    optimizer : optimizer of tunelab.optimizers or None, default=None
        None means Adam(lr=1e-3, batch_size=200), as scikit-learn's; GD, SGD, Momentum, Adam or LBFGS.
    max_epochs : int, default=200
        Most epochs (passes over the data) a fit may run; for LBFGS, iterations unless its max_iter is set.
        A fit that reaches it before its stopping rule is met warns with ConvergenceWarning.
    tol : float or None, default=1e-4
        Tolerance of the stopping rule (tunelab.optimizers.train). Full batch (GD, or a batch_size of None or
        >= n_samples, as the default Adam's on up to 200 rows): stop when max|grad| <= tol * max(1, max|grad at
        the first epoch|). Mini-batches: stop when the training loss has not improved by tol for
        n_iter_no_change epochs. LBFGS stops on its own gtol. None: no stopping rule, every epoch runs.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least tol before a mini-batch fit or early stopping stops.
    early_stopping : bool, default=False
        Hold out validation_fraction of the rows (stratified) and stop when their accuracy has not improved by
        tol for n_iter_no_change epochs, keeping the weights with the best accuracy.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping, in (0, 1).
    warm_start : bool, default=False
        `fit` continues from the previous fit's weights (and optimizer state, same optimizer type) instead of
        starting anew.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the initial weights, the mini-batch order and the early-stopping split.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coefs_ : list of ndarray
        coefs_[l] is the weight matrix W_l of shape (fan_in, fan_out) of layer l.
    intercepts_ : list of ndarray
        intercepts_[l] is the bias vector b_l of shape (fan_out,) of layer l.
    n_features_in_ : int
        Number of features seen by fit.
    loss_curve_ : list of float
        The objective at each epoch (the mean mini-batch loss for mini-batches; the iteration's for LBFGS).
    validation_scores_ : list of float or None
        Accuracy on the held-out rows after each epoch when early_stopping, else None.
    n_epochs_ : int
        Epochs trained in all, len(loss_curve_).
    converged_ : bool
        Whether the last fit stopped by its stopping rule; False when it ran out of epochs first, or had no
        rule (tol None, partial_fit).
    """

    _is_classifier = True

    def _output_code(self):
        return _kernels().OUTPUT_SIGMOID if len(self.classes_) == 2 else _kernels().OUTPUT_SOFTMAX

    def _probabilities(self, theta, X):
        P = _kernels().mlp_forward(theta, X, self._spec)
        return np.c_[1.0 - P[:, 0], P[:, 0]] if P.shape[1] == 1 else P

    def _validation_score(self, theta, X, y):
        return float(np.mean(self.classes_[self._probabilities(theta, X).argmax(axis=1)] == y))

    def predict_proba(self, X):
        """Class probabilities (n, K), columns in the order of classes_."""
        X = self._check_predict_input(X)
        return self._probabilities(self._theta, X)

    def predict(self, X):
        """The most probable class label for each row."""
        P = self.predict_proba(X)  # (n, K); checks that the model is fitted
        return self.classes_[P.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _MLP):
    """Multi-layer perceptron regressor: identity output, loss 1/2 (z - y)^2.

    Minimises (1/n) sum_i 1/2 (z_i - y_i)^2 + (alpha/2) sum_l |W_l|^2 (see the module docstring).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Widths of the hidden layers, e.g. (64, 64); an int is one layer.
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
        Activation of the hidden layers.
    alpha : float, default=1e-4
        L2 strength (>= 0) on the weights, not the biases, per sample (scikit-learn's MLP alpha is
        batch_size * alpha).
    optimizer : optimizer of tunelab.optimizers or None, default=None
        None means Adam(lr=1e-3, batch_size=200), as scikit-learn's; GD, SGD, Momentum, Adam or LBFGS.
    max_epochs : int, default=200
        Most epochs (passes over the data) a fit may run; for LBFGS, iterations unless its max_iter is set.
        A fit that reaches it before its stopping rule is met warns with ConvergenceWarning.
    tol : float or None, default=1e-4
        Tolerance of the stopping rule (tunelab.optimizers.train). Full batch (GD, or a batch_size of None or
        >= n_samples, as the default Adam's on up to 200 rows): stop when max|grad| <= tol * max(1, max|grad at
        the first epoch|). Mini-batches: stop when the training loss has not improved by tol for
        n_iter_no_change epochs. LBFGS stops on its own gtol. None: no stopping rule, every epoch runs.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least tol before a mini-batch fit or early stopping stops.
    early_stopping : bool, default=False
        Hold out validation_fraction of the rows and stop when their R^2 has not improved by
        tol for n_iter_no_change epochs, keeping the weights with the best R^2.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping, in (0, 1).
    warm_start : bool, default=False
        `fit` continues from the previous fit's weights (and optimizer state, same optimizer type) instead of
        starting anew.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the initial weights, the mini-batch order and the early-stopping split.

    Attributes
    ----------
    coefs_ : list of ndarray
        coefs_[l] is the weight matrix W_l of shape (fan_in, fan_out) of layer l.
    intercepts_ : list of ndarray
        intercepts_[l] is the bias vector b_l of shape (fan_out,) of layer l.
    n_features_in_ : int
        Number of features seen by fit.
    loss_curve_ : list of float
        The objective at each epoch (the mean mini-batch loss for mini-batches; the iteration's for LBFGS).
    validation_scores_ : list of float or None
        R^2 on the held-out rows after each epoch when early_stopping, else None.
    n_epochs_ : int
        Epochs trained in all, len(loss_curve_).
    converged_ : bool
        Whether the last fit stopped by its stopping rule; False when it ran out of epochs first, or had no
        rule (tol None, partial_fit).
    """

    def _output_code(self):
        return _kernels().OUTPUT_IDENTITY

    def _validation_score(self, theta, X, y):
        from tunelab.core.metrics import r2_score

        return r2_score(y, _kernels().mlp_forward(theta, X, self._spec)[:, 0])

    def predict(self, X):
        """The network's output for each row, shape (n,)."""
        X = self._check_predict_input(X)
        return self._outputs(X)[:, 0]

