"""The hypergradient at a fitted optimum, by implicit differentiation.

At the fitted optimum theta*(alpha) of the training loss L(theta, alpha) the gradient vanishes,
grad_theta L(theta*(alpha), alpha) = 0. Differentiating this identity in alpha gives
d theta*/d alpha = -H^{-1} d(grad_theta L)/d alpha, H the training Hessian, so the validation loss E has

    dE/d log(alpha) = -v^T (alpha d(grad_theta L)/d alpha),      H v = grad_theta E(theta*)

(implicit differentiation: Pedregosa, "Hyperparameter optimization with approximate gradient", ICML
2016, section 2). H v = b is solved by conjugate gradients (Nocedal & Wright, Numerical Optimization,
algorithm 5.2) from Hessian-vector products of the model's kernel, exact (tunelab.core.kernels) or by
finite differences of its gradient; H is never formed. For the L2 penalty alpha/2 |W|^2,
alpha d(grad L)/d alpha = alpha W (the weights; intercepts are not penalised), which is the kernel's
gradient on no rows at all. `polish` first brings the fitted weights to a stationary point to the
precision the identity needs.

The kernels follow the contract of tunelab.optimizers: loss_grad(theta, X, Y, rows, alpha, spec, grad) -> L.
"""

import math

import numpy as np

from tunelab.optimizers import minimize
from tunelab.optimizers.validation import ConvergenceError


def conjugate_gradient(matvec, b, rtol=1e-10, max_iter=None, null_tol=1e-9):
    """x with H x = b for a symmetric positive (semi)definite H given as matvec(p) -> H p; returns (x, n_iter).

    Stops when |H x - b| <= rtol |b|, or at a flat direction p, |p^T H p| <= null_tol |H| |p|^2 with |H|
    estimated by the largest |H p| / |p| met: a null direction of H (all softmax scores shifted together
    by unpenalised intercepts, along which b has no part), or one within the noise of finite-difference
    products; x then solves the system on the directions met before. Raises ConvergenceError at a
    curvature below -null_tol |H| |p|^2 (H indefinite: the point is not a minimum of the training loss).
    Source: Nocedal & Wright, Numerical Optimization, algorithm 5.2.
    """
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros_like(b)
    r = b.copy()  # residual b - H x
    p = r.copy()
    rr = float(r @ r)
    stop = (rtol * math.sqrt(rr)) ** 2
    max_iter = 2 * b.shape[0] + 10 if max_iter is None else max_iter
    largest = 0.0  # the largest |H p| / |p| met: a lower bound of |H|
    for it in range(max_iter):
        if rr <= stop:
            return x, it
        Hp = matvec(p)
        curvature = float(p @ Hp)
        pp = float(p @ p)
        largest = max(largest, math.sqrt(float(Hp @ Hp) / pp))
        if curvature < -null_tol * largest * pp:
            raise ConvergenceError(f"conjugate gradients met a direction of curvature {curvature / pp:.3g} < 0 "
                                   f"(|H| >= {largest:.3g}): the training Hessian is not positive definite at the "
                                   "fitted point.")
        if curvature <= null_tol * largest * pp:
            return x, it  # a flat direction: x solves the system on the rest
        step = rr / curvature
        x += step * p
        r -= step * Hp
        rr, rr_old = float(r @ r), rr
        p = r + (rr / rr_old) * p
    return x, max_iter


def finite_difference_hvp(loss_grad, theta, X, Y, rows, alpha, spec):
    """hvp(v) ~ (g(theta + h v) - g(theta - h v)) / (2 h), g the kernel's gradient, h = eps^(1/3) (1 + |theta|) / |v|:
    a Hessian-vector product for kernels without an exact one (the MLP). Error O(h^2)."""
    grad_plus, grad_minus = np.empty_like(theta), np.empty_like(theta)
    scale = np.cbrt(np.finfo(np.float64).eps) * (1.0 + float(np.linalg.norm(theta)))

    def hvp(v):
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return np.zeros_like(v)
        h = scale / norm
        loss_grad(theta + h * v, X, Y, rows, alpha, spec, grad_plus)
        loss_grad(theta - h * v, X, Y, rows, alpha, spec, grad_minus)
        return (grad_plus - grad_minus) / (2.0 * h)
    return hvp


def implicit_hypergradient(loss_grad, hvp, theta, X, Y, train_rows, val_rows, alpha, spec, rtol=1e-10):
    """(E, dE/d log alpha, CG iterations) at the fitted optimum `theta` of the training loss on `train_rows`.

    E = (1/m_val) sum_{i in val_rows} loss_i(theta) is the unpenalised validation loss. loss_grad is the
    model's kernel loss_grad(theta, X, Y, rows, alpha, spec, grad) -> L; hvp is either its exact
    Hessian-vector kernel hvp(theta, X, Y, rows, alpha, spec, v, out), or None for finite differences.
    dE/d log alpha = -v^T (alpha W), H v = grad E; alpha W is the kernel's gradient on no rows.
    """
    p = theta.shape[0]
    grad_E = np.empty(p)
    E = float(loss_grad(theta, X, Y, val_rows, 0.0, spec, grad_E))
    penalty_grad = np.empty(p)
    loss_grad(theta, X, Y, np.empty(0, dtype=np.int64), alpha, spec, penalty_grad)  # = alpha W, 0 on intercepts
    if hvp is None:
        matvec = finite_difference_hvp(loss_grad, theta, X, Y, train_rows, alpha, spec)
    else:
        out = np.empty(p)

        def matvec(v):
            hvp(theta, X, Y, train_rows, alpha, spec, np.ascontiguousarray(v), out)
            return out.copy()
    v, n_iter = conjugate_gradient(matvec, grad_E, rtol=rtol, null_tol=1e-12 if hvp is not None else 1e-6)
    return E, -float(v @ penalty_grad), n_iter


def polish(loss_grad, hvp, theta, X, Y, rows, alpha, spec, gtol=1e-9, max_iter=50):
    """Newton's method with conjugate-gradient steps and backtracking (Nocedal & Wright, algorithm 7.1) from
    `theta` until max|grad L| <= gtol: the fitted point made a stationary point to the precision the
    implicit function theorem needs. hvp None: L-BFGS instead (tunelab.optimizers.minimize). Returns theta."""
    grad = np.empty_like(theta)

    def f_and_grad(t):
        L = float(loss_grad(t, X, Y, rows, alpha, spec, grad))
        return L, grad.copy()
    if hvp is None:
        return minimize(f_and_grad, theta, max_iter=20 * max_iter, gtol=gtol).x
    theta = np.array(theta, dtype=np.float64)
    out = np.empty_like(theta)

    def matvec(v):
        hvp(theta, X, Y, rows, alpha, spec, np.ascontiguousarray(v), out)
        return out.copy()
    L, g = f_and_grad(theta)
    for _ in range(max_iter):
        if np.abs(g).max() <= gtol:
            break
        step, _ = conjugate_gradient(matvec, -g, rtol=min(0.1, math.sqrt(np.abs(g).max())))
        slope = float(g @ step)
        t = 1.0
        for _ in range(40):  # Armijo backtracking
            L_new, g_new = f_and_grad(theta + t * step)
            if L_new <= L + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            break  # no decrease: optimal to machine precision
        theta, L, g = theta + t * step, L_new, g_new
    return theta
