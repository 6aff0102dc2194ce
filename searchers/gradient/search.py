"""HypergradientSearch: a searcher that descends a smooth validation loss along its hypergradient.

Each outer step is one trial. The searcher reads the gradient that the objective keeps with the trial
(`trial.set_attr("hypergradient", {name: d value/d x})`) and steps by a safeguarded line search in one
dimension (Nocedal & Wright, Numerical Optimization, section 3.5; More & Thuente 1994) or by Adam in
several (Kingma & Ba 2015). `HypergradientCV` (tunelab.searchers.gradient.cv) computes that gradient for
tunelab's models by cross-validation, and `SearchCV(..., searcher=HypergradientSearch())` uses it.
"""

import math

import numpy as np

from tunelab.optimizers.validation import check_choice, check_scalar
from tunelab.searchers.base import Searcher
from tunelab.searchers.gradient.cv import _OTHER_SEARCHERS, HypergradientCV, check_differentiable
from tunelab.searchers.space import Real
from tunelab.searchers.trial import TrialState


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
    Conditional spaces and define-by-run studies are refused: a gradient step needs every dimension in
    every trial, declared before the first.
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
        if space.is_conditional or space.define_by_run:
            what = "has dimensions that exist only under a choice" if space.is_conditional else "is defined by run"
            raise ValueError(
                f"HypergradientSearch steps along the gradient of every dimension at once, and this space {what}. "
                "Declare a flat space of real dimensions (e.g. {'alpha': Real(1e-6, 10.0, log=True)}), or search this "
                "one with RandomSearch, BayesSearch or EvolutionSearch.")
        for name, dim in space.items():
            if not isinstance(dim, Real) or dim.n_values is not None:
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
