"""The MLP kernel against a slow numpy forward/backward pass, central finite differences and stability cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import _mlp_kernels as mk
from _finite_differences import central_difference

ACTIVATIONS = ["relu", "tanh", "sigmoid"]
OUTPUTS = {"identity": mk.OUTPUT_IDENTITY, "softmax": mk.OUTPUT_SOFTMAX, "sigmoid": mk.OUTPUT_SIGMOID}


# ------------------------------------------------------------------------------------------------
# a slow, obviously correct numpy reference
# ------------------------------------------------------------------------------------------------
def unpack(theta, sizes):
    """[(W_l (n_l, n_{l+1}), b_l)] from theta's layout: W_0, b_0, W_1, b_1, ..."""
    layers, start = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = theta[start:start + n_in * n_out].reshape(n_in, n_out)
        start += n_in * n_out
        layers.append((W, theta[start:start + n_out]))
        start += n_out
    assert start == theta.size
    return layers


def act(name, Z):
    return {"relu": lambda: np.maximum(Z, 0.0), "tanh": lambda: np.tanh(Z),
            "sigmoid": lambda: 0.5 * (1.0 + np.tanh(0.5 * Z))}[name]()


def act_prime(name, Z):
    return {"relu": lambda: (Z > 0).astype(float), "tanh": lambda: 1.0 - np.tanh(Z) ** 2,
            "sigmoid": lambda: act("sigmoid", Z) * (1.0 - act("sigmoid", Z))}[name]()


def reference_loss_grad(theta, X, Y, rows, alpha, activation, output, sizes):
    layers = unpack(theta, sizes)
    A, Zs, As = X[rows], [], [X[rows]]
    for l, (W, b) in enumerate(layers):
        Z = A @ W + b
        Zs.append(Z)
        A = act(activation, Z) if l < len(layers) - 1 else Z
        As.append(A)
    Z, Yr, m = Zs[-1], Y[rows], len(rows)
    if output == "identity":
        losses, delta = 0.5 * ((Z - Yr) ** 2).sum(axis=1), Z - Yr
    elif output == "softmax":
        lse = np.logaddexp.reduce(Z, axis=1)
        losses, delta = (Yr * (lse[:, None] - Z)).sum(axis=1), np.exp(Z - lse[:, None]) - Yr
    else:
        losses, delta = np.logaddexp(0.0, Z[:, 0]) - Yr[:, 0] * Z[:, 0], act("sigmoid", Z) - Yr
    grads = []
    for l in range(len(layers) - 1, -1, -1):
        W, _ = layers[l]
        grads.append((As[l].T @ delta / m + alpha * W, delta.mean(axis=0)))
        if l > 0:
            delta = (delta @ W.T) * act_prime(activation, Zs[l - 1])
    grad = np.concatenate([np.r_[gW.ravel(), gb] for gW, gb in reversed(grads)])
    penalty = 0.5 * alpha * sum((W ** 2).sum() for W, _ in layers)
    return losses.mean() + penalty, grad


def reference_forward(theta, X, activation, output, sizes):
    A = X
    layers = unpack(theta, sizes)
    for l, (W, b) in enumerate(layers):
        A = A @ W + b
        if l < len(layers) - 1:
            A = act(activation, A)
    if output == "softmax":
        return np.exp(A - np.logaddexp.reduce(A, axis=1)[:, None])
    return act("sigmoid", A) if output == "sigmoid" else A


def make_problem(activation, output, n, n_in, hidden, n_out, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    if output == "sigmoid":
        n_out = 1
    sizes = [n_in, *hidden, n_out]
    spec = np.array([mk.ACTIVATIONS[activation], OUTPUTS[output], *sizes], dtype=np.int64)
    X = rng.normal(size=(n, n_in))
    if output == "identity":
        Y = rng.normal(size=(n, n_out))
    elif output == "softmax":
        Y = np.eye(n_out)[rng.integers(0, n_out, n)]
    else:
        Y = (rng.random((n, 1)) < 0.5).astype(float)
    theta = scale * rng.normal(size=mk.n_params(spec))
    return rng, X, Y, theta, spec, sizes


networks = dict(
    activation=st.sampled_from(ACTIVATIONS),
    output=st.sampled_from(list(OUTPUTS)),
    n_in=st.integers(1, 6),
    hidden=st.lists(st.integers(1, 9), min_size=0, max_size=3),
    n_out=st.integers(2, 4),
    alpha=st.sampled_from([0.0, 1e-3, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)


# ------------------------------------------------------------------------------------------------
# loss and gradient
# ------------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), **networks)  # n above CHUNK = 128: several chunks and a partial one
def test_loss_grad_matches_the_numpy_reference(n, activation, output, n_in, hidden, n_out, alpha, seed):
    rng, X, Y, theta, spec, sizes = make_problem(activation, output, n, n_in, hidden, n_out, seed)
    rows = rng.integers(0, n, size=max(1, n - 3)).astype(np.int64)  # a subset, with repeats
    grad = np.full_like(theta, np.nan)  # every entry must be overwritten
    L = mk.mlp_loss_grad(theta, X, Y, rows, alpha, spec, grad)
    L_ref, grad_ref = reference_loss_grad(theta, X, Y, rows, alpha, activation, output, sizes)
    assert L == pytest.approx(L_ref, rel=1e-11, abs=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-9, atol=1e-11)
    assert mk.mlp_loss(theta, X, Y, rows, alpha, spec) == pytest.approx(L, rel=1e-13, abs=1e-14)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), **networks)
def test_gradient_matches_central_finite_differences(n, activation, output, n_in, hidden, n_out, alpha, seed):
    """(relu's kink at 0 is hit by a random pre-activation within h = 1e-6 with negligible probability)"""
    rng, X, Y, theta, spec, _ = make_problem(activation, output, n, n_in, hidden, n_out, seed)
    rows = np.sort(rng.choice(n, size=max(1, (2 * n) // 3), replace=False)).astype(np.int64)
    grad = np.empty_like(theta)
    mk.mlp_loss_grad(theta, X, Y, rows, alpha, spec, grad)
    numeric = central_difference(lambda t: mk.mlp_loss(t, X, Y, rows, alpha, spec), theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 300), **networks)
def test_forward_matches_the_reference_and_gives_probabilities(n, activation, output, n_in, hidden, n_out, alpha,
                                                               seed):
    _, X, _, theta, spec, sizes = make_problem(activation, output, n, n_in, hidden, n_out, seed)
    out = mk.mlp_forward(theta, X, spec)
    np.testing.assert_allclose(out, reference_forward(theta, X, activation, output, sizes), rtol=1e-10, atol=1e-12)
    if output == "softmax":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    if output != "identity":
        assert np.all((out >= 0) & (out <= 1))


def test_the_loss_is_the_mean_loss_of_the_forward_outputs():
    """mlp_loss and mlp_forward describe the same network: cross-entropy of the forward probabilities."""
    _, X, Y, theta, spec, _ = make_problem("tanh", "softmax", 200, 5, [7, 6], 3, 11)
    P = mk.mlp_forward(theta, X, spec)
    rows = np.arange(200, dtype=np.int64)
    assert mk.mlp_loss(theta, X, Y, rows, 0.0, spec) == pytest.approx(-np.mean(np.log((P * Y).sum(axis=1))), rel=1e-12)


def test_kernels_do_not_modify_their_inputs():
    rng, X, Y, theta, spec, _ = make_problem("relu", "softmax", 150, 4, [5], 3, 0)
    rows = rng.permutation(150).astype(np.int64)
    copies = [a.copy() for a in (theta, X, Y, rows, spec)]
    mk.mlp_loss_grad(theta, X, Y, rows, 0.1, spec, np.empty_like(theta))
    mk.mlp_loss(theta, X, Y, rows, 0.1, spec)
    mk.mlp_forward(theta, X, spec)
    for before, after in zip(copies, (theta, X, Y, rows, spec)):
        np.testing.assert_array_equal(before, after)


def test_layout_helpers_agree():
    spec = np.array([0, 1, 5, 7, 3, 4], dtype=np.int64)
    off = mk.layer_offsets(spec)
    assert list(off) == [0, 5 * 7 + 7, 5 * 7 + 7 + 7 * 3 + 3, mk.n_params(spec)]
    assert mk.n_params(spec) == 5 * 7 + 7 + 7 * 3 + 3 + 3 * 4 + 4


# ------------------------------------------------------------------------------------------------
# the matrix product
# ------------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(a=st.integers(1, 13), b=st.integers(1, 13), r=st.integers(1, 20), accumulate=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_gemm_nt_is_p_times_q_transposed(a, b, r, accumulate, seed):
    rng = np.random.default_rng(seed)
    P, Q, C0 = rng.normal(size=(a, r)), rng.normal(size=(b, r)), rng.normal(size=(a, b))
    C, C2, CT = C0.copy(), C0.copy(), np.full((b, a), np.nan)
    mk.gemm_nt(P, Q, C, float(accumulate), np.empty((0, 0)))
    np.testing.assert_allclose(C, (C0 if accumulate else 0.0) + P @ Q.T, rtol=1e-12, atol=1e-12)
    mk.gemm_nt(P, Q, C2, float(accumulate), CT)  # the transpose written as well
    np.testing.assert_array_equal(C2, C)
    np.testing.assert_array_equal(CT, C.T)


# ------------------------------------------------------------------------------------------------
# numerical stability
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_huge_weights_stay_finite(activation, output):
    """Pre-activations and scores of order 1000 and more: no overflow in tanh, sigmoid, softmax, log-loss."""
    rng, X, Y, theta, spec, sizes = make_problem(activation, output, 60, 3, [5], 3, 5, scale=300.0)
    rows = np.arange(60, dtype=np.int64)
    grad = np.empty_like(theta)
    L = mk.mlp_loss_grad(theta, X, Y, rows, 0.0, spec, grad)
    L_ref, grad_ref = reference_loss_grad(theta, X, Y, rows, 0.0, activation, output, sizes)
    assert np.isfinite(L) and np.isfinite(grad).all()
    assert L == pytest.approx(L_ref, rel=1e-10)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-8, atol=1e-8 * np.abs(grad_ref).max())
    assert np.isfinite(mk.mlp_forward(theta, X, spec)).all()
