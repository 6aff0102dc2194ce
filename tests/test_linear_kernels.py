"""The linear models' kernels against a slow numpy reference, central finite differences and stability cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import _linear_kernels as lk
from _finite_differences import central_difference

NO_SPEC = np.zeros(0, np.int64)
MODELS = ("squared", "logistic", "softmax")


# ------------------------------------------------------------------------------------------------
# slow, obviously correct references (numpy, whole arrays, W as a (d, k) matrix)
# ------------------------------------------------------------------------------------------------
def unpack(theta, d, k):
    return theta[:d * k].reshape(d, k), theta[d * k:]


def reference_loss_grad(model, theta, X, Y, rows, alpha):
    d, k = X.shape[1], Y.shape[1]
    W, b = unpack(theta, d, k)
    Xr, Yr, m = X[rows], Y[rows], len(rows)
    Z = Xr @ W + b  # (m, k)
    if model == "squared":
        losses = 0.5 * ((Z - Yr) ** 2).sum(axis=1)
        R = Z - Yr
    elif model == "logistic":
        losses = np.logaddexp(0.0, Z[:, 0]) - Yr[:, 0] * Z[:, 0]
        R = 0.5 * (1.0 + np.tanh(0.5 * Z)) - Yr  # sigmoid without overflow
    else:
        lse = np.logaddexp.reduce(Z, axis=1)
        losses = (Yr * (lse[:, None] - Z)).sum(axis=1)
        P = np.exp(Z - lse[:, None])
        R = Yr.sum(axis=1, keepdims=True) * P - Yr
    mean = losses.mean() if m else 0.0
    gW = Xr.T @ R / m if m else np.zeros_like(W)
    gb = R.mean(axis=0) if m else np.zeros(k)
    return mean + 0.5 * alpha * (W ** 2).sum(), np.r_[(gW + alpha * W).ravel(), gb]


def reference_hessian(model, theta, X, Y, rows, alpha):
    """The full Hessian by finite differences of the reference gradient (small problems only)."""
    p, h = theta.size, 1e-6
    H = np.empty((p, p))
    for q in range(p):
        e = np.zeros(p)
        e[q] = h
        H[:, q] = (reference_loss_grad(model, theta + e, X, Y, rows, alpha)[1]
                   - reference_loss_grad(model, theta - e, X, Y, rows, alpha)[1]) / (2 * h)
    return H


def kernels(model):
    return (getattr(lk, f"{model}_loss_grad"), getattr(lk, f"{model}_loss"), getattr(lk, f"{model}_hvp"))


def make_problem(model, n, d, k, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if model == "squared":
        Y = rng.normal(size=(n, k))
    elif model == "logistic":
        Y = (rng.random((n, 1)) < 0.5).astype(float)
    else:
        Y = np.eye(k)[rng.integers(0, k, n)]
    k = Y.shape[1]
    theta = scale * rng.normal(size=d * k + k)
    return rng, X, Y, theta


problems = dict(
    model=st.sampled_from(MODELS),
    n=st.integers(1, 150),  # above BLOCK = 64 too, so several blocks and a partial one
    d=st.integers(1, 7),
    k=st.integers(2, 5),
    alpha=st.sampled_from([0.0, 1e-3, 0.7]),
    seed=st.integers(0, 2**32 - 1),
    subset=st.sampled_from(["all", "some", "repeated"]),
)


def pick_rows(rng, n, subset):
    if subset == "all":
        return np.arange(n, dtype=np.int64)
    if subset == "some":
        return np.sort(rng.choice(n, size=max(1, n // 2), replace=False)).astype(np.int64)
    return rng.integers(0, n, size=n + 3).astype(np.int64)  # a bootstrap: rows counted twice count twice


# ------------------------------------------------------------------------------------------------
# loss and gradient
# ------------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(**problems)
def test_loss_grad_matches_the_numpy_reference(model, n, d, k, alpha, seed, subset):
    rng, X, Y, theta = make_problem(model, n, d, k, seed)
    rows = pick_rows(rng, n, subset)
    loss_grad, loss_only, _ = kernels(model)
    grad = np.full_like(theta, np.nan)  # the kernel must overwrite every entry
    L = loss_grad(theta, X, Y, rows, alpha, NO_SPEC, grad)
    L_ref, grad_ref = reference_loss_grad(model, theta, X, Y, rows, alpha)
    assert L == pytest.approx(L_ref, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-12)
    assert loss_only(theta, X, Y, rows, alpha, NO_SPEC) == pytest.approx(L, rel=1e-13, abs=1e-14)


@settings(max_examples=30, deadline=None)
@given(**problems)
def test_gradient_matches_central_finite_differences(model, n, d, k, alpha, seed, subset):
    rng, X, Y, theta = make_problem(model, n, d, k, seed)
    rows = pick_rows(rng, n, subset)
    loss_grad, loss_only, _ = kernels(model)
    grad = np.empty_like(theta)
    loss_grad(theta, X, Y, rows, alpha, NO_SPEC, grad)
    numeric = central_difference(lambda t: loss_only(t, X, Y, rows, alpha, NO_SPEC), theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(model=st.sampled_from(MODELS), d=st.integers(1, 5), k=st.integers(2, 4), alpha=st.floats(0.0, 2.0),
       seed=st.integers(0, 2**32 - 1))
def test_no_rows_leaves_only_the_penalty(model, d, k, alpha, seed):
    _, X, Y, theta = make_problem(model, 5, d, k, seed)
    loss_grad, _, _ = kernels(model)
    grad = np.empty_like(theta)
    L = loss_grad(theta, X, Y, np.zeros(0, np.int64), alpha, NO_SPEC, grad)
    W, _ = unpack(theta, d, Y.shape[1])
    assert L == pytest.approx(0.5 * alpha * (W ** 2).sum())
    np.testing.assert_allclose(grad, np.r_[(alpha * W).ravel(), np.zeros(Y.shape[1])])


def test_kernels_do_not_modify_their_inputs():
    for model in MODELS:
        rng, X, Y, theta = make_problem(model, 70, 4, 3, 0)
        rows = rng.permutation(70).astype(np.int64)
        copies = [a.copy() for a in (theta, X, Y, rows)]
        loss_grad, loss_only, hvp = kernels(model)
        loss_grad(theta, X, Y, rows, 0.1, NO_SPEC, np.empty_like(theta))
        loss_only(theta, X, Y, rows, 0.1, NO_SPEC)
        v = rng.normal(size=theta.size)
        hvp(theta, X, Y, rows, 0.1, NO_SPEC, v, np.empty_like(theta))
        for before, after in zip(copies, (theta, X, Y, rows)):
            np.testing.assert_array_equal(before, after)


@settings(max_examples=15, deadline=None)
@given(d=st.integers(1, 5), k=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_softmax_with_two_classes_is_logistic_on_the_score_difference(d, k, seed):
    """softmax over (z_0, z_1) is sigmoid(z_1 - z_0): the two kernels agree on W = [0, w]."""
    _, X, Yb, theta = make_problem("logistic", 40, d, 1, seed)
    rows = np.arange(40, dtype=np.int64)
    Y2 = np.c_[1.0 - Yb[:, 0], Yb[:, 0]]
    W, b = unpack(theta, d, 1)
    theta2 = np.r_[np.c_[np.zeros(d), W[:, 0]].ravel(), 0.0, b[0]]
    L1 = lk.logistic_loss(theta, X, Yb, rows, 0.0, NO_SPEC)
    L2 = lk.softmax_loss(theta2, X, Y2, rows, 0.0, NO_SPEC)
    assert L2 == pytest.approx(L1, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# Hessian-vector products
# ------------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(model=st.sampled_from(MODELS), n=st.integers(1, 90), d=st.integers(1, 4), k=st.integers(2, 3),
       alpha=st.sampled_from([0.0, 0.5]), seed=st.integers(0, 2**32 - 1),
       subset=st.sampled_from(["all", "some", "repeated"]))
def test_hvp_matches_finite_differences_of_the_gradient(model, n, d, k, alpha, seed, subset):
    rng, X, Y, theta = make_problem(model, n, d, k, seed)
    rows = pick_rows(rng, n, subset)
    loss_grad, _, hvp = kernels(model)
    v = rng.normal(size=theta.size)
    out = np.full_like(theta, np.nan)
    hvp(theta, X, Y, rows, alpha, NO_SPEC, v, out)

    def gradient(t):
        g = np.empty_like(t)
        loss_grad(t, X, Y, rows, alpha, NO_SPEC, g)
        return g

    h = 1e-5
    numeric = (gradient(theta + h * v) - gradient(theta - h * v)) / (2 * h)
    np.testing.assert_allclose(out, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("model", MODELS)
def test_hvp_equals_the_reference_hessian_times_v_and_is_symmetric(model):
    rng, X, Y, theta = make_problem(model, 30, 3, 3, 7)
    rows = np.arange(30, dtype=np.int64)
    H = reference_hessian(model, theta, X, Y, rows, 0.2)
    _, _, hvp = kernels(model)
    columns = np.empty_like(H)
    for q in range(theta.size):
        e = np.zeros(theta.size)
        e[q] = 1.0
        hvp(theta, X, Y, rows, 0.2, NO_SPEC, e, columns[:, q])
    np.testing.assert_allclose(columns, H, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(columns, columns.T, rtol=1e-12, atol=1e-14)
    assert np.linalg.eigvalsh(columns).min() > -1e-10  # convex: the Hessian is positive semi-definite


# ------------------------------------------------------------------------------------------------
# numerical stability
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["logistic", "softmax"])
@pytest.mark.parametrize("scale", [1e2, 1e3, 1e6])
def test_huge_scores_stay_finite_and_match_the_reference(model, scale):
    """|z| ~ 1000 and more: log(1 + e^z) and log-sum-exp must not overflow."""
    rng, X, Y, theta = make_problem(model, 80, 4, 3, 3, scale=scale)
    rows = np.arange(80, dtype=np.int64)
    loss_grad, _, hvp = kernels(model)
    grad = np.empty_like(theta)
    L = loss_grad(theta, X, Y, rows, 0.0, NO_SPEC, grad)
    L_ref, grad_ref = reference_loss_grad(model, theta, X, Y, rows, 0.0)
    assert np.isfinite(L) and np.isfinite(grad).all()
    assert L == pytest.approx(L_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-12)
    out = np.empty_like(theta)
    hvp(theta, X, Y, rows, 0.0, NO_SPEC, rng.normal(size=theta.size), out)
    assert np.isfinite(out).all()


def test_logistic_loss_at_extreme_scores_is_exact():
    """z = +-1000 and y = 0/1: the loss is max(z, 0) - y z exactly (log1p(e^-1000) underflows to 0)."""
    X = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0], [0.0]])
    Y = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])
    theta = np.array([1.0, 0.0])
    grad = np.empty(2)
    L = lk.logistic_loss_grad(theta, X, Y, np.arange(5, dtype=np.int64), 0.0, NO_SPEC, grad)
    assert L == pytest.approx((1000.0 + 0.0 + 0.0 + 1000.0 + np.log(2.0)) / 5, rel=1e-15)
    np.testing.assert_allclose(grad, [(1000.0 + 0.0 + 0.0 + 1000.0 + 0.0) / 5, (1 + 0 + 0 - 1 - 0.5) / 5])


def test_vector_exp_and_log1p_match_libm_to_a_few_ulps():
    rng = np.random.default_rng(0)
    x = -np.r_[0.0, 5e-324, 1e-300, 1e-17, 1e-8, rng.random(2000) * 2.0, rng.random(2000) * 708.0, 707.9, 708.0]
    out, kbits = np.empty_like(x), np.empty(x.size, np.int64)
    lk.exp_nonpositive(x, x.size, out, kbits)
    np.testing.assert_allclose(out, np.exp(x), rtol=4e-16, atol=0)
    e = np.r_[0.0, 5e-324, 1e-300, 1e-17, 1e-8, rng.random(2000), 10.0 ** -rng.uniform(0, 300, 2000), 1.0]
    out = np.empty_like(e)
    lk.log1p_unit(e, e.size, out)
    np.testing.assert_allclose(out, np.log1p(e), rtol=1e-15, atol=1e-320)  # atol: log1p(5e-324) may round to 0


def test_vector_exp_below_the_float_range_is_tiny_and_finite():
    x = np.array([-709.0, -745.0, -1e4, -1e300, -np.inf])
    out, kbits = np.empty_like(x), np.empty(x.size, np.int64)
    lk.exp_nonpositive(x, x.size, out, kbits)
    assert np.all((out >= 0) & (out <= np.exp(-708.0) * 1.000001))


# ------------------------------------------------------------------------------------------------
# a frozen intercept: spec = [0]
# ------------------------------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(model=st.sampled_from(MODELS), n=st.integers(1, 90), d=st.integers(1, 4), k=st.integers(2, 3),
       seed=st.integers(0, 2**32 - 1))
def test_frozen_intercept_has_zero_gradient_and_identity_hessian(model, n, d, k, seed):
    rng, X, Y, theta = make_problem(model, n, d, k, seed)
    k = Y.shape[1]
    rows = np.arange(n, dtype=np.int64)
    loss_grad, _, hvp = kernels(model)
    frozen, fitted = np.array([0], np.int64), np.array([1], np.int64)
    g_frozen, g_fitted = np.empty_like(theta), np.empty_like(theta)
    L0 = loss_grad(theta, X, Y, rows, 0.3, frozen, g_frozen)
    L1 = loss_grad(theta, X, Y, rows, 0.3, fitted, g_fitted)
    assert L0 == L1 and not np.any(g_frozen[d * k:])
    np.testing.assert_array_equal(g_frozen[:d * k], g_fitted[:d * k])
    H = reference_hessian(model, theta, X, Y, rows, 0.3)
    v = rng.normal(size=theta.size)
    out = np.empty_like(theta)
    hvp(theta, X, Y, rows, 0.3, frozen, v, out)
    np.testing.assert_allclose(out[:d * k], H[:d * k, :d * k] @ v[:d * k], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out[d * k:], v[d * k:])
