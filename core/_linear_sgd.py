"""Per-row SGD epochs of the linear models with one output (least squares, binary logistic regression).

The generic epoch (tunelab.optimizers) asks the kernel for the whole gradient of each mini-batch B of m rows,

    g = (1/m) sum_{i in B} r_i x~_i + alpha [w, 0],   x~_i = (x_i, 1),   r_i = dloss_i/dz_i at z_i = x_i . w + b,

and hands it to the update rule: zeroing g, filling it, adding the penalty and applying it are passes over
theta of their own, each costing as much as the work of a row. Here a batch costs one pass over each of its
rows for the scores z_i (with the link: loss_i and r_i) and one for the update; the epoch loop and the
shuffled order stay compiled, and the iterates are the generic epoch's to rounding.

SGD, theta <- theta - lr g: the L2 shrinkage is a scalar. With w = s v (Bottou, "Stochastic Gradient Descent
Tricks", 2012, section 5.1; Shalev-Shwartz et al., "Pegasos", 2011)

    s <- (1 - lr alpha) s,   v <- v - lr / (m s) sum_i r_i x_i,   b <- b - (lr/m) sum_i r_i,

so a row touches only its own features; v is rescaled (v <- s v, s <- 1) only when |s| leaves
[RESCALE, 1/RESCALE].
Momentum, Nesterov (vel <- mu vel + g) and Adam: the velocity, or Adam's moments, move every coordinate at
every step, and Adam's step lr / (sqrt(s_hat_j) + eps) differs from coordinate to coordinate, so no scalar
can carry the shrinkage. Their update is one fused pass over w and the optimizer state per batch, with
g_j = u_j / m + alpha w_j formed in that pass (u = sum_i r_i x_i).
Each batch's loss, taken at the weights before its update, needs |w|^2: the update pass returns it.

Rows are prefetched AHEAD rows in advance (every cache line of the row), so that the random reads of a
shuffled order overlap with the arithmetic instead of waiting on memory one row at a time.
"""

import math

import numpy as np
from numba import njit

from tunelab.core._linear_kernels import (
    AHEAD, FASTMATH, KERNEL, axpy_row, dot, dot_row, intercept_fitted, prefetch_row,
)
from tunelab.optimizers import ADAM_RULE, NESTEROV_RULE, SGD_RULE

LINK_SQUARED, LINK_LOGISTIC = 0, 1
# The per-row path serves batches of at most MAX_BATCH rows and MAX_BATCH_VALUES values: beyond 64 rows the
# generic kernel's blocks of four rows and vector exp are faster (measured at d = 50), and a batch of at most
# 2^15 values (256 KiB) is still in cache when the update pass reads its rows again.
MAX_BATCH = 64
MAX_BATCH_VALUES = 2**15
RESCALE = 1e-9  # w = s v is renormalised when |s| < RESCALE or |s| > 1/RESCALE


@njit(fastmath=FASTMATH, **KERNEL)
def axpy_norm2(a, X, i, v):
    """v <- v + a x_i; returns |v|^2, summed in the same pass."""
    s = 0.0
    for j in range(v.shape[0]):
        v[j] += a * X[i, j]
        s += v[j] * v[j]
    return s


@njit(fastmath=FASTMATH, **KERNEL)
def _scale(v, s):
    for j in range(v.shape[0]):
        v[j] *= s


@njit(**KERNEL)
def link(z, y, code):
    """(loss, dloss/dz) of one row at score z: 1/2 (z - y)^2 and z - y (LINK_SQUARED); log(1 + e^z) - y z and
    sigmoid(z) - y (LINK_LOGISTIC), written with e = e^{-|z|} <= 1 so that neither overflows."""
    if code == LINK_SQUARED:
        r = z - y
        return 0.5 * r * r, r
    e = math.exp(-abs(z))
    return max(z, 0.0) + math.log1p(e) - y * z, (1.0 if z >= 0.0 else e) / (1.0 + e) - y


@njit(**KERNEL)
def batch_residuals(X, Y, order, start, stop, v, s, b, code, R):
    """R[t - start] = dloss/dz of row order[t] at z = s (x . v) + b, t in [start, stop); returns the sum of
    their losses. Prefetches the row AHEAD positions further on."""
    last = order.shape[0] - 1
    L = 0.0
    for t in range(start, stop):
        prefetch_row(X, order[min(t + AHEAD, last)])
        i = order[t]
        loss, r = link(s * dot_row(X, i, v) + b, Y[i, 0], code)
        L += loss
        R[t - start] = r
    return L


@njit(**KERNEL)
def _residual_sum(R, m):
    total = 0.0
    for t in range(m):
        total += R[t]
    return total


@njit(**KERNEL)
def _rows_sum(X, order, start, stop, R, U):
    """U = sum_t R[t - start] x_{order[t]} over the batch (the first row written, the others added)."""
    i, r = order[start], R[0]
    for j in range(U.shape[0]):
        U[j] = r * X[i, j]
    for t in range(start + 1, stop):
        axpy_row(R[t - start], X, order[t], U)


@njit(fastmath=FASTMATH, **KERNEL)
def _dot2(X, i1, v, i):
    """(x_i1 . v, x_i1 . x_i) in one pass."""
    p, q = 0.0, 0.0
    for j in range(v.shape[0]):
        p += X[i1, j] * v[j]
        q += X[i1, j] * X[i, j]
    return p, q


@njit(**KERNEL)
def sgd_epoch(theta, X, Y, alpha, spec, order, batch_size, lr, code):
    """One epoch of theta <- theta - lr g over `order` in batches of `batch_size`, with w = s v (module
    docstring); returns the mean batch loss, as the generic epoch does. theta (d + 1,) = [w, b]. Batches of one
    row go to sgd_rows instead (RowEpoch chooses, so that only the one in use is compiled)."""
    n, d = order.shape[0], X.shape[1]
    v, s, b = theta[:d], 1.0, theta[d]  # w = s v during the epoch
    vv = dot(v, v)
    fitted = intercept_fitted(spec)
    R = np.empty(batch_size)
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        m = stop - start
        loss = batch_residuals(X, Y, order, start, stop, v, s, b, code, R) / m + 0.5 * alpha * s * s * vv
        total += loss * m
        if not np.isfinite(loss):
            break
        s *= 1.0 - lr * alpha
        if not RESCALE <= abs(s) <= 1.0 / RESCALE:
            _scale(v, s)
            s = 1.0
        a = -lr / (m * s)
        for t in range(start, stop - 1):
            axpy_row(a * R[t - start], X, order[t], v)
        vv = axpy_norm2(a * R[m - 1], X, order[stop - 1], v)
        if fitted:
            b -= lr * (_residual_sum(R, m) / m)
    _scale(v, s)
    theta[d] = b
    return total / n


@njit(**KERNEL)
def sgd_rows(theta, X, Y, alpha, spec, order, lr, code):
    """sgd_epoch for batches of one row. The score of the next row x' is formed before this row's update is
    known, as x' . v_new = x' . v + a (x' . x) with v_new = v + a x: the two dot products do not wait for
    the link of this row, which leaves the link alone on the path from one row to the next."""
    n, d = order.shape[0], X.shape[1]
    v, s, b = theta[:d], 1.0, theta[d]  # w = s v during the epoch
    vv = dot(v, v)
    fitted = intercept_fitted(spec)
    last = n - 1
    z = dot_row(X, order[0], v) + b
    total = 0.0
    for t in range(n):
        prefetch_row(X, order[min(t + AHEAD, last)])
        i = order[t]
        p, q = _dot2(X, order[min(t + 1, last)], v, i)  # x' . v and x' . x, v before this row's update
        loss, r = link(z, Y[i, 0], code)
        loss += 0.5 * alpha * s * s * vv
        total += loss
        if not np.isfinite(loss):
            break
        s *= 1.0 - lr * alpha
        if not RESCALE <= abs(s) <= 1.0 / RESCALE:
            _scale(v, s)
            p *= s
            s = 1.0
        a = -lr * r / s
        vv = axpy_norm2(a, X, i, v)
        if fitted:
            b -= lr * r
        z = s * (p + a * q) + b
    _scale(v, s)
    theta[d] = b
    return total / n


@njit(fastmath=FASTMATH, **KERNEL)
def _momentum_pass(w, vel, u, c, alpha, lr, mu):
    """g = c u + alpha w;  vel <- mu vel + g;  w <- w - lr vel.  Returns |w|^2."""
    ww = 0.0
    for j in range(w.shape[0]):
        vel[j] = mu * vel[j] + (c * u[j] + alpha * w[j])
        w[j] -= lr * vel[j]
        ww += w[j] * w[j]
    return ww


@njit(fastmath=FASTMATH, **KERNEL)
def _nesterov_pass(w, vel, u, c, alpha, lr, mu):
    """g = c u + alpha w;  vel <- mu vel + g;  w <- w - lr (g + mu vel).  Returns |w|^2."""
    ww = 0.0
    for j in range(w.shape[0]):
        g = c * u[j] + alpha * w[j]
        vel[j] = mu * vel[j] + g
        w[j] -= lr * (g + mu * vel[j])
        ww += w[j] * w[j]
    return ww





@njit(**KERNEL)
def momentum_epoch(theta, X, Y, alpha, spec, order, batch_size, lr, mu, nesterov, state, code):
    """One epoch of heavy-ball (or Nesterov) momentum, vel = state[0]: one fused pass per batch over w and vel."""
    n, d = order.shape[0], X.shape[1]
    w, vel = theta[:d], state[0]
    ww = dot(w, w)
    fitted = intercept_fitted(spec)
    R, U = np.empty(batch_size), np.empty(d)
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        m = stop - start
        loss = batch_residuals(X, Y, order, start, stop, w, 1.0, theta[d], code, R) / m + 0.5 * alpha * ww
        total += loss * m
        if not np.isfinite(loss):
            break
        _rows_sum(X, order, start, stop, R, U)
        gb = _residual_sum(R, m) / m if fitted else 0.0
        vel[d] = mu * vel[d] + gb
        if nesterov:
            ww = _nesterov_pass(w, vel, U, 1.0 / m, alpha, lr, mu)
            theta[d] -= lr * (gb + mu * vel[d])
        else:
            ww = _momentum_pass(w, vel, U, 1.0 / m, alpha, lr, mu)
            theta[d] -= lr * vel[d]
    return total / n


@njit(fastmath=FASTMATH, **KERNEL)
def _adam_pass(w, m1, m2, u, c, alpha, lr, beta1, beta2, eps, c1, c2):
    """g = c u + alpha w;  m1 <- b1 m1 + (1-b1) g;  m2 <- b2 m2 + (1-b2) g^2;
    w <- w - lr (m1/c1) / (sqrt(m2/c2) + eps).  Returns |w|^2."""
    ww = 0.0
    for j in range(w.shape[0]):
        g = c * u[j] + alpha * w[j]
        m1[j] = beta1 * m1[j] + (1.0 - beta1) * g
        m2[j] = beta2 * m2[j] + (1.0 - beta2) * g * g
        w[j] -= lr * (m1[j] / c1) / (math.sqrt(m2[j] / c2) + eps)
        ww += w[j] * w[j]
    return ww


@njit(**KERNEL)
def adam_epoch(theta, X, Y, alpha, spec, order, batch_size, lr, beta1, beta2, eps, state, t0, code):
    """One epoch of Adam, moments m1 = state[0], m2 = state[1], step t = t0 + 1, t0 + 2, ... (bias corrections
    c1 = 1 - beta1^t, c2 = 1 - beta2^t): one fused pass per batch over w and both moments."""
    n, d = order.shape[0], X.shape[1]
    w, m1, m2 = theta[:d], state[0], state[1]
    ww = dot(w, w)
    fitted = intercept_fitted(spec)
    R, U = np.empty(batch_size), np.empty(d)
    total = 0.0
    t = t0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        m = stop - start
        loss = batch_residuals(X, Y, order, start, stop, w, 1.0, theta[d], code, R) / m + 0.5 * alpha * ww
        total += loss * m
        if not np.isfinite(loss):
            break
        t += 1
        c1, c2 = 1.0 - beta1**t, 1.0 - beta2**t
        _rows_sum(X, order, start, stop, R, U)
        ww = _adam_pass(w, m1, m2, U, 1.0 / m, alpha, lr, beta1, beta2, eps, c1, c2)
        gb = _residual_sum(R, m) / m if fitted else 0.0
        m1[d] = beta1 * m1[d] + (1.0 - beta1) * gb
        m2[d] = beta2 * m2[d] + (1.0 - beta2) * gb * gb
        theta[d] -= lr * (m1[d] / c1) / (math.sqrt(m2[d] / c2) + eps)
    return total / n


class RowEpoch:
    """The per-row epoch of one link (LINK_SQUARED or LINK_LOGISTIC), with the generic epoch's arguments."""

    def __init__(self, code):
        self.code = code

    def __call__(self, theta, X, Y, alpha, spec, order, batch_size, lr, rule, hyper, state, t0):
        if rule == SGD_RULE and batch_size == 1:
            return sgd_rows(theta, X, Y, alpha, spec, order, lr, self.code)
        if rule == SGD_RULE:
            return sgd_epoch(theta, X, Y, alpha, spec, order, batch_size, lr, self.code)
        if rule == ADAM_RULE:
            return adam_epoch(theta, X, Y, alpha, spec, order, batch_size, lr, hyper[0], hyper[1], hyper[2], state,
                              t0, self.code)
        return momentum_epoch(theta, X, Y, alpha, spec, order, batch_size, lr, hyper[0], rule == NESTEROV_RULE,
                              state, self.code)

    def choose(self, X, Y, batch_size, rule, hyper):
        """This epoch where it applies, else None (the generic epoch): one output; batches small enough to stay
        in cache between the two passes (larger ones are read once by the generic kernel's blocks); no gradient
        clipping, which needs the norm of the whole gradient before the update."""
        small = batch_size <= MAX_BATCH and batch_size * X.shape[1] <= MAX_BATCH_VALUES
        return self if Y.shape[1] == 1 and X.shape[0] > 0 and small and hyper[3] <= 0.0 else None
