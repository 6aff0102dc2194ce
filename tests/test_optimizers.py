"""One contract over every optimizer: each fits ridge regression to its closed-form solution; update rules
match a numpy reference; L-BFGS finds the minima of quadratics and Rosenbrock; bad input fails clearly."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from _reference_kernels import least_squares
from tunelab.optimizers import (
    GD, LBFGS, SGD, Adam, ConvergenceError, Constant, Cosine, InverseScaling, KernelProblem, Momentum,
    StepDecay, minimize, train,
)
from tunelab.optimizers import _rules


def ridge_problem(n=400, d=5, alpha=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.5 + 0.1 * rng.normal(size=n)
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(d), Xc.T @ yc / n)
    exact = np.r_[w, y.mean() - X.mean(0) @ w]
    return KernelProblem(least_squares, X, y, alpha), exact


def relative_error(theta, exact):
    return np.linalg.norm(theta - exact) / np.linalg.norm(exact)


@pytest.mark.parametrize("optimizer", [GD(lr=0.5), Momentum(lr=0.1), Momentum(lr=0.1, nesterov=True), LBFGS(gtol=1e-10)],
                         ids=["GD", "Momentum", "Nesterov", "LBFGS"])
def test_full_batch_optimizers_reach_the_closed_form_ridge_solution(optimizer):
    problem, exact = ridge_problem()
    result = train(optimizer, problem, np.zeros(6), max_epochs=3000, tol=None, random_state=0)
    assert relative_error(result.theta, exact) < 1e-6


@pytest.mark.parametrize("optimizer", [
    SGD(lr=0.05, batch_size=16, schedule=InverseScaling(power=1.0)),
    Momentum(lr=0.01, batch_size=32, schedule=Cosine(t_max=300)),
    Adam(lr=0.01, batch_size=32, schedule=StepDecay(step_size=50, gamma=0.3)),
], ids=["SGD", "MomentumMinibatch", "Adam"])
def test_stochastic_optimizers_approach_the_ridge_solution(optimizer):
    problem, exact = ridge_problem()
    result = train(optimizer, problem, np.zeros(6), max_epochs=300, tol=None, random_state=0)
    assert relative_error(result.theta, exact) < 1e-2
    assert result.loss_curve[-1] < result.loss_curve[0]


def test_same_seed_same_fit_and_other_seed_other_fit():
    problem, _ = ridge_problem()
    fit = lambda seed: train(SGD(lr=0.01, batch_size=8), problem, np.zeros(6), max_epochs=5, random_state=seed).theta
    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.array_equal(fit(3), fit(4))


def test_compiled_epoch_matches_a_numpy_minibatch_loop():
    problem, _ = ridge_problem(n=50, d=3)
    optimizer = Momentum(lr=0.05, momentum=0.8, nesterov=True, batch_size=7)
    result = train(optimizer, problem, np.zeros(4), max_epochs=1, tol=None, random_state=11)
    order = np.random.default_rng(11).permutation(50)
    theta, v = np.zeros(4), np.zeros(4)
    for start in range(0, 50, 7):
        _, g = problem.loss_grad(theta, order[start:start + 7])
        v = 0.8 * v + g
        theta = theta - 0.05 * (g + 0.8 * v)
    np.testing.assert_allclose(result.theta, theta, rtol=1e-12, atol=1e-14)


@settings(max_examples=20, deadline=None)
@given(p=st.integers(1, 20), seed=st.integers(0, 2**32 - 1), t=st.integers(1, 50))
@example(p=8, seed=141161, t=50)
def test_update_rules_match_numpy(p, seed, t):
    rng = np.random.default_rng(seed)
    theta, g, m, s = rng.normal(size=p), rng.normal(size=p), rng.normal(size=p), rng.random(p)
    lr, mu, b1, b2, eps = 0.1, 0.9, 0.9, 0.999, 1e-8
    out = theta.copy(); _rules.sgd_update(out, g, lr)
    np.testing.assert_allclose(out, theta - lr * g)
    out, v = theta.copy(), m.copy(); _rules.momentum_update(out, v, g, lr, mu)
    np.testing.assert_allclose(out, theta - lr * (mu * m + g))
    out, m2, s2 = theta.copy(), m.copy(), s.copy(); _rules.adam_update(out, m2, s2, g, lr, b1, b2, eps, t)
    m_ref, s_ref = b1 * m + (1 - b1) * g, b2 * s + (1 - b2) * g * g
    step = lr * (m_ref / (1 - b1**t)) / (np.sqrt(s_ref / (1 - b2**t)) + eps)
    # relative to the terms, not to theta - step, which cancels to ~1e-5 for some draws (p=8, seed=141161)
    assert np.all(np.abs(out - (theta - step)) <= 1e-12 * (np.abs(theta) + np.abs(step)))
    clipped = g.copy(); _rules.clip_by_norm(clipped, 0.5)
    assert np.linalg.norm(clipped) <= 0.5 + 1e-12
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), g / np.linalg.norm(g))


def test_schedules():
    assert Constant()(0.1, 7) == 0.1
    assert InverseScaling(power=0.5)(1.0, 3) == pytest.approx(0.5)
    assert StepDecay(step_size=10, gamma=0.5)(1.0, 25) == pytest.approx(0.25)
    assert Cosine(t_max=10, lr_min=0.0)(1.0, 10) == pytest.approx(0.0)
    assert Cosine(t_max=10)(1.0, 5) == pytest.approx(0.5)


def test_a_diverging_learning_rate_raises_convergence_error():
    problem, _ = ridge_problem()
    with pytest.raises(ConvergenceError, match="diverged.*lr=50"):
        train(GD(lr=50.0), problem, np.zeros(6), max_epochs=500, random_state=0)


def test_warm_state_continues_training():
    problem, exact = ridge_problem()
    first = train(Momentum(lr=0.1), problem, np.zeros(6), max_epochs=40, tol=None)
    second = train(Momentum(lr=0.1), problem, first.theta, max_epochs=40, tol=None, state=first.state)
    straight = train(Momentum(lr=0.1), problem, np.zeros(6), max_epochs=80, tol=None)
    np.testing.assert_allclose(second.theta, straight.theta, rtol=1e-12)
    assert second.state.epoch == 80


def test_patience_stops_a_minibatch_run_when_the_loss_stalls():
    problem, _ = ridge_problem()
    result = train(SGD(lr=0.01, batch_size=16), problem, np.zeros(6), max_epochs=5000, tol=1e-6, n_iter_no_change=3,
                   random_state=0)
    assert result.converged and result.n_epochs < 5000 and "training loss patience" in result.message


def test_the_gradient_stops_a_full_batch_run():
    problem, exact = ridge_problem()
    result = train(GD(lr=0.5), problem, np.zeros(6), max_epochs=5000, tol=1e-9, n_iter_no_change=3)
    assert result.converged and result.n_epochs < 5000 and "gradient test" in result.message
    assert relative_error(result.theta, exact) < 1e-7


def test_validation_score_keeps_the_best_weights():
    problem, exact = ridge_problem()
    scores_seen = []

    def score(theta):  # peaks at epoch 3, then falls: the best theta must be the one of epoch 3
        scores_seen.append(theta.copy())
        return -abs(len(scores_seen) - 3)

    result = train(GD(lr=0.5), problem, np.zeros(6), max_epochs=50, tol=0.0, n_iter_no_change=4, validation_score=score)
    assert result.n_epochs == 7
    np.testing.assert_array_equal(result.theta, scores_seen[2])


def rosenbrock(x):
    f = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return f, g


@pytest.mark.parametrize("d", [2, 5, 10])
def test_lbfgs_minimises_rosenbrock(d):
    result = minimize(rosenbrock, np.full(d, -1.2), max_iter=2000, gtol=1e-8)
    assert result.converged
    np.testing.assert_allclose(result.x, np.ones(d), atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(d=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_lbfgs_minimises_random_quadratics(d, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d)); H = A @ A.T + 0.5 * np.eye(d); c = rng.normal(size=d)
    result = minimize(lambda x: (0.5 * x @ H @ x - c @ x, H @ x - c), np.zeros(d), gtol=1e-9)
    np.testing.assert_allclose(result.x, np.linalg.solve(H, c), atol=1e-6)


def test_lbfgs_with_bounds_stops_on_the_box():
    result = minimize(lambda x: (np.sum((x - 3) ** 2), 2 * (x - 3)), np.zeros(3), bounds=[(0, 1), (0, 5), (-1, 2)])
    np.testing.assert_allclose(result.x, [1, 3, 2])
    assert result.converged


@pytest.mark.parametrize("make, message", [
    (lambda: GD(lr=-0.1), "`lr` must be > 0.0; got -0.1"),
    (lambda: SGD(batch_size=0), "`batch_size` must be >= 1; got 0"),
    (lambda: Momentum(momentum=1.0), "`momentum` must be < 1"),
    (lambda: Adam(beta2=1.5), "`beta2` must be < 1"),
    (lambda: SGD(schedule="cosine"), "`schedule` must be None or a schedule"),
    (lambda: LBFGS(memory=0), "`memory` must be >= 1"),
    (lambda: Momentum(nesterov="yes"), "`nesterov` must be True or False; got 'yes' of type str"),
])
def test_bad_hyperparameters_fail_clearly(make, message):
    problem, _ = ridge_problem(n=20)
    with pytest.raises((ValueError, TypeError), match=message):
        train(make(), problem, np.zeros(6), max_epochs=1)


def test_bad_minimize_arguments_fail_clearly():
    with pytest.raises(ValueError, match="`bounds` must have shape"):
        minimize(rosenbrock, np.zeros(3), bounds=[(0, 1)])
    with pytest.raises(ValueError, match="`x0` must be"):
        minimize(rosenbrock, np.array([np.nan]))
    with pytest.raises(TypeError, match="`optimizer` must be"):
        train("sgd", ridge_problem(n=20)[0], np.zeros(6))


def test_optimizers_follow_the_params_contract():
    optimizer = Momentum(lr=0.3, nesterov=True)
    assert optimizer.get_params()["lr"] == 0.3
    assert optimizer.set_params(lr=0.01).lr == 0.01
    with pytest.raises(ValueError, match="Invalid parameter 'learning_rate'"):
        optimizer.set_params(learning_rate=1.0)
