"""Gradient-based hyperparameter search: descend the validation loss along its hypergradient.

At the fitted optimum theta*(alpha) of the training loss L(theta, alpha) the gradient vanishes,
grad_theta L(theta*(alpha), alpha) = 0. Differentiating this identity in alpha gives
d theta*/d alpha = -H^{-1} d(grad_theta L)/d alpha, H the training Hessian, so the validation loss E has

    dE/d log(alpha) = -v^T (alpha d(grad_theta L)/d alpha),      H v = grad_theta E(theta*)

(implicit differentiation: Pedregosa, "Hyperparameter optimization with approximate gradient", ICML
2016, section 2). H v = b is solved by conjugate gradients from Hessian-vector products of the model's
kernel; H is never formed. For the L2 penalty alpha/2 |W|^2, alpha d(grad L)/d alpha = alpha W (the
weights; intercepts are not penalised), which is the kernel's gradient on no rows at all.

`HypergradientSearch` is a searcher like the others: each outer step is one trial. It reads the
gradient that the objective keeps with the trial (`trial.set_attr("hypergradient", {name: d value/d x})`);
`HypergradientCV` (in `tunelab.searchers._hyper_models`) computes it for tunelab's linear models and
MLPs by cross-validation, and `SearchCV(..., searcher=HypergradientSearch())` uses it.
"""

import math
import numbers

import numpy as np

from tunelab.optimizers._checks import ConvergenceError, check_choice, check_scalar
from tunelab.searchers.base import Searcher
from tunelab.searchers.space import Real
from tunelab.searchers.trial import TrialState

_OTHER_SEARCHERS = ("use RandomSearch, GridSearch or BayesSearch (tunelab.searchers) for such hyperparameters, "
                    "or fix them and tune only the L2 strength `alpha` by its gradient")


# --------------------------------------------------------------------------------------------------
# the hypergradient at a fitted optimum
# --------------------------------------------------------------------------------------------------
def conjugate_gradient(matvec, b, rtol=1e-10, max_iter=None):
    """x with H x = b for a symmetric positive definite H given as matvec(p) -> H p; returns (x, n_iter).

    Stops when |H x - b| <= rtol |b|. Raises ConvergenceError on a direction of non-positive curvature
    p^T H p <= 0 (H not positive definite: the point is not a strict minimum of the training loss).
    Source: Nocedal & Wright, Numerical Optimization, algorithm 5.2.
    """
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros_like(b)
    r = b.copy()  # residual b - H x
    p = r.copy()
    rr = float(r @ r)
    stop = (rtol * math.sqrt(rr)) ** 2
    max_iter = 2 * b.shape[0] + 10 if max_iter is None else max_iter
    for it in range(max_iter):
        if rr <= stop:
            return x, it
        Hp = matvec(p)
        curvature = float(p @ Hp)
        if not curvature > 0.0:
            raise ConvergenceError(f"conjugate gradients met a direction of curvature {curvature:.3g} <= 0: "
                                   "the training Hessian is not positive definite at the fitted point.")
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
    v, n_iter = conjugate_gradient(matvec, grad_E, rtol=rtol)
    return E, -float(v @ penalty_grad), n_iter


# --------------------------------------------------------------------------------------------------
# the searcher
# --------------------------------------------------------------------------------------------------
class _Point:
    """One finished trial as the searcher sees it: u in [0, 1]^d, loss f, gradient df/du (None if failed)."""

    __slots__ = ("number", "u", "f", "g")

    def __init__(self, number, u, f, g):
        self.number, self.u, self.f, self.g = number, u, f, g


class HypergradientSearch(Searcher):
    """Minimise a smooth validation loss over real hyperparameters by its gradient, one trial per step.

    The objective keeps with each trial the derivative of its value in each dimension,
    `trial.set_attr("hypergradient", {name: d value / d x})`; when its value is not the quantity
    differentiated (e.g. accuracy), it also keeps that quantity, lower is better, as
    `trial.set_attr("hyperloss", f)` and then "hypergradient" is the gradient of f. `HypergradientCV`
    and `SearchCV` do this for the L2 strength `alpha` of tunelab's linear models and MLPs.

    method="line" (one dimension): a safeguarded line search on u, the dimension's unit coordinate
        (log alpha for Real(..., log=True)). From the best point so far it steps downhill, doubling the
        step (or taking the secant step where the gradient shrinks) until a point of higher loss
        brackets a minimum, then takes the minimiser of the cubic that matches both ends' values and
        slopes, kept at least 10% of the bracket from its ends (Nocedal & Wright, section 3.5).
    method="adam": Adam steps u <- u - lr m_hat / (sqrt(v_hat) + eps) on any number of real dimensions,
        projected onto [0, 1]^d (Kingma & Ba 2015); after a failed trial it steps halfway back to the best.

    The search stops (the study reports "exhausted") when the bracket is narrower than `xtol` in u or
    the loss it could still gain, |g| times the bracket (or, on a flattening slope, the distance to the
    bound), is below `ftol` |f|; or, for Adam, when two steps
    in a row are shorter than `xtol`. Steps are sequential: while a trial runs, `ask` proposes nothing.
    init : None (the middle of each range) or a params dict, the first point.
    step : the first step of the line search, as a fraction of the range.
    """

    def __init__(self, method="line", init=None, step=0.125, lr=0.1, xtol=1e-3, ftol=1e-4):
        self.method = method
        self.init = init
        self.step = step
        self.lr = lr
        self.xtol = xtol
        self.ftol = ftol

    def setup(self, space, seed):
        super().setup(space, seed)
        check_choice(self.method, "method", ("line", "adam"))
        check_scalar(self.step, "step", low=0.0, high=1.0, low_inclusive=False)
        check_scalar(self.lr, "lr", low=0.0, low_inclusive=False)
        check_scalar(self.xtol, "xtol", low=0.0, low_inclusive=False)
        check_scalar(self.ftol, "ftol", low=0.0)
        for name, dim in space.items():
            if not isinstance(dim, Real):
                raise ValueError(
                    f"HypergradientSearch follows the gradient of the validation loss, which exists only for real "
                    f"hyperparameters that enter the training loss smoothly; {name!r} is {dim!r}. Integers, "
                    f"choices and settings of the optimizer (learning rate, epochs) have none: {_OTHER_SEARCHERS}.")
        if self.method == "line" and len(space) != 1:
            raise ValueError(f"method='line' searches one dimension; the space has {len(space)} "
                             f"({', '.join(space.names)}). Use method='adam' for several.")
        self._u0 = np.full(len(space), 0.5) if self.init is None else space.encode(self.init)  # (d,)

    # ---- reading the history ---------------------------------------------------------------------

    def _points(self, history):
        """Finished trials as _Points, in trial order (lost trials left out)."""
        points = []
        for trial in history.trials:
            if trial.state is TrialState.FAILED and not trial.lost:
                points.append(_Point(trial.number, self.space.encode(trial.params), math.inf, None))
            elif trial.state is TrialState.COMPLETE:
                points.append(self._complete_point(trial, history))
        return points

    def _complete_point(self, trial, history):
        grad = trial.attrs.get("hypergradient")
        if not isinstance(grad, dict) or any(name not in grad for name in self.space.names):
            raise ValueError(
                f"trial {trial.number} has no gradient for {list(self.space.names)}: HypergradientSearch needs the "
                "objective to keep trial.set_attr('hypergradient', {name: d value / d x}). For tunelab's models use "
                "HypergradientCV(estimator, X, y) as the objective, or SearchCV(..., searcher=HypergradientSearch()).")
        if "hyperloss" in trial.attrs:
            f, sign = float(trial.attrs["hyperloss"]), 1.0
        else:
            f, sign = history.loss(trial), history.sign
        u = self.space.encode(trial.params)
        g = np.empty(len(self.space))  # df/du by the chain rule through the dimension's scale
        for j, (name, dim) in enumerate(self.space.items()):
            x = trial.params[name]
            dx_du = x * (dim._b - dim._a) if dim.log else dim.high - dim.low
            g[j] = sign * float(grad[name]) * dx_du
        return _Point(trial.number, u, f, g)

    # ---- proposing -------------------------------------------------------------------------------

    def ask(self, n, history):
        if n < 1 or history.running():
            return []
        points = self._points(history)
        if not points:
            return [self.space.decode(self._u0)]
        u = self._line_step(points) if self.method == "line" else self._adam_step(points)
        if u is None:
            return []
        return [self.space.decode(u)]

    def _best(self, points):
        finite = [p for p in points if p.g is not None and math.isfinite(p.f)]
        return min(finite, key=lambda p: (p.f, p.number)) if finite else None

    def _untried(self, points):
        """All trials failed: the next of 1/2, 1/4, 3/4, 1/8, ... (van der Corput) not tried yet."""
        tried = {round(float(p.u[0]), 12) for p in points}
        for k in range(1, 64):
            u, f, j = 0.0, 0.5, k
            while j:
                u, j, f = u + f * (j & 1), j >> 1, f / 2
            if round(u, 12) not in tried:
                return np.array([u])
        return None

    def _line_step(self, points):
        """The next u of the safeguarded line search in one dimension, or None when it has converged."""
        best = self._best(points)
        if best is None:
            return self._untried(points)
        ub, fb, gb = float(best.u[0]), best.f, float(best.g[0])
        if gb == 0.0:
            return None
        d = -1.0 if gb > 0 else 1.0  # downhill
        if (d > 0 and ub >= 1.0) or (d < 0 and ub <= 0.0):
            return None  # the minimum is at the bound
        ahead = [p for p in points if (float(p.u[0]) - ub) * d > 0]
        behind = [p for p in points if (ub - float(p.u[0])) * d > 0 and p.g is not None]
        if ahead:  # bracketed: [ub, un] holds a minimum
            near = min(ahead, key=lambda p: abs(float(p.u[0]) - ub))
            un = float(near.u[0])
            width = abs(un - ub)
            if width < self.xtol or abs(gb) * width <= self.ftol * abs(fb):
                return None
            t = _interpolate(fb, gb * d, near.f, None if near.g is None else float(near.g[0]) * d, width)
            return np.array([ub + d * width * t])
        # not bracketed: extrapolate downhill
        step = self.step
        if behind:
            prev = min(behind, key=lambda p: abs(float(p.u[0]) - ub))
            last = abs(ub - float(prev.u[0]))
            slope_prev, slope = float(prev.g[0]) * d, gb * d  # both < 0 when still going downhill
            if slope_prev < slope < 0.0:  # the slope flattens: the secant predicts where it vanishes
                room = 1.0 - ub if d > 0 else ub
                if -slope * room <= self.ftol * abs(fb):
                    return None  # a plateau: even the present slope all the way to the bound gains too little
                step = min(max(last * slope / (slope_prev - slope), 0.5 * last), 4.0 * last)
            else:
                step = 2.0 * last
        return np.array([min(max(ub + d * step, 0.0), 1.0)])

    def _adam_step(self, points, beta1=0.9, beta2=0.999, eps=1e-8):
        """Replay Adam over the trials in order; the next u, or None when the step is below xtol."""
        m = v = 0.0
        t = 0
        u_next = self._u0
        for point in points:
            if point.g is None:
                best = self._best(points[:points.index(point)])
                u_next = 0.5 * (point.u + (best.u if best is not None else self._u0))
                continue
            t += 1
            m = beta1 * m + (1 - beta1) * point.g
            v = beta2 * v + (1 - beta2) * point.g ** 2
            m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
            u_next = np.clip(point.u - self.lr * m_hat / (np.sqrt(v_hat) + eps), 0.0, 1.0)
        steps = [np.max(np.abs(u_next - points[-1].u))]
        if len(points) > 1:
            steps.append(np.max(np.abs(points[-1].u - points[-2].u)))
        if len(steps) == 2 and max(steps) < self.xtol:
            return None  # two steps in a row shorter than xtol
        return u_next


def _interpolate(f0, g0, f1, g1, width):
    """Where in (0, 1) to try next in a bracket [0, 1] (scaled by width) with f(0) = f0, f'(0) = g0 < 0 and
    f(1) = f1 >= f0 (and f'(1) = g1 if known): the cubic (or, without g1, quadratic) interpolant's minimiser,
    kept inside [0.1, 0.9]; the midpoint if the model has none there."""
    s0 = g0 * width  # slopes in the bracket coordinate t = (u - u0) / width
    if not math.isfinite(f1):
        t = 0.5
    elif g1 is None:
        curvature = f1 - f0 - s0  # q(t) = f0 + s0 t + curvature t^2
        t = -s0 / (2.0 * curvature) if curvature > 0 else 0.5
    else:
        s1 = g1 * width  # Hermite cubic; minimiser by Nocedal & Wright (3.59)
        d1 = s0 + s1 + 3.0 * (f0 - f1)
        disc = d1 * d1 - s0 * s1
        if disc < 0:
            t = 0.5
        else:
            d2 = math.sqrt(disc)
            denom = s1 - s0 + 2.0 * d2
            t = 1.0 - (s1 + d2 - d1) / denom if denom != 0 else 0.5
    if not math.isfinite(t):
        t = 0.5
    return min(max(t, 0.1), 0.9)
