"""Numba update rules: each takes the gradient g of the current mini-batch and moves theta in place.

They are the inner step of every first-order optimizer; `tunelab.optimizers._loop` calls them once per
mini-batch inside compiled code, and tests call them directly against a numpy reference.
"""

import math

from numba import njit

from tunelab.optimizers.first_order import ADAM_RULE, MOMENTUM_RULE, NESTEROV_RULE, SGD_RULE


@njit(cache=True, nogil=True)
def clip_by_norm(g, max_norm):
    """g <- g * min(1, max_norm / |g|); max_norm <= 0 means no clipping (Pascanu et al., 2013)."""
    if max_norm <= 0.0:
        return
    sq = 0.0
    for j in range(g.shape[0]):
        sq += g[j] * g[j]
    norm = math.sqrt(sq)
    if norm > max_norm:
        scale = max_norm / norm
        for j in range(g.shape[0]):
            g[j] *= scale


@njit(cache=True, nogil=True)
def sgd_update(theta, g, lr):
    """theta <- theta - lr * g  (Robbins and Monro, 1951)."""
    for j in range(theta.shape[0]):
        theta[j] -= lr * g[j]


@njit(cache=True, nogil=True)
def momentum_update(theta, v, g, lr, mu):
    """v <- mu * v + g;  theta <- theta - lr * v  (heavy ball, Polyak 1964)."""
    for j in range(theta.shape[0]):
        v[j] = mu * v[j] + g[j]
        theta[j] -= lr * v[j]


@njit(cache=True, nogil=True)
def nesterov_update(theta, v, g, lr, mu):
    """v <- mu * v + g;  theta <- theta - lr * (g + mu * v)  (Nesterov 1983, in Sutskever et al. 2013's form)."""
    for j in range(theta.shape[0]):
        v[j] = mu * v[j] + g[j]
        theta[j] -= lr * (g[j] + mu * v[j])


@njit(cache=True, nogil=True)
def adam_update(theta, m, s, g, lr, beta1, beta2, eps, t):
    """m <- b1 m + (1-b1) g;  s <- b2 s + (1-b2) g^2;  theta <- theta - lr * m_hat / (sqrt(s_hat) + eps),
    with m_hat = m / (1 - b1^t), s_hat = s / (1 - b2^t) and t >= 1 the step number (Kingma and Ba, 2015)."""
    correction1 = 1.0 - beta1**t
    correction2 = 1.0 - beta2**t
    for j in range(theta.shape[0]):
        m[j] = beta1 * m[j] + (1.0 - beta1) * g[j]
        s[j] = beta2 * s[j] + (1.0 - beta2) * g[j] * g[j]
        theta[j] -= lr * (m[j] / correction1) / (math.sqrt(s[j] / correction2) + eps)


# One step of each rule with the same arguments: state (2, p) holds the velocity or Adam's moments,
# hyper = [momentum or beta1, beta2, eps, clip_norm], t the 1-based step number. A compiled epoch binds the
# step of its rule alone, so that only the rule in use is compiled.
@njit(cache=True, nogil=True)
def sgd_step(theta, state, g, lr, hyper, t):
    clip_by_norm(g, hyper[3])
    sgd_update(theta, g, lr)


@njit(cache=True, nogil=True)
def momentum_step(theta, state, g, lr, hyper, t):
    clip_by_norm(g, hyper[3])
    momentum_update(theta, state[0], g, lr, hyper[0])


@njit(cache=True, nogil=True)
def nesterov_step(theta, state, g, lr, hyper, t):
    clip_by_norm(g, hyper[3])
    nesterov_update(theta, state[0], g, lr, hyper[0])


@njit(cache=True, nogil=True)
def adam_step(theta, state, g, lr, hyper, t):
    clip_by_norm(g, hyper[3])
    adam_update(theta, state[0], state[1], g, lr, hyper[0], hyper[1], hyper[2], t)


STEPS = {SGD_RULE: sgd_step, MOMENTUM_RULE: momentum_step, NESTEROV_RULE: nesterov_step, ADAM_RULE: adam_step}


@njit(cache=True, nogil=True)
def apply_rule(rule, theta, state, g, lr, hyper, t):
    """One step of rule `rule` (SGD_RULE, ...), state (2, p) holding velocity or Adam moments,
    hyper = [momentum or beta1, beta2, eps, clip_norm], t the 1-based step number."""
    if rule == SGD_RULE:
        sgd_step(theta, state, g, lr, hyper, t)
    elif rule == MOMENTUM_RULE:
        momentum_step(theta, state, g, lr, hyper, t)
    elif rule == NESTEROV_RULE:
        nesterov_step(theta, state, g, lr, hyper, t)
    else:
        adam_step(theta, state, g, lr, hyper, t)
