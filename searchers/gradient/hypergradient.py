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
`HypergradientCV` computes it for tunelab's linear models and MLPs by cross-validation, and
`SearchCV(..., searcher=HypergradientSearch())` uses it.
"""

import math
import time

import numpy as np

from tunelab.core import _linear_kernels as lk
from tunelab.core.base import clone, is_classifier
from tunelab.core.linear_model import _EpochTrainedModel
from tunelab.core.metrics import check_scoring
from tunelab.core.model_selection import check_cv
from tunelab.optimizers import minimize
from tunelab.optimizers.validation import ConvergenceError, check_choice, check_scalar
from tunelab.searchers.base import Searcher
from tunelab.searchers.space import Real
from tunelab.searchers.trial import TrialState, set_cv_attrs

_OTHER_SEARCHERS = ("use RandomSearch, GridSearch or BayesSearch (tunelab.searchers) for such hyperparameters, "
                    "or fix them and tune only the L2 strength `alpha` by its gradient")


# --------------------------------------------------------------------------------------------------
# the hypergradient at a fitted optimum
# --------------------------------------------------------------------------------------------------
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
        step (or, where the slope flattens, taking the secant step to a zero slope, within 0.5 to 4 times
        the last step, or 2 to 4 times while the loss still halves at each step) until a point of higher loss
        brackets a minimum, then takes the minimiser of the cubic that matches both ends' values and
        slopes, kept at least 10% of the bracket from its ends (Nocedal & Wright, section 3.5); it bisects
        when two steps in a row did not halve the bracket.
    method="adam": Adam steps u <- u - lr m_hat / (sqrt(v_hat) + eps) on any number of real dimensions,
        projected onto [0, 1]^d (Kingma & Ba 2015); after a failed trial it steps halfway back to the best.

    The search stops (the study reports "exhausted") when the bracket is narrower than `xtol` in u or
    the loss it could still gain, |g| times the bracket (or, on a flattening slope, the distance to the
    bound), is below `ftol` |f|; or, for Adam, when two steps in a row are shorter than `xtol`.
    Steps are sequential: while a trial runs, `ask` proposes nothing, so extra workers stay idle.
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

    def cv_objective(self, estimator, X, y, splits, scoring):
        """The objective SearchCV runs with this searcher: HypergradientCV on the given folds."""
        check_differentiable(estimator, list(self.space.names))
        return HypergradientCV(estimator, X, y, cv=splits, scoring=scoring)

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
            dx_du = x * math.log(dim.high / dim.low) if dim.log else dim.high - dim.low
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
            since = [abs(float(p.u[0]) - un) for p in points if p.number > near.number]  # tried since un
            if len(since) >= 2 and width > 0.5 * since[-2]:
                t = 0.5  # the bracket shrinks from one side only: bisect (More & Thuente 1994)
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
                secant = last * slope / (slope_prev - slope)
                shortest = 2.0 * last if fb < 0.5 * prev.f else 0.5 * last  # far while the loss still halves
                step = min(max(secant, shortest), 4.0 * last)
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


# --------------------------------------------------------------------------------------------------
# the objective for tunelab's models
# --------------------------------------------------------------------------------------------------
def _exact_hvp(kernel):
    return {lk.squared_loss_grad: lk.squared_hvp, lk.logistic_loss_grad: lk.logistic_hvp,
            lk.softmax_loss_grad: lk.softmax_hvp}.get(kernel)


def check_differentiable(estimator, names):
    """Raise a ValueError unless `names` is ["alpha"] and `estimator` is a model of tunelab.core trained on
    a kernel (LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor)."""
    if not isinstance(estimator, _EpochTrainedModel):
        raise ValueError(f"HypergradientSearch differentiates through the training loss of tunelab's LinearRegression, "
                         f"LogisticRegression, MLPClassifier and MLPRegressor; got {type(estimator).__name__}. "
                         f"For other estimators, use RandomSearch, GridSearch or BayesSearch.")
    other = [name for name in names if name != "alpha"]
    if other:
        raise ValueError(f"HypergradientSearch differentiates the validation loss in the L2 strength `alpha` only; "
                         f"{other} {'does' if len(other) == 1 else 'do'} not enter the fitted optimum smoothly "
                         f"(integers, choices, learning rates, epochs): {_OTHER_SEARCHERS}.")


class HypergradientCV:
    """objective(trial) for HypergradientSearch: the mean cross-validated score of `estimator` with
    trial.params["alpha"], keeping the mean validation loss as "hyperloss" and its derivative in alpha
    as "hypergradient" (the mean of the per-fold hypergradients, which are summed as in Pedregosa 2016).

    Each fold's model is fitted once by its own `fit`, then warm-started: the next trial sets the new alpha
    and continues from the last weights. Newton steps (L-BFGS for the MLP) then bring the weights to the
    optimum (max|gradient| <= gtol), where implicit differentiation holds; the hypergradient uses the
    kernel's exact Hessian-vector products (linear models) or finite differences of its gradient (MLP,
    which must then sit at a strict local minimum: a Hessian with negative curvature fails the trial).
    The validation loss is the model's own training loss without penalty: half the mean squared error,
    or the mean log-loss. The per-fold scores, fit and score times are kept as SearchCV reads them.
    """

    def __init__(self, estimator, X, y, cv=5, scoring=None, gtol=1e-9):
        check_differentiable(estimator, ["alpha"])
        self.estimator, self.gtol = estimator, gtol
        self.X = np.ascontiguousarray(X, dtype=np.float64)  # (n, d)
        self.y = np.asarray(y)
        self.splits = [(np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)) for tr, te in
                       check_cv(cv, self.y, classifier=is_classifier(estimator)).split(self.X, self.y)]
        self.scorer = check_scoring(estimator, scoring)
        self._models = [None] * len(self.splits)  # the warm-started model of each fold

    def _fold(self, k, alpha):
        """(score, validation loss, dE/d log alpha, fit seconds, score seconds) of fold k."""
        train, test = self.splits[k]
        start = time.perf_counter()
        model = self._models[k]
        if model is None:
            model = clone(self.estimator).set_params(alpha=alpha)
            model.fit(self.X[train], self.y[train])
            self._models[k] = model
        model.set_params(alpha=alpha)
        kernel, spec = model._kernel(), model._spec
        hvp = _exact_hvp(kernel)
        Y = model._targets(self.y)  # (n, k) for the kernel, every row
        theta = polish(kernel, hvp, model._theta, self.X, Y, train, alpha, spec, gtol=self.gtol)
        model._theta = theta
        model._publish(theta)
        fit_time = time.perf_counter() - start
        E, dE, _ = implicit_hypergradient(kernel, hvp, theta, self.X, Y, train, test, alpha, spec)
        start = time.perf_counter()
        score = float(self.scorer(model, self.X[test], self.y[test]))
        return score, E, dE, fit_time, time.perf_counter() - start

    def __call__(self, trial):
        check_differentiable(self.estimator, list(trial.params))
        alpha = float(trial.params["alpha"])
        if not alpha > 0:
            raise ValueError(f"`alpha` must be > 0 for a gradient in log(alpha); got {alpha!r}.")
        folds = [self._fold(k, alpha) for k in range(len(self.splits))]
        scores, E, dE, fit_times, score_times = (list(column) for column in zip(*folds))
        trial.set_attr("hyperloss", float(np.mean(E)))
        trial.set_attr("hypergradient", {"alpha": float(np.mean(dE)) / alpha})
        set_cv_attrs(trial, scores, fit_times, score_times)
        return float(np.mean(scores))
