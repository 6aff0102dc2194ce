"""Acquisition functions of the Bayesian searcher and their maximisation over the unit cube.

For a posterior mu(x), sigma(x) of the (standardised) loss and the incumbent f* (the least posterior
mean at the observed points), with z = (f* - mu) / sigma and h(z) = phi(z) + z Phi(z):

    "ei"      expected improvement      EI = sigma h(z)                      (Jones et al. 1998)
    "log_ei"  log EI, stable for tiny improvements: log sigma + log h(z)     (Ament et al. 2023)
    "pi"      probability of improvement, maximised as log Phi(z)           (Kushner 1964)
    "ucb"     confidence bound for minimisation: -(mu - kappa sigma)        (Srinivas et al. 2010)

Every one is maximised: quasi-random candidates are scored, then the best few are refined together by
L-BFGS in the box [0, 1] over the continuous coordinates (discrete ones stay where the candidate put
them, as the rounding in the model's input transform has no gradient).
"""

import numpy as np

from tunelab.optimizers import minimize
from tunelab.searchers.bayes import _kernels as kern

ACQUISITIONS = {"ei": kern.EI_ACQUISITION, "log_ei": kern.LOG_EI_ACQUISITION, "pi": kern.LOG_PI_ACQUISITION,
                "ucb": kern.UCB_ACQUISITION}  # name -> `kind` of kern.acquisition_terms
VAR_FLOOR = 1e-12  # sigma^2 is kept above VAR_FLOOR * sf2 (round-off at the observed points)


def acquisition_from_moments(name, mu, sigma, f_best, kappa=2.0):
    """a, da/dmu, da/dsigma (each (c,)) of acquisition `name` at means mu (c,) and deviations sigma (c,)."""
    mu = np.ascontiguousarray(mu, dtype=np.float64)
    sigma = np.ascontiguousarray(sigma, dtype=np.float64)
    a, da_dmu, da_dsigma = np.empty_like(mu), np.empty_like(mu), np.empty_like(mu)
    kern.acquisition_terms(ACQUISITIONS[name], mu, sigma, float(f_best), float(kappa), a, da_dmu, da_dsigma)
    return a, da_dmu, da_dsigma


def acquisition(posterior, X, name, f_best, kappa=2.0, grad=False):
    """Acquisition `name` at the feature rows X (c, p) of a GP posterior: a (c,), and da/dX (c, p) if grad.

    sigma = sqrt(max(var, VAR_FLOOR sf2)); dsigma/dX = dvar/dX / (2 sigma) where var is above the floor.
    """
    floor = VAR_FLOOR * posterior.factor.sf2
    if not grad:
        mu, var = posterior.predict(X)
        return acquisition_from_moments(name, mu, np.sqrt(np.maximum(var, floor)), f_best, kappa)[0]
    mu, var, dmu, dvar = posterior.predict(X, grad=True)
    sigma = np.sqrt(np.maximum(var, floor))
    a, da_dmu, da_dsigma = acquisition_from_moments(name, mu, sigma, f_best, kappa)
    dsigma = np.where((var > floor)[:, None], dvar / (2.0 * sigma[:, None]), 0.0)
    return a, da_dmu[:, None] * dmu + da_dsigma[:, None] * dsigma


def maximize(score, candidates, continuous, rng, n_refine=10, scale=None, starts=(), log_scale=True, max_iter=100):
    """Maximise score over the unit cube: score all candidates, refine a few of them by L-BFGS.

    score(U, grad) -> a (c,) [, da/dU (c, d)] for points U (c, d) in [0, 1]^d.
    candidates (c, d); continuous (d,) bool: the coordinates L-BFGS may move (the others are kept).
    The refined points are the best candidate, the given `starts` (r, d), and candidates drawn with
    probability ~ exp(a - max a) (a roulette wheel that keeps the starts diverse; a / max a when the
    acquisition is not on a log scale), up to `n_refine`. They are optimised jointly as one vector
    (their sum of scores is separable) in the box [0, 1], in the variables u / scale (scale (d,), e.g.
    the lengthscales, which evens out the curvature). Returns all points (k, d) and scores (k,), best
    first, so that a caller can fall back to the next one.
    """
    a = score(candidates, False)
    best = int(np.argmax(a))
    n_roulette = min(n_refine - 1 - len(starts), len(a) - 1)
    chosen = [best]
    if n_roulette > 0:
        w = np.exp(a - a[best]) if log_scale else np.maximum(a, 0.0) / max(a[best], 1e-300)
        w[best] = 0.0
        n_roulette = min(n_roulette, int(np.count_nonzero(w > 0)))
        if n_roulette > 0:
            chosen += list(rng.choice(len(a), size=n_roulette, replace=False, p=w / w.sum()))
    U0 = np.vstack([candidates[chosen], np.reshape(starts, (-1, candidates.shape[1]))])  # (k, d)
    a0 = score(U0, False)
    cols = np.flatnonzero(continuous)
    refined, refined_a = U0, a0
    if cols.size and max_iter > 0:
        k = U0.shape[0]
        s = np.ones(cols.size) if scale is None else np.asarray(scale, dtype=np.float64)[cols]
        s_all = np.tile(s, k)

        def f_and_grad(x):
            U = U0.copy()
            U[:, cols] = (x * s_all).reshape(k, cols.size)
            values, dU = score(U, True)
            return -values.sum(), -dU[:, cols].ravel() * s_all

        x0 = U0[:, cols].ravel() / s_all
        bounds = np.column_stack([np.zeros_like(s_all), 1.0 / s_all])
        result = minimize(f_and_grad, x0, bounds=bounds, max_iter=max_iter, gtol=1e-5)
        U1 = U0.copy()
        U1[:, cols] = np.clip((result.x * s_all).reshape(k, cols.size), 0.0, 1.0)
        a1 = score(U1, False)
        better = a1 > a0  # keep a start where the joint step made it worse
        refined = np.where(better[:, None], U1, U0)
        refined_a = np.where(better, a1, a0)
    U = np.vstack([refined, candidates])
    values = np.concatenate([refined_a, a])
    best_first = np.argsort(-values, kind="stable")
    return U[best_first], values[best_first]
