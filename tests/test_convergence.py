"""Convergence you can see: full-batch fits stop on the gradient, mini-batch fits on the loss's patience,
L-BFGS on its gtol; a fit that runs out of epochs first says so with a ConvergenceWarning and converged_."""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference_kernels import least_squares
import tunelab.core
import tunelab.optimizers
from tunelab.core import (
    ConvergenceWarning, LinearRegression, LogisticRegression, MLPRegressor, StandardScaler, load_breast_cancer,
)
from tunelab.optimizers import GD, LBFGS, SGD, Adam, KernelProblem, Momentum, train


def ridge_data(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))  # well conditioned: X^T X / n close to the identity
    y = X @ rng.normal(size=d) + 0.5 + 0.1 * rng.normal(size=n)
    return X, y


def closed_form_ridge(X, y, alpha):
    """argmin 1/(2n) |X w + b - y|^2 + alpha/2 |w|^2: (Xc^T Xc / n + alpha I) w = Xc^T yc / n, b = y_bar - x_bar w."""
    n, d = X.shape
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(d), Xc.T @ yc / n)
    return w, y.mean() - X.mean(axis=0) @ w


def ridge_gradient(X, y, alpha, w, b):
    """The gradient of 1/(2n) |X w + b - y|^2 + alpha/2 |w|^2 in (w, b), by numpy."""
    r = X @ w + b - y
    return np.r_[X.T @ r / len(y) + alpha * w, r.mean()]


@contextlib.contextmanager
def no_convergence_warning():
    """A context in which a ConvergenceWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        yield


@pytest.fixture
def strict():
    with no_convergence_warning():
        yield


def test_the_warning_is_tunelabs_own_user_warning():
    assert issubclass(ConvergenceWarning, UserWarning)
    assert tunelab.core.ConvergenceWarning is tunelab.optimizers.ConvergenceWarning
    assert "ConvergenceWarning" in tunelab.core.__all__ and "ConvergenceWarning" in tunelab.optimizers.__all__


# ------------------------------------------------------------------------------- full batch: the gradient


def nesterov_ridge(max_epochs, tol):
    return LinearRegression(alpha=0.3, optimizer=Momentum(lr=0.1, momentum=0.9, nesterov=True),
                            max_epochs=max_epochs, tol=tol)


def test_nesterov_ridge_is_not_stopped_by_its_oscillating_loss():
    X, y = ridge_data()
    w, b = closed_form_ridge(X, y, 0.3)
    with pytest.warns(ConvergenceWarning, match=r"LinearRegression did not converge.*max_epochs=3000.*max\|grad\|"):
        model = nesterov_ridge(3000, 0.0).fit(X, y)  # tol=0: no gradient is small enough, every epoch runs
    assert model.n_epochs_ == 3000 and model.converged_ is False
    assert np.any(np.diff(model.loss_curve_[:20]) > 0)  # the loss oscillates: patience would stop it early
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10)
    assert model.intercept_ == pytest.approx(b, rel=1e-10)


def test_a_full_batch_fit_stops_when_the_gradient_is_small(strict):
    X, y = ridge_data()
    w, b = closed_form_ridge(X, y, 0.3)
    model = nesterov_ridge(3000, 1e-8).fit(X, y)
    assert model.converged_ is True and model.n_epochs_ < 3000
    g0 = np.abs(ridge_gradient(X, y, 0.3, np.zeros(5), 0.0)).max()  # the gradient at the first epoch
    g = np.abs(ridge_gradient(X, y, 0.3, model.coef_, model.intercept_)).max()
    assert g <= 1e-8 * max(1.0, g0) * (1 + 1e-6)  # the returned weights pass the test
    np.testing.assert_allclose(model.coef_, w, rtol=1e-6)
    # the last entry of the loss curve is the loss at the returned weights
    loss = 0.5 * np.mean((X @ model.coef_ + model.intercept_ - y) ** 2) + 0.15 * model.coef_ @ model.coef_
    assert model.loss_curve_[-1] == pytest.approx(loss, rel=1e-12)


@settings(max_examples=10, deadline=None)
@given(scale=st.floats(2.0, 1e4), seed=st.integers(0, 2**16))
def test_the_gradient_test_is_relative_so_the_unit_of_y_does_not_matter(scale, seed):
    """GD from zero is linear in y and so is the gradient: the same epochs for y in any unit (g0 >= 1)."""
    X, y = ridge_data(n=60, d=3, seed=seed)
    y = 10.0 * y / np.abs(y).max()  # max|g0| >= 1 for every scale
    fit = lambda target: LinearRegression(alpha=0.1, optimizer=GD(lr=0.5), tol=1e-6).fit(X, target)
    with no_convergence_warning():
        small, large = fit(y), fit(scale * y)
    assert small.n_epochs_ == large.n_epochs_
    np.testing.assert_allclose(large.coef_, scale * small.coef_, rtol=1e-9)


def test_a_warm_start_from_the_optimum_stops_at_once(strict):
    X, y = ridge_data()
    model = LinearRegression(alpha=0.3, optimizer=GD(lr=0.5), tol=1e-6, warm_start=True).fit(X, y)
    coef, epochs = model.coef_.copy(), model.n_epochs_
    model.fit(X, y)
    assert model.n_epochs_ == epochs + 1 and model.converged_  # one gradient, which passes: no step
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("optimizer", [GD(lr=0.2), Momentum(lr=0.05), Adam(lr=0.01, batch_size=None),
                                       SGD(lr=0.05, batch_size=1000)], ids=["GD", "Momentum", "Adam", "SGD-n"])
def test_every_full_batch_optimizer_uses_the_gradient_test(optimizer):
    X, y = ridge_data()
    with pytest.warns(ConvergenceWarning, match=r"max_epochs=3 .*max\|grad\|"):
        model = LinearRegression(alpha=0.1, optimizer=optimizer, max_epochs=3).fit(X, y)
    assert model.converged_ is False and model.n_epochs_ == 3


def test_train_full_batch_epochs_match_a_numpy_loop():
    """Adam with clipping on the whole data: theta <- adam(theta, clip(grad L(theta))), epoch by epoch."""
    X, y = ridge_data(n=50, d=3)
    problem = KernelProblem(least_squares, X, y, 0.1)
    result = train(Adam(lr=0.05, batch_size=None, clip_norm=0.5), problem, np.zeros(4), max_epochs=6, tol=None)
    theta, m, s = np.zeros(4), np.zeros(4), np.zeros(4)
    for t in range(1, 7):
        g = ridge_gradient(X, y, 0.1, theta[:3], theta[3])
        g = g * min(1.0, 0.5 / np.linalg.norm(g))
        m, s = 0.9 * m + 0.1 * g, 0.999 * s + 0.001 * g * g
        theta = theta - 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(result.theta, theta, rtol=1e-12)
    assert result.converged is False and result.stopping_rule is None and "tol=None" in result.message


def test_train_reports_its_rule_and_why_it_stopped():
    X, y = ridge_data()
    problem = KernelProblem(least_squares, X, y, 0.1)
    result = train(GD(lr=0.5), problem, np.zeros(6), max_epochs=1000, tol=1e-7)
    assert result.converged and "gradient test" in result.message and "max|grad|" in result.stopping_rule
    _, g = problem.loss_grad(result.theta)
    _, g0 = problem.loss_grad(np.zeros(6))
    assert np.abs(g).max() <= 1e-7 * max(1.0, np.abs(g0).max())


# ------------------------------------------------------------------------------- mini-batch: patience


def test_a_minibatch_fit_keeps_the_loss_patience_rule(strict):
    X, y = ridge_data()
    model = LinearRegression(alpha=0.1, optimizer=SGD(lr=0.01, batch_size=16), tol=1e-3, max_epochs=500,
                             random_state=0).fit(X, y)
    assert model.converged_ and model.n_epochs_ < 500
    loss = model.loss_curve_  # stopped after 5 epochs none of which lowered the best loss before it by tol
    assert all(loss[i] > min(loss[:i]) - 1e-3 for i in range(len(loss) - 5, len(loss)))
    assert loss[-6] <= min(loss[:-6]) - 1e-3


def test_a_minibatch_fit_cut_short_warns():
    X, y = ridge_data()
    with pytest.warns(ConvergenceWarning, match="max_epochs=2 .*training loss improving by less than tol"):
        model = LinearRegression(optimizer=SGD(lr=0.01, batch_size=16), max_epochs=2, random_state=0).fit(X, y)
    assert model.converged_ is False


def test_early_stopping_that_fires_is_convergence(strict):
    X, y = ridge_data(n=300)
    model = LinearRegression(optimizer=SGD(lr=0.01, batch_size=8), early_stopping=True, n_iter_no_change=3,
                             max_epochs=300, random_state=0).fit(X, y)
    assert model.converged_ and model.n_epochs_ < 300


def test_no_rule_no_warning(strict):
    X, y = ridge_data()
    model = LinearRegression(optimizer=SGD(lr=0.01, batch_size=16), tol=None, max_epochs=3, random_state=0)
    assert model.fit(X, y).converged_ is False and model.n_epochs_ == 3


def test_partial_fit_does_not_warn(strict):
    X, y = ridge_data()
    model = LinearRegression(optimizer=GD(lr=0.1))
    for _ in range(3):
        model.partial_fit(X, y, epochs=2)
    assert model.n_epochs_ == 6 and model.converged_ is False
    mlp = MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
    mlp.partial_fit(X, y, epochs=2)
    assert mlp.converged_ is False


# ------------------------------------------------------------------------------- L-BFGS and the exact solve


def test_lbfgs_at_max_iter_warns_and_records_it():
    X, y = load_breast_cancer()
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3 of L-BFGS.*gtol"):
        model = LogisticRegression(optimizer=LBFGS(max_iter=3)).fit(X, y)
    assert model.converged_ is False and model.n_epochs_ == 3
    with pytest.warns(ConvergenceWarning, match=r"max_epochs=4 .*gtol"):
        LogisticRegression(max_epochs=4).fit(X, y)


def test_lbfgs_and_the_exact_solve_converge(strict):
    X, y = load_breast_cancer()
    X = StandardScaler().fit_transform(X)
    assert LogisticRegression(alpha=1e-3).fit(X, y).converged_ is True
    Xr, yr = ridge_data()
    assert LinearRegression(alpha=0.1).fit(Xr, yr).converged_ is True


def test_converged_is_a_fitted_attribute_dropped_by_a_new_fit():
    X, y = ridge_data()
    model = LinearRegression(alpha=0.1, optimizer=GD(lr=0.5), tol=1e-6).fit(X, y)
    assert model.converged_ is True
    with pytest.warns(ConvergenceWarning):
        model.set_params(max_epochs=1).fit(X, y)
    assert model.converged_ is False
