"""The GP of BayesSearch: kernels against naive numpy, the posterior against the closed form (and
scikit-learn when installed), the log marginal likelihood and its gradient, the bordered Cholesky."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tunelab.searchers.bayes import _kernels as kern
from tunelab.searchers.bayes.gp import (GPFactor, GPPosterior, Prior, cholesky_jitter, fit_hyperparameters,
                                   neg_log_posterior)

SETTINGS = settings(max_examples=20, deadline=None)


def naive_correlation(X, Z, ell, matern):
    r = np.sqrt((((X[:, None, :] - Z[None, :, :]) / ell) ** 2).sum(-1))  # (c, n)
    if matern:
        s = math.sqrt(5.0) * r
        return (1 + s + s**2 / 3) * np.exp(-s)
    return np.exp(-0.5 * r**2)


def problem(seed, n, p, q=None):
    """Random features Z (n, p), targets y (n,), groups (p,) over q lengthscales, and theta inside the box."""
    rng = np.random.default_rng(seed)
    q = q or p
    groups = np.sort(np.r_[np.arange(q), rng.integers(0, q, p - q)]).astype(np.int64)
    Z = rng.random((n, p))
    y = np.sin(3 * Z).sum(1) + 0.1 * rng.standard_normal(n)
    theta = np.r_[rng.uniform(np.log(0.1), np.log(2.0), q), rng.uniform(-1, 1), rng.uniform(np.log(1e-4), np.log(0.1))]
    return Z, (y - y.mean()) / max(y.std(), 1e-3), groups, theta


# ---- kernels ------------------------------------------------------------------------------------


@SETTINGS
@given(c=st.integers(1, 7), n=st.integers(1, 9), p=st.integers(1, 4), matern=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_correlation_and_its_r2_derivative_match_numpy(c, n, p, matern, seed):
    rng = np.random.default_rng(seed)
    X, Z, ell = rng.random((c, p)), rng.random((n, p)), rng.uniform(0.1, 2.0, p)
    R, G = np.empty((c, n)), np.empty((c, n))
    kern.correlation(X, Z, 1 / ell, matern, R, G)
    np.testing.assert_allclose(R, naive_correlation(X, Z, ell, matern), rtol=1e-12, atol=1e-14)
    # G = d rho / d(r^2): scaling all lengthscales by t multiplies r^2 by 1/t^2
    h = 1e-6
    Rp = naive_correlation(X, Z, ell / np.sqrt(1 + h), matern)  # r^2 * (1 + h)
    Rm = naive_correlation(X, Z, ell / np.sqrt(1 - h), matern)
    r2 = (((X[:, None, :] - Z[None]) / ell) ** 2).sum(-1)
    np.testing.assert_allclose(G * r2, (Rp - Rm) / (2 * h), atol=1e-8)
    Rs, Gs = np.empty((n, n)), np.empty((n, n))
    kern.correlation_symmetric(Z, 1 / ell, matern, Rs, Gs)
    R_ZZ, G_ZZ = np.empty((n, n)), np.empty((n, n))
    kern.correlation(Z, Z, 1 / ell, matern, R_ZZ, G_ZZ)
    np.testing.assert_array_equal(Rs, R_ZZ)
    np.testing.assert_array_equal(Gs, G_ZZ)


@SETTINGS
@given(n=st.integers(1, 12), p=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_lml_gradient_terms_match_numpy(n, p, seed):
    rng = np.random.default_rng(seed)
    Z, alpha = rng.random((n, p)), rng.standard_normal(n)
    Kinv, R, G = (M + M.T for M in rng.standard_normal((3, n, n)))
    S = np.empty(p)
    wr, tr = kern.lml_gradient_terms(Kinv, alpha, R, G, Z, S)
    W = Kinv - np.outer(alpha, alpha)
    np.testing.assert_allclose(S, np.einsum("ij,ijf->f", W * G, (Z[:, None] - Z[None]) ** 2), rtol=1e-10, atol=1e-12)
    assert wr == pytest.approx(np.sum(W * R), rel=1e-10, abs=1e-12)
    assert tr == pytest.approx(np.trace(W), rel=1e-10, abs=1e-12)


@SETTINGS
@given(n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_triangular_inverse_and_solve_match_numpy(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    L = np.linalg.cholesky(A @ A.T + n * np.eye(n))
    Linv, x = np.empty((n, n)), np.empty(n)
    kern.lower_inverse(L, Linv)
    np.testing.assert_allclose(Linv, np.linalg.inv(L), rtol=1e-10, atol=1e-12)
    b = rng.standard_normal(n)
    kern.forward_solve(L, b, x)
    np.testing.assert_allclose(x, np.linalg.solve(L, b), rtol=1e-10, atol=1e-12)


# ---- the posterior ------------------------------------------------------------------------------


def closed_form(Z, y, theta, groups, matern, X):
    """mu, var of the latent f by the textbook formulas with np.linalg.solve (constant GLS mean c)."""
    q = theta.size - 2
    ell, sf2, sn2 = np.exp(theta[:q])[groups], np.exp(theta[q]), np.exp(theta[q + 1])
    K = sf2 * naive_correlation(Z, Z, ell, matern) + sn2 * np.eye(len(y))
    k = sf2 * naive_correlation(X, Z, ell, matern)  # (c, n)
    one = np.ones(len(y))
    c = one @ np.linalg.solve(K, y) / (one @ np.linalg.solve(K, one))
    mu = c + k @ np.linalg.solve(K, y - c)
    var = sf2 - np.einsum("ij,ji->i", k, np.linalg.solve(K, k.T))
    return mu, var, c, K


@SETTINGS
@given(n=st.integers(1, 15), p=st.integers(1, 4), matern=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_posterior_equals_the_closed_form(n, p, matern, seed):
    Z, y, groups, theta = problem(seed, n, p)
    X = np.random.default_rng(seed + 1).random((5, p))
    posterior = GPPosterior(GPFactor(theta, groups, matern, Z), y)
    mu, var = posterior.predict(X)
    mu_ref, var_ref, c, _ = closed_form(Z, y, theta, groups, matern, X)
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(var, var_ref, rtol=1e-7, atol=1e-9)
    assert posterior.c == pytest.approx(c, rel=1e-8, abs=1e-10)
    mu_train, _ = posterior.predict(Z)
    np.testing.assert_allclose(posterior.train_mean(), mu_train, rtol=1e-8, atol=1e-8)


def test_posterior_agrees_with_scikit_learn():
    sklearn_gp = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    Z, y, groups, theta = problem(0, 12, 3)
    ell, sf2, sn2 = np.exp(theta[:3]), np.exp(theta[3]), np.exp(theta[4])
    X = np.random.default_rng(1).random((6, 3))
    posterior = GPPosterior(GPFactor(theta, groups, True, Z), y)
    kernel = kernels.ConstantKernel(sf2) * kernels.Matern(ell, nu=2.5) + kernels.WhiteKernel(sn2)
    reference = sklearn_gp.GaussianProcessRegressor(kernel, optimizer=None).fit(Z, y - posterior.c)
    mu_ref, std_ref = reference.predict(X, return_std=True)  # sklearn's variance includes the white noise
    mu, var = posterior.predict(X)
    np.testing.assert_allclose(mu, mu_ref + posterior.c, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(var + sn2, std_ref**2, rtol=1e-6, atol=1e-9)


@SETTINGS
@given(n=st.integers(1, 10), p=st.integers(1, 3), matern=st.booleans(), seed=st.integers(0, 2**32 - 1))
@example(n=8, p=1, matern=True, seed=3486)
def test_posterior_gradients_match_finite_differences(n, p, matern, seed):
    Z, y, groups, theta = problem(seed, n, p)
    posterior = GPPosterior(GPFactor(theta, groups, matern, Z), y)
    x = np.random.default_rng(seed + 2).uniform(0.05, 0.95, (1, p))
    _, _, dmu, dvar = posterior.predict(x, grad=True)
    h = 1e-5  # at 1e-6 rounding in mu(x +- h) reaches 5e-5 of the slope where the slope is small (n=8, seed 3486)
    for f in range(p):
        e = np.zeros((1, p))
        e[0, f] = h
        (mu_p, var_p), (mu_m, var_m) = posterior.predict(x + e), posterior.predict(x - e)
        assert dmu[0, f] == pytest.approx((mu_p - mu_m)[0] / (2 * h), rel=1e-5, abs=1e-6)
        assert dvar[0, f] == pytest.approx((var_p - var_m)[0] / (2 * h), rel=1e-5, abs=1e-6)


# ---- log marginal likelihood --------------------------------------------------------------------


@SETTINGS
@given(n=st.integers(1, 15), p=st.integers(1, 4), matern=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_neg_log_posterior_equals_the_gaussian_density(n, p, matern, seed):
    Z, y, groups, theta = problem(seed, n, p)
    prior = Prior()
    f, _ = neg_log_posterior(theta, Z, y, groups, matern, prior)
    _, _, c, K = closed_form(Z, y, theta, groups, matern, Z[:1])
    _, logdet = np.linalg.slogdet(K)
    r = y - c
    reference = 0.5 * r @ np.linalg.solve(K, r) + 0.5 * logdet + 0.5 * n * np.log(2 * np.pi) + prior.penalty(theta)[0]
    assert f == pytest.approx(reference, rel=1e-9, abs=1e-9)
    assert neg_log_posterior(theta, Z, y, groups, matern, prior, grad=False)[0] == pytest.approx(f, rel=1e-10)


@SETTINGS
@given(n=st.integers(2, 15), p=st.integers(1, 4), shared=st.booleans(), matern=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_neg_log_posterior_gradient_matches_finite_differences(n, p, shared, matern, seed):
    q = max(1, p - 1) if shared else p  # with shared, two features use one lengthscale (a one-hot block)
    Z, y, groups, theta = problem(seed, n, p, q)
    _, g = neg_log_posterior(theta, Z, y, groups, matern, Prior())
    h = 1e-5
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        fd = (neg_log_posterior(theta + e, Z, y, groups, matern, Prior())[0]
              - neg_log_posterior(theta - e, Z, y, groups, matern, Prior())[0]) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-4, abs=1e-5), i


def test_fit_finds_the_noise_of_noisy_data_and_a_small_one_for_smooth_data():
    rng = np.random.default_rng(0)
    Z = rng.random((60, 2))
    smooth = np.sin(4 * Z[:, 0]) + Z[:, 1] ** 2
    groups = np.arange(2)
    for noise_sd, low, high in ((0.0, 0.0, 1e-3), (0.3, 0.03, 0.3)):
        y = smooth + noise_sd * rng.standard_normal(60)
        scale = y.std()
        theta = fit_hyperparameters(Z, (y - y.mean()) / scale, groups, True, np.random.default_rng(1))
        noise_var = np.exp(theta[-1]) * scale**2  # back in the units of y
        assert low <= noise_var <= high, (noise_sd, noise_var)


def test_fit_is_finite_on_tiny_and_duplicated_data():
    groups = np.arange(2)
    prior = Prior()
    bounds = prior.bounds(2)
    for Z, y in ((np.array([[0.3, 0.6]]), np.array([0.0])),
                 (np.array([[0.3, 0.6], [0.3, 0.6], [0.3, 0.6]]), np.array([-1.0, 0.5, 0.5])),
                 (np.array([[0.1, 0.1], [0.9, 0.9]]), np.array([-1.0, 1.0]))):
        theta = fit_hyperparameters(Z, y, groups, True, np.random.default_rng(0), prior=prior)
        assert np.all(np.isfinite(theta))
        assert np.all(theta >= bounds[:, 0] - 1e-12) and np.all(theta <= bounds[:, 1] + 1e-12)
    # three equal points with different values: only noise explains them
    Z = np.array([[0.3, 0.6]] * 3)
    theta = fit_hyperparameters(Z, np.array([-1.0, 0.5, 0.5]), groups, True, np.random.default_rng(0))
    assert np.exp(theta[-1]) > 0.1


# ---- the Cholesky factor ------------------------------------------------------------------------


@SETTINGS
@given(n=st.integers(2, 25), k=st.integers(1, 24), p=st.integers(1, 4), matern=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_bordered_extension_equals_a_fresh_factorisation(n, k, p, matern, seed):
    k = min(k, n - 1)
    Z, _, groups, theta = problem(seed, n, p)
    extended = GPFactor(theta, groups, matern, Z[:k])
    for z in Z[k:]:
        extended.extend(z)
    fresh = GPFactor(theta, groups, matern, Z)
    assert extended.jitter == fresh.jitter == 0.0
    np.testing.assert_allclose(extended.L, fresh.L, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(extended.Linv, fresh.Linv, rtol=1e-7, atol=1e-8 * np.abs(fresh.Linv).max())
    np.testing.assert_array_equal(extended.Z, Z)


@pytest.mark.parametrize("noise", [1e-9, 1e-15])
def test_extension_with_a_duplicate_point_keeps_a_valid_factor(noise):
    """A repeated point borders the factor with d^2 ~ noise; below 1e-12 of the diagonal it is refactored
    (with jitter if needed)."""
    Z = np.array([[0.2, 0.4], [0.7, 0.1]])
    theta = np.log([0.5, 0.5, 1.0, noise])
    factor = GPFactor(theta, np.arange(2), True, Z).extend(Z[0])
    K = naive_correlation(factor.Z, factor.Z, 0.5, True) + (noise + factor.jitter) * np.eye(3)
    np.testing.assert_allclose(factor.L @ factor.L.T, K, atol=1e-9)
    np.testing.assert_allclose(factor.Linv @ factor.L, np.eye(3), atol=1e-6)


def test_cholesky_jitter_only_when_needed_and_a_clear_error_otherwise():
    K = np.array([[2.0, 0.5], [0.5, 1.0]])
    L, jitter = cholesky_jitter(K)
    assert jitter == 0.0 and np.allclose(L @ L.T, K)
    singular = np.ones((3, 3))  # rank one: needs jitter
    L, jitter = cholesky_jitter(singular)
    assert 0.0 < jitter <= 1e-6
    np.testing.assert_allclose(L @ L.T, singular + jitter * np.eye(3), atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        cholesky_jitter(np.array([[1.0, 2.0], [2.0, -5.0]]))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        cholesky_jitter(np.array([[np.nan, 0.0], [0.0, 1.0]]))
