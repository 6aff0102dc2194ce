"""L-BFGS: limited-memory quasi-Newton with a strong-Wolfe line search (Nocedal and Wright,
Numerical Optimization, 2nd ed., algorithms 7.4 (two-loop recursion) and 3.5/3.6 (line search and zoom)).

    d = -H g, H the inverse-Hessian estimate built from the last `memory` pairs s = x+ - x, y = g+ - g.

With `bounds` the step is projected on the box: variables held at a bound by their gradient are frozen,
the two-loop recursion runs on the free ones, and a projected backtracking (Armijo) search picks the step
(the idea of L-BFGS-B, Byrd, Lu, Nocedal and Zhu 1995, without its Cauchy-point subproblem).
The same routine fits models (`LBFGS` optimizer) and the GP searcher's hyperparameters (`minimize`).
"""

import numbers
from dataclasses import dataclass

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.optimizers.params import ParamsMixin


@dataclass
class MinimizeResult:
    x: np.ndarray
    fun: float
    grad: np.ndarray
    n_iter: int
    n_fev: int
    converged: bool
    message: str


class LBFGS(ParamsMixin):
    """Full-batch L-BFGS to the optimum; one training "epoch" is one iteration. `gtol` bounds the final
    max-norm of the gradient; `max_iter` None means the model's `max_epochs`."""

    def __init__(self, memory=10, max_iter=None, gtol=1e-6):
        self.memory = memory
        self.max_iter = max_iter
        self.gtol = gtol

    def _check(self):
        check_scalar(self.memory, "memory", numbers.Integral, low=1)
        check_scalar(self.max_iter, "max_iter", numbers.Integral, low=1, allow_none=True)
        check_scalar(self.gtol, "gtol", low=0.0)


def _two_loop(g, pairs, free):
    """r = H g by the two-loop recursion over stored (s, y, rho); `free` masks frozen variables."""
    q = g * free
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * np.dot(s * free, q)
        q = q - a * y * free
        alphas.append(a)
    if pairs:
        s, y, _ = pairs[-1]
        yf = y * free
        gamma = np.dot(s * free, yf) / max(np.dot(yf, yf), 1e-300)
        r = gamma * q if gamma > 0 else q
    else:
        r = q
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        b = rho * np.dot(y * free, r)
        r = r + s * free * (a - b)
    return r


def _zoom(phi, a_lo, a_hi, f_lo, d_lo, f0, d0, c1, c2, max_steps=30):
    """Algorithm 3.6: shrink [a_lo, a_hi] (safeguarded quadratic interpolation) to a strong-Wolfe step."""
    for _ in range(max_steps):
        f_hi = phi(a_hi)[0]
        denom = 2.0 * (f_hi - f_lo - d_lo * (a_hi - a_lo))
        a = a_lo - d_lo * (a_hi - a_lo) ** 2 / denom if denom > 0 else 0.5 * (a_lo + a_hi)
        low, high = min(a_lo, a_hi), max(a_lo, a_hi)
        if not (low + 0.1 * (high - low) <= a <= high - 0.1 * (high - low)):
            a = 0.5 * (a_lo + a_hi)
        f_a, d_a, payload = phi(a)
        if f_a > f0 + c1 * a * d0 or f_a >= f_lo:
            a_hi = a
        else:
            if abs(d_a) <= -c2 * d0:
                return a, payload
            if d_a * (a_hi - a_lo) >= 0:
                a_hi = a_lo
            a_lo, f_lo, d_lo = a, f_a, d_a
    return (a_lo, None) if a_lo > 0 else (None, None)


def _wolfe_search(phi, f0, d0, a1, c1=1e-4, c2=0.9, a_max=1e10, max_steps=30):
    """Algorithm 3.5: a step a with f(a) <= f0 + c1 a d0 and |f'(a)| <= c2 |d0|; phi(a) -> (f, f', payload)."""
    a_prev, f_prev, d_prev = 0.0, f0, d0
    a = a1
    for i in range(max_steps):
        f_a, d_a, payload = phi(a)
        if not np.isfinite(f_a) or f_a > f0 + c1 * a * d0 or (i > 0 and f_a >= f_prev):
            if not np.isfinite(f_a):  # stepped into overflow: shrink and retry
                a = 0.5 * (a_prev + a)
                continue
            return _zoom(phi, a_prev, a, f_prev, d_prev, f0, d0, c1, c2)
        if abs(d_a) <= -c2 * d0:
            return a, payload
        if d_a >= 0:
            return _zoom(phi, a, a_prev, f_a, d_a, f0, d0, c1, c2)
        a_prev, f_prev, d_prev = a, f_a, d_a
        a = min(2.0 * a, a_max)
    return (a_prev, None) if a_prev > 0 else (None, None)


def _projected_gradient(x, g, lower, upper):
    """x - P(x - g): zero at a box-constrained stationary point; equals g without bounds."""
    return x - np.clip(x - g, lower, upper)


def lbfgs_iterations(f_and_grad, x0, bounds=None, memory=10):
    """Yield (x, f, g, n_fev) after each L-BFGS iteration, forever or until no step lowers f.

    f_and_grad(x) -> (f, g). The caller decides when to stop (gradient, epochs, patience); the
    generator returns when the line search cannot make progress.
    """
    x = np.array(x0, dtype=np.float64)
    lower, upper = _bounds_arrays(bounds, x.shape[0])
    x = np.clip(x, lower, upper)
    f, g = f_and_grad(x)
    g = np.array(g, dtype=np.float64)
    n_fev = 1
    pairs = []
    yield x, f, g, n_fev
    while True:
        at_lower = (x <= lower) & (g > 0)
        at_upper = (x >= upper) & (g < 0)
        free = (~(at_lower | at_upper)).astype(np.float64)
        d = -_two_loop(g, pairs, free)
        slope = np.dot(g, d)
        if not slope < 0:  # lost descent (bad curvature memory): restart from steepest descent
            pairs.clear()
            d = -g * free
            slope = np.dot(g, d)
            if not slope < 0:
                return
        first_step = min(1.0, 1.0 / max(np.abs(g).max(), 1e-300)) if not pairs else 1.0
        if np.isfinite(lower).any() or np.isfinite(upper).any():
            step = _projected_backtracking(f_and_grad, x, f, g, d, lower, upper, first_step)
        else:
            step = _unbounded_step(f_and_grad, x, f, g, d, first_step)
        if step is None:
            return
        x_new, f_new, g_new, evaluations = step
        n_fev += evaluations
        s, y = x_new - x, g_new - g
        sy = np.dot(s, y)
        if sy > 1e-10 * np.dot(y, y):  # curvature condition; skip the pair otherwise
            pairs.append((s, y, 1.0 / sy))
            if len(pairs) > memory:
                pairs.pop(0)
        x, f, g = x_new, f_new, g_new
        yield x, f, g, n_fev


def _unbounded_step(f_and_grad, x, f, g, d, first_step):
    evaluations = [0]

    def phi(a):
        x_a = x + a * d
        f_a, g_a = f_and_grad(x_a)
        evaluations[0] += 1
        g_a = np.asarray(g_a, dtype=np.float64)
        return f_a, np.dot(g_a, d), (x_a, f_a, g_a)

    a, payload = _wolfe_search(phi, f, np.dot(g, d), first_step)
    if a is None:
        return None
    if payload is None:  # search ended on a point it did not return: evaluate it
        payload = phi(a)[2]
    x_new, f_new, g_new = payload
    if not f_new < f and np.array_equal(x_new, x):
        return None
    return x_new, f_new, g_new, evaluations[0]


def _projected_backtracking(f_and_grad, x, f, g, d, lower, upper, first_step, c1=1e-4, max_steps=40):
    a = first_step
    for evaluations in range(1, max_steps + 1):
        x_a = np.clip(x + a * d, lower, upper)
        f_a, g_a = f_and_grad(x_a)
        if np.isfinite(f_a) and f_a <= f + c1 * np.dot(g, x_a - x):
            if np.array_equal(x_a, x):
                return None
            return x_a, f_a, np.asarray(g_a, dtype=np.float64), evaluations
        a *= 0.5
    return None


def _bounds_arrays(bounds, n):
    if bounds is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    bounds = np.asarray(bounds, dtype=np.float64)
    if bounds.shape != (n, 2):
        raise ValueError(f"`bounds` must have shape ({n}, 2), one (low, high) pair per variable; got {bounds.shape}.")
    if np.any(np.isnan(bounds)) or np.any(bounds[:, 0] > bounds[:, 1]):
        raise ValueError(f"`bounds` must have low <= high in every row; got {bounds.tolist()}.")
    return bounds[:, 0].copy(), bounds[:, 1].copy()


def minimize(f_and_grad, x0, bounds=None, memory=10, max_iter=1000, gtol=1e-6):
    """Minimise f from x0 by L-BFGS (optionally in the box `bounds`, shape (n, 2)).

    Stops when max|x - P(x - g)| <= gtol (the gradient's max-norm without bounds), after `max_iter`
    iterations, or when no step lowers f (reported in `message`).
    """
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim != 1 or x0.size == 0 or not np.isfinite(x0).all():
        raise ValueError(f"`x0` must be a non-empty 1-D finite array; got shape {x0.shape}.")
    check_scalar(memory, "memory", numbers.Integral, low=1)
    check_scalar(max_iter, "max_iter", numbers.Integral, low=0)
    check_scalar(gtol, "gtol", low=0.0)
    lower, upper = _bounds_arrays(bounds, x0.shape[0])
    message = "no step lowered f (line search failed): the point is optimal to machine precision or f is not smooth"
    x, f, g, n_fev, n_iter = x0, np.inf, None, 0, -1
    for n_iter, (x, f, g, n_fev) in enumerate(lbfgs_iterations(f_and_grad, x0, bounds, memory)):
        if not np.isfinite(f):
            message = f"f became {f} at iteration {n_iter}"
            break
        if np.abs(_projected_gradient(x, g, lower, upper)).max() <= gtol:
            return MinimizeResult(x, float(f), g, n_iter, n_fev, True, "gradient below gtol")
        if n_iter >= max_iter:
            message = f"reached max_iter={max_iter}"
            break
    return MinimizeResult(x, float(f), g, max(n_iter, 0), n_fev, False, message)
