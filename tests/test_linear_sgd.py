"""The per-row SGD epochs of the linear models give the iterates of the generic compiled epoch, to rounding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import LogisticRegression, kernels
from tunelab.core._linear_sgd import LINK_LOGISTIC, LINK_SQUARED, RowEpoch
from tunelab.optimizers import ADAM_RULE, MOMENTUM_RULE, NESTEROV_RULE, SGD_RULE, SGD, KernelProblem, train
from tunelab.optimizers._loop import compiled_epoch, epoch_for

LINKS = {"logistic": (kernels.logistic_loss_grad, LINK_LOGISTIC), "squared": (kernels.squared_loss_grad, LINK_SQUARED)}
RULES = {SGD_RULE: [0.0, 0.0, 0.0, 0.0], MOMENTUM_RULE: [0.8, 0.0, 0.0, 0.0], NESTEROV_RULE: [0.7, 0.0, 0.0, 0.0],
         ADAM_RULE: [0.9, 0.99, 1e-8, 0.0]}


def make_data(model, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = (rng.random((n, 1)) < 0.5).astype(float) if model == "logistic" else rng.normal(size=(n, 1))
    return rng, X, Y


def both_epochs(model, X, Y, theta0, alpha, spec, orders, batch_size, lr, rule):
    """Run the per-row and the generic epoch over the same orders; returns [(theta, state, losses)] of each."""
    kernel, code = LINKS[model]
    hyper = np.array(RULES[rule])
    results = []
    for epoch in (RowEpoch(code), compiled_epoch(kernel, rule)):
        theta, state, losses, t = theta0.copy(), np.zeros((2, theta0.size)), [], 0
        for order in orders:
            losses.append(epoch(theta, X, Y, alpha, spec, order, batch_size, lr, rule, hyper, state, t))
            t += -(-order.size // batch_size)
        results.append((theta, state, np.array(losses)))
    return results


@settings(max_examples=60, deadline=None)
@given(model=st.sampled_from(sorted(LINKS)), n=st.integers(1, 60), d=st.integers(1, 9), batch_size=st.integers(1, 70),
       rule=st.sampled_from(sorted(RULES)), alpha=st.sampled_from([0.0, 1e-3, 0.5]), intercept=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_per_row_epochs_match_the_generic_epoch(model, n, d, batch_size, rule, alpha, intercept, seed):
    rng, X, Y = make_data(model, n, d, seed)
    theta0 = 0.3 * rng.normal(size=d + 1)
    spec = np.array([int(intercept)], dtype=np.int64)
    orders = [rng.permutation(n) for _ in range(3)]
    lr = 0.02 if rule == ADAM_RULE else 0.05
    (theta, state, losses), (theta_ref, state_ref, losses_ref) = both_epochs(
        model, X, Y, theta0, alpha, spec, orders, batch_size, lr, rule)
    np.testing.assert_allclose(theta, theta_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state, state_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-10, atol=1e-12)
    if not intercept:
        assert theta[d] == theta0[d]


@pytest.mark.parametrize("lr_alpha", [0.999, 1.0, 1.5])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_the_scale_of_w_is_renormalised_when_it_shrinks_or_flips(lr_alpha, batch_size):
    """lr alpha near 1 shrinks s = prod (1 - lr alpha) below RESCALE within a few rows; at 1 it is 0; above, it
    changes sign: the iterates stay those of the generic epoch."""
    _, X, Y = make_data("logistic", 40, 4, 3)
    orders = [np.random.default_rng(1).permutation(40)]
    (theta, _, losses), (theta_ref, _, losses_ref) = both_epochs(
        "logistic", X, Y, np.full(5, 0.5), lr_alpha / 0.1, np.zeros(0, np.int64), orders, batch_size, 0.1, SGD_RULE)
    np.testing.assert_allclose(theta, theta_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-9)


def test_a_non_finite_loss_stops_the_epoch_where_the_generic_one_stops():
    _, X, Y = make_data("squared", 30, 3, 5)
    X[17] *= 1e300  # the score of this row overflows: the loss is inf, the weights stay as they were before it
    orders = [np.arange(30)]
    for batch_size in (1, 4):
        (theta, _, losses), (theta_ref, _, losses_ref) = both_epochs(
            "squared", X, Y, np.full(4, 0.1), 0.0, np.zeros(0, np.int64), orders, batch_size, 0.01, SGD_RULE)
        assert np.isinf(losses[0]) and np.isinf(losses_ref[0])
        np.testing.assert_allclose(theta, theta_ref, rtol=1e-12)


def test_the_per_row_epoch_is_chosen_only_where_it_applies():
    X, Y, Yk = np.zeros((1000, 10)), np.zeros((1000, 1)), np.zeros((1000, 3))
    sgd, clipped = np.zeros(4), np.array([0.0, 0.0, 0.0, 1.0])
    logistic, squared, softmax = kernels.logistic_loss_grad, kernels.squared_loss_grad, kernels.softmax_loss_grad
    assert isinstance(epoch_for(logistic, X, Y, 1, SGD_RULE, sgd), RowEpoch)
    assert isinstance(epoch_for(squared, X, Y, 64, ADAM_RULE, sgd), RowEpoch)
    assert epoch_for(squared, X, Y, 65, ADAM_RULE, sgd) is compiled_epoch(squared, ADAM_RULE)
    assert epoch_for(logistic, X, Y, 1000, SGD_RULE, sgd) is compiled_epoch(logistic, SGD_RULE)  # full batch
    assert epoch_for(logistic, X, Y, 1, SGD_RULE, clipped) is compiled_epoch(logistic, SGD_RULE)  # needs |g| first
    assert epoch_for(squared, X, Yk, 1, SGD_RULE, sgd) is compiled_epoch(squared, SGD_RULE)  # several outputs
    assert epoch_for(softmax, X, Yk, 1, SGD_RULE, sgd) is compiled_epoch(softmax, SGD_RULE)  # not registered


def test_a_model_fitted_by_sgd_gets_the_weights_of_the_generic_path(monkeypatch):
    from tunelab.optimizers import _loop

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    fit = lambda: LogisticRegression(alpha=1e-3, optimizer=SGD(lr=0.05, batch_size=1), max_epochs=4, tol=None,
                                     random_state=0).fit(X, y)
    fast = fit()
    monkeypatch.setattr(_loop, "_specialised", {})
    reference = fit()
    np.testing.assert_allclose(fast.coef_, reference.coef_, rtol=1e-10)
    np.testing.assert_allclose(fast.loss_curve_, reference.loss_curve_, rtol=1e-10)


def test_problems_built_by_hand_use_the_per_row_epoch_too():
    """KernelProblem and train pick the per-row epoch for the registered kernels whoever builds them."""
    rng, X, Y = make_data("squared", 50, 3, 2)
    problem = KernelProblem(kernels.squared_loss_grad, X, Y, 0.01)
    result = train(SGD(lr=0.05, batch_size=2), problem, np.zeros(4), max_epochs=2, tol=None, random_state=3)
    theta, order_rng = np.zeros(4), np.random.default_rng(3)
    epoch = compiled_epoch(kernels.squared_loss_grad, SGD_RULE)
    for _ in range(2):
        epoch(theta, problem.X, problem.Y, 0.01, problem.spec, order_rng.permutation(50), 2, 0.05, SGD_RULE,
              np.zeros(4), np.zeros((2, 4)), 0)
    np.testing.assert_allclose(result.theta, theta, rtol=1e-12)
