"""MLPClassifier and MLPRegressor: they learn XOR, two moons and a smooth function; training controls; bad input."""

import numpy as np
import pytest

from tunelab.core.kernels import mlp_loss_grad
from tunelab.core.metrics import log_loss
from tunelab.core.validation import ConvergenceError, NotFittedError
from tunelab.core.base import clone
from tunelab.core.datasets import make_moons, make_xor
from tunelab.core.neural_network import MLPClassifier, MLPRegressor
from tunelab.optimizers import GD, SGD, Adam, Momentum


def fast(cls=MLPClassifier, **params):
    defaults = dict(hidden_layer_sizes=(16,), optimizer=Adam(lr=0.02, batch_size=32), max_epochs=300, tol=1e-4,
                    n_iter_no_change=20, random_state=0)
    return cls(**{**defaults, **params})


def smooth_regression(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1] ** 2


# ------------------------------------------------------------------------------------------------
# learning
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_learns_xor(activation):
    X, y = make_xor(400, random_state=0)
    X_test, y_test = make_xor(400, random_state=1)
    lr = 0.05 if activation == "sigmoid" else 0.02
    model = fast(activation=activation, optimizer=Adam(lr=lr, batch_size=32)).fit(X, y)
    assert model.score(X_test, y_test) >= 0.95
    # a linear model cannot do better than about 1/2 on XOR: the hidden layer is what learns it
    linear = fast(hidden_layer_sizes=()).fit(X, y)
    assert linear.score(X_test, y_test) < 0.7


def test_learns_two_moons():
    X, y = make_moons(500, noise=0.1, random_state=0)
    X_test, y_test = make_moons(500, noise=0.1, random_state=1)
    model = fast(hidden_layer_sizes=(32, 32), optimizer=Momentum(lr=0.1, momentum=0.9, batch_size=32)).fit(X, y)
    assert model.score(X_test, y_test) >= 0.97


def test_regressor_learns_a_smooth_function():
    X, y = smooth_regression(400, 0)
    X_test, y_test = smooth_regression(400, 1)
    model = fast(MLPRegressor, hidden_layer_sizes=(32,), activation="tanh").fit(X, y)
    assert model.score(X_test, y_test) > 0.97
    assert model.predict(X_test).shape == (400,)


def test_multiclass_with_string_labels():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 3], [3, 0], [-3, 0], [0, -3]])
    codes = rng.integers(0, 4, 400)
    X = centres[codes] + rng.normal(size=(400, 2))
    labels = np.array(["north", "east", "west", "south"])
    y = labels[codes]
    model = fast().fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.sort(labels))
    P = model.predict_proba(X)
    assert P.shape == (400, 4) and np.allclose(P.sum(axis=1), 1.0) and np.all(P >= 0)
    predicted = model.predict(X)
    assert set(predicted) <= set(labels)
    np.testing.assert_array_equal(predicted, model.classes_[P.argmax(axis=1)])
    assert model.score(X, y) > 0.9
    assert model.coefs_[-1].shape == (16, 4) and model.intercepts_[-1].shape == (4,)


def test_binary_uses_one_sigmoid_output():
    X, y = make_moons(200, noise=0.1, random_state=2)
    model = fast(max_epochs=5, tol=None).fit(X, np.where(y == 1, "yes", "no"))
    assert model.coefs_[-1].shape == (16, 1)
    P = model.predict_proba(X)
    assert P.shape == (200, 2) and np.allclose(P.sum(axis=1), 1.0)


def test_fitted_weights_match_the_published_coefs():
    """coefs_/intercepts_ are the weights the kernel trained: its gradient at them is what training saw."""
    X, y = smooth_regression(100, 4)
    model = fast(MLPRegressor, hidden_layer_sizes=(5, 3), max_epochs=3, tol=None).fit(X, y)
    assert [W.shape for W in model.coefs_] == [(2, 5), (5, 3), (3, 1)]
    theta = np.concatenate([np.r_[W.ravel(), b] for W, b in zip(model.coefs_, model.intercepts_)])
    h1 = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    h2 = np.maximum(h1 @ model.coefs_[1] + model.intercepts_[1], 0)
    np.testing.assert_allclose(model.predict(X), (h2 @ model.coefs_[2] + model.intercepts_[2])[:, 0], rtol=1e-12)
    grad = np.empty_like(theta)
    L = mlp_loss_grad(theta, X, y.reshape(-1, 1), np.arange(100, dtype=np.int64), model.alpha,
                      np.array([0, 0, 2, 5, 3, 1], np.int64), grad)
    assert L == pytest.approx(0.5 * np.mean((model.predict(X) - y) ** 2)
                              + 0.5 * model.alpha * sum((W ** 2).sum() for W in model.coefs_))


@pytest.mark.parametrize("activation,expected_std", [("relu", lambda fi, fo: np.sqrt(2.0 / fi)),
                                                     ("tanh", lambda fi, fo: np.sqrt(2.0 / (fi + fo)))])
def test_initial_weights_follow_he_and_glorot(activation, expected_std):
    """Trained with a learning rate of 1e-300 the weights stay where they started."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(64, 300)), rng.integers(0, 2, 64)
    model = MLPClassifier(hidden_layer_sizes=(200,), activation=activation, optimizer=SGD(lr=1e-300),
                          max_epochs=1, tol=None, random_state=0).fit(X, y)
    W = model.coefs_[0]  # (300, 200)
    assert abs(W.mean()) < 0.01 * expected_std(300, 200)
    assert W.std() == pytest.approx(expected_std(300, 200), rel=0.02)
    if activation == "tanh":  # Glorot uniform: bounded by sqrt(6 / (fan_in + fan_out))
        assert np.abs(W).max() <= np.sqrt(6.0 / 500)
    assert np.abs(model.intercepts_[0]).max() < 1e-200  # biases start at 0 (and moved by lr * grad ~ 1e-300)


# ------------------------------------------------------------------------------------------------
# training controls
# ------------------------------------------------------------------------------------------------
def test_same_seed_same_network_different_seed_different_network():
    X, y = make_moons(150, noise=0.2, random_state=3)
    a = fast(max_epochs=5, tol=None, random_state=7).fit(X, y)
    b = fast(max_epochs=5, tol=None, random_state=7).fit(X, y)
    c = fast(max_epochs=5, tol=None, random_state=8).fit(X, y)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(Wa, Wb)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_warm_start_and_partial_fit_continue_exactly(cls):
    X, y = make_moons(150, noise=0.2, random_state=4)
    if cls is MLPRegressor:
        y = y + X[:, 0]
    params = dict(optimizer=Momentum(lr=0.05, momentum=0.9, batch_size=16), tol=None)
    whole = fast(cls, max_epochs=7, **params).fit(X, y)
    warm = fast(cls, max_epochs=3, **params).fit(X, y)
    warm.set_params(warm_start=True, max_epochs=4).fit(X, y)
    parts = fast(cls, **params)
    parts.partial_fit(X, y, epochs=3)
    parts.partial_fit(X, y, epochs=4)
    for model in (warm, parts):
        assert model.n_epochs_ == 7
        np.testing.assert_allclose(model.loss_curve_, whole.loss_curve_, rtol=1e-12)
        for W, W_whole in zip(model.coefs_, whole.coefs_):
            np.testing.assert_allclose(W, W_whole, rtol=1e-12, atol=1e-14)


def test_early_stopping_keeps_validation_scores():
    X, y = make_moons(300, noise=0.25, random_state=5)
    model = fast(early_stopping=True, n_iter_no_change=5, validation_fraction=0.2).fit(X, y)
    assert len(model.validation_scores_) == model.n_epochs_ < 300
    assert all(0.0 <= s <= 1.0 for s in model.validation_scores_)
    regressor = fast(MLPRegressor, early_stopping=True, n_iter_no_change=5).fit(*smooth_regression(300, 6))
    assert len(regressor.validation_scores_) == regressor.n_epochs_ and max(regressor.validation_scores_) > 0.8


def test_diverging_learning_rate_raises_convergence_error():
    X, y = smooth_regression(100, 7)
    model = MLPRegressor(hidden_layer_sizes=(8,), optimizer=GD(lr=100.0), max_epochs=200, tol=None, random_state=0)
    with pytest.raises(ConvergenceError, match="diverged"):
        model.fit(X, 100 * y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_clone_and_nested_params():
    model = fast(optimizer=Momentum(lr=0.1, batch_size=16))
    model.set_params(optimizer__lr=0.3, hidden_layer_sizes=(4, 4))
    copy = clone(model)
    assert copy.get_params()["optimizer__lr"] == 0.3 and copy.hidden_layer_sizes == (4, 4)
    X, y = make_moons(60, random_state=0)
    copy.fit(X, y)
    assert [W.shape for W in copy.coefs_] == [(2, 4), (4, 4), (4, 1)] and not hasattr(model, "coefs_")


def test_default_optimizer_is_adam_and_fits():
    X, y = make_moons(400, noise=0.1, random_state=8)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_epochs=200, random_state=0).fit(X, y)
    assert model.optimizer is None and model.n_epochs_ <= 200 and model.score(X, y) > 0.85


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------
X_OK, Y_OK = make_moons(40, random_state=0)


@pytest.mark.parametrize("params,error,message", [
    ({"activation": "softplus"}, ValueError, "`activation` must be one of 'relu', 'tanh', 'sigmoid'"),
    ({"alpha": -1e-4}, ValueError, "`alpha` must be >= 0"),
    ({"hidden_layer_sizes": (8, 0)}, ValueError, r"`hidden_layer_sizes\[1\]` must be >= 1; got 0"),
    ({"hidden_layer_sizes": (8, 2.5)}, TypeError, r"`hidden_layer_sizes\[1\]` must be an integer; got 2.5"),
    ({"hidden_layer_sizes": "64"}, TypeError, "tuple of positive integers"),
    ({"optimizer": Adam(lr=0.0)}, ValueError, "`lr` must be > 0"),
    ({"optimizer": "adam"}, TypeError, "`optimizer` must be None or one of"),
    ({"max_epochs": -3}, ValueError, "`max_epochs` must be >= 1"),
])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_hyperparameters_name_the_argument(cls, params, error, message):
    with pytest.raises(error, match=message):
        cls(**params).fit(X_OK, Y_OK)


def test_int_hidden_layer_size_means_one_layer():
    model = MLPClassifier(hidden_layer_sizes=5, max_epochs=1, random_state=0).fit(X_OK, Y_OK)
    assert [W.shape for W in model.coefs_] == [(2, 5), (5, 1)]


def test_bad_data_one_class_and_unfitted():
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier().fit(X_OK, np.ones(40))
    with pytest.raises(ValueError, match="NaN or infinite"):
        MLPClassifier().fit(np.full((3, 2), np.nan), [0, 1, 0])
    with pytest.raises(ValueError, match="same number of rows"):
        MLPRegressor().fit(X_OK, np.zeros(39))
    with pytest.raises(ValueError, match="numeric"):
        MLPRegressor().fit(X_OK[:2], ["a", "b"])
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(X_OK)
    model = MLPClassifier(max_epochs=1, random_state=0).fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="2 features"):
        model.predict(np.zeros((3, 5)))


def test_the_training_problem_of_an_mlp_has_no_exact_hessian_and_its_weights_go_back():
    X, y = make_moons(60, noise=0.2, random_state=0)
    model = MLPClassifier(hidden_layer_sizes=(5,), max_epochs=5, random_state=0).fit(X, y)
    problem = model.training_problem(y)
    assert problem.kernel is mlp_loss_grad and problem.hvp is None and problem.Y.shape == (60, 1)
    grad = np.empty_like(problem.theta)
    rows = np.arange(60, dtype=np.int64)
    loss = problem.kernel(problem.theta, np.ascontiguousarray(X), problem.Y, rows, 0.0, problem.spec, grad)
    assert loss == pytest.approx(log_loss(y, model.predict_proba(X)), rel=1e-10)
    model.set_weights(np.zeros_like(problem.theta))
    assert not any(W.any() for W in model.coefs_) and np.all(model.predict_proba(X) == 0.5)

