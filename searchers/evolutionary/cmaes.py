"""CMA-ES: the (mu/mu_w, lambda) covariance matrix adaptation evolution strategy, in the unit cube.

Hansen, "The CMA Evolution Strategy: A Tutorial" (2016), written as in pycma's purecma.py: the static
settings of a run (`Settings`: population size, weights, learning rates) apart from its evolving
state (`CMAState`: mean, step size, covariance, paths). One generation, with y_k = B D z_k ~ N(0, C):

    x_k    = m + sigma y_k,  z_k ~ N(0, I),  k = 1..lambda         sample
    y_w    = sum_{i<=mu} w_i y_i:lambda                               the mu best, weighted
    m     <- m + sigma y_w
    p_s   <- (1 - c_s) p_s + sqrt(c_s (2 - c_s) mu_eff) C^-1/2 y_w    cumulative step-size adaptation
    p_c   <- (1 - c_c) p_c + h_s sqrt(c_c (2 - c_c) mu_eff) y_w
    C     <- (1 - c_1 - c_mu sum_j w_j + (1 - h_s) c_1 c_c (2 - c_c)) C
             + c_1 p_c p_c^T + c_mu sum_i w°_i y_i:lambda y_i:lambda^T         rank one + rank mu
    sigma <- sigma exp(c_s / d_s (|p_s| / E|N(0, I)| - 1))

with the tutorial's default weights: positive for the mu best, negative for the others (active CMA;
w°_i = w_i n / |C^-1/2 y_i|^2 for a negative weight).

Bounds: a real dimension is evaluated at the reflection of x into [0, 1] (u = 1 - |1 - (x mod 2)|,
the identity inside the cube). The updates use the unreflected x, so the distribution adapts as if
unbounded.

Integer dimensions keep a margin (Hamano, Saito, Nomura & Shirakawa 2022, "CMA-ES with margin"):
integer dimension j is evaluated at u_j = m_j + A_j (x_j - m_j), clipped into [0, 1] and rounded to
its value by the `Space`; after each update, m_j and the scale A_j (1 at first) are corrected so
that u_j leaves the integer value of m_j, towards each neighbouring value, with probability at least
alpha / 2 (alpha = 1 / (n lambda)), so integer dimensions never freeze.

Restarts (IPOP, Auger & Hansen 2005): when a run meets a termination criterion of the tutorial
(tolfun, tolx, noeffectaxis, noeffectcoord, conditioncov, stagnation, tolupsigma), a new run starts
from a uniform random point with the population multiplied by `popsize_factor`.

Conditional spaces fall back as Optuna's CmaEsSampler does outside its intersection search space: the
strategy evolves the real and integer dimensions that every trial has (the unconditional ones), and the
others (the choices that open sub-spaces, the dimensions under them, any other categorical) are drawn
independently and uniformly for each trial, from the stream `self.rng(2, generation)`, as Optuna's
independent sampler does; `Space.decode` then keeps the active ones. In a define-by-run study, every real
and integer name known when a generation is bred is evolved (a trial that did not suggest a name ignores
its coordinate, which is kept, as the genetic algorithm keeps inactive genes) and categorical names are
drawn independently; when names appear, the state is replayed on the grown space, earlier trials entering
as injected points. With nothing to evolve, every trial is drawn independently.
"""

import math
import numbers
from statistics import NormalDist

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.evolutionary.generational import Generation, GenerationalSearcher, ran_proposal
from tunelab.searchers.space import Categorical

_NORMAL = NormalDist()


class Settings:
    """The static settings of a run with population lam in n dimensions (Hansen 2016, Table 1 and (50)-(53)).

    Weights w_i (lam,), best first: w'_i = ln((lam + 1)/2) - ln i; the positive ones (i <= mu) scaled
    to sum to 1, the negative ones (active CMA) to sum to -min(alpha_mu^-, alpha_mueff^-, alpha_posdef^-).
    """

    def __init__(self, n, lam):
        self.n, self.lam = n, lam
        self.mu = lam // 2
        w = math.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))  # (lam,)
        positive, negative = w[w > 0], w[w < 0]
        self.mueff = positive.sum() ** 2 / np.sum(positive**2)  # variance effective selection mass
        mueff_minus = negative.sum() ** 2 / np.sum(negative**2) if negative.size else 0.0
        self.cc = (4 + self.mueff / n) / (n + 4 + 2 * self.mueff / n)  # time constant of p_c
        self.cs = (self.mueff + 2) / (n + self.mueff + 5)  # time constant of p_s
        self.c1 = 2 / ((n + 1.3) ** 2 + self.mueff)  # rank-one learning rate
        self.cmu = min(1 - self.c1, 2 * (self.mueff - 2 + 1 / self.mueff) / ((n + 2) ** 2 + self.mueff))  # rank-mu
        self.damps = 1 + 2 * max(0.0, math.sqrt((self.mueff - 1) / (n + 1)) - 1) + self.cs  # damping of sigma
        alpha_minus = min(1 + self.c1 / self.cmu, 1 + 2 * mueff_minus / (self.mueff + 2),
                          (1 - self.c1 - self.cmu) / (n * self.cmu))
        self.weights = np.where(w >= 0, w / positive.sum(), alpha_minus * w / max(-negative.sum(), 1e-300))  # (lam,)
        self.w = self.weights[:self.mu]  # (mu,) the recombination weights of the mean, summing to 1
        self.chiN = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))  # E|N(0, I)|
        self.alpha = 1.0 / (n * lam)  # margin: least probability of leaving an integer value
        self.c_y = math.sqrt(n) + 2 * n / (n + 2)  # longest Mahalanobis step of an injected point


class CMAState:
    """The evolving state of run `restart` after `g` generations: m (n,), sigma, C (n, n) = B diag(D^2) B^T,
    paths p_c and p_s (n,), margin scales A (n,), histories of the best and median loss per generation,
    `stop`: the termination criteria met (then the next generation starts a new run). The run began
    at generation `first_generation`, trial `first_trial`; `runs` holds a dict per finished run
    (first_generation, first_trial, popsize, stop)."""

    def __init__(self, settings, m, sigma, restart=0, runs=(), first_generation=0, first_trial=0):
        n = settings.n
        self.settings, self.restart, self.runs = settings, restart, list(runs)
        self.first_generation, self.first_trial = first_generation, first_trial
        self.g = 0
        self.m = np.array(m, dtype=np.float64)  # (n,)
        self.sigma = float(sigma)
        self.C, self.B, self.D = np.eye(n), np.eye(n), np.ones(n)  # (n, n), (n, n), (n,)
        self.pc, self.ps = np.zeros(n), np.zeros(n)  # (n,)
        self.A = np.ones(n)  # (n,)
        self.best, self.median = [], []
        self.stop = ()
        self.finished = False


def reflect(X):
    """The point of [0, 1] that x folds onto when reflected at 0 and 1 (a triangle wave of period 2;
    exactly x inside [0, 1])."""
    return np.where((X >= 0.0) & (X <= 1.0), X, 1.0 - np.abs(1.0 - np.mod(X, 2.0)))


class CMAES(GenerationalSearcher):
    """CMA-ES with IPOP restarts for spaces of real and integer dimensions (see the module docstring).

    sigma0 : the initial step size in the unit cube (each dimension has length 1).
    popsize : lambda of the first run; default 4 + floor(3 ln n). Each generation is lambda trials,
        so popsize >= n_jobs keeps every worker busy.
    start : "center" (the middle of the space), "random" (a uniform point), or a params dict.
    popsize_factor : population multiplier at each restart (IPOP); max_restarts : None for no limit
        (after the last run the search ends).
    margin : alpha of the integer margin; default 1 / (n lambda); 0 switches it off.
    tolfun, tolx : the termination tolerances on the losses and on the step (unit-cube lengths).

    A flat space with a categorical dimension is refused: use `EvolutionSearch` for it. In a conditional
    or define-by-run space, the categorical and conditional dimensions are drawn independently (see the
    module docstring). Failed and pruned trials count as the worst fitness. Points in the history that
    this searcher did not propose are used as injected solutions, their step clipped to Mahalanobis
    length sqrt(n) + 2n/(n+2) (Hansen 2011, "Injecting external solutions into CMA-ES").
    """

    def __init__(self, sigma0=0.15, popsize=None, start="center", popsize_factor=2, max_restarts=None,
                 margin=None, tolfun=1e-11, tolx=1e-11):
        self.sigma0 = sigma0
        self.popsize = popsize
        self.start = start
        self.popsize_factor = popsize_factor
        self.max_restarts = max_restarts
        self.margin = margin
        self.tolfun = tolfun
        self.tolx = tolx

    def setup(self, space, seed):
        categorical = [name for name, dim in space.items() if isinstance(dim, Categorical)]
        if categorical and not space.is_conditional and not space.define_by_run:
            raise ValueError(
                f"CMAES searches real and integer dimensions; {categorical} are categorical. Use EvolutionSearch "
                "for spaces with categorical dimensions (or an Integer dimension if the choices are ordered).")
        super().setup(space, seed)
        # the evolved dimensions: real and integer ones that every trial has; the others are drawn independently
        self._evolved = np.array([j for j, (name, dim) in enumerate(space.items())
                                  if not isinstance(dim, Categorical) and space.condition(name) is None],
                                 dtype=np.int64)
        n = len(self._evolved)
        check_scalar(self.sigma0, "sigma0", low=0.0, low_inclusive=False)
        check_scalar(self.popsize, "popsize", numbers.Integral, low=2, allow_none=True)
        check_scalar(self.popsize_factor, "popsize_factor", low=1.0)
        check_scalar(self.max_restarts, "max_restarts", numbers.Integral, low=0, allow_none=True)
        check_scalar(self.margin, "margin", low=0.0, high=0.5, high_inclusive=False, allow_none=True)
        check_scalar(self.tolfun, "tolfun", low=0.0)
        check_scalar(self.tolx, "tolx", low=0.0)
        if isinstance(self.start, dict):
            space.validate(self.start, who="`start`")
        elif self.start not in ("center", "random"):
            raise ValueError(f"`start` must be 'center', 'random' or a params dict; got {self.start!r}.")
        self._lam0 = self.popsize or 4 + int(3 * math.log(max(n, 1)))
        dims = [space.dims[j] for j in self._evolved]
        self._integer = np.array([dim.n_values is not None for dim in dims], dtype=bool)  # (n,) integers, steps
        # unit-cube points between consecutive values of each discrete dimension, increasing: (m - 1,)
        self._thresholds = {i: dim.cell_edges()[1:-1] for i, dim in enumerate(dims) if dim.n_values is not None}

    # ---- runs -------------------------------------------------------------------------------------

    def _new_run(self, restart, runs=(), first_generation=0, first_trial=0):
        """The state of run `restart`: population lambda_0 factor^restart, from the start point (run 0) or a
        uniform random one."""
        n = len(self._evolved)
        lam = int(round(self._lam0 * self.popsize_factor**restart))
        if restart == 0 and isinstance(self.start, dict):
            m = self.space.encode(self.start)[self._evolved]
        elif restart == 0 and self.start == "center":
            m = np.full(n, 0.5)
        else:
            m = self.rng(1, restart).random(n)
        return CMAState(Settings(n, lam), m, self.sigma0, restart, runs, first_generation, first_trial)

    def _initial_state(self):
        return self._new_run(0) if len(self._evolved) else None  # None: nothing to evolve

    def _points(self, U_evolved, index):
        """Full unit-cube points (lam, d): the evolved coordinates U_evolved (lam, n), the others drawn
        independently and uniformly from rng(2, index)."""
        d = len(self.space)
        if len(self._evolved) == d:
            return U_evolved
        U = self.rng(2, index).random((U_evolved.shape[0], d))  # (lam, d)
        U[:, self._evolved] = U_evolved
        return U

    def _breed(self, state, index, start):
        if state is None:  # every dimension is drawn independently
            U = self._points(np.empty((self._lam0, 0)), index)  # (lam, d)
            return Generation(index, start, [self.space.decode(u) for u in U])
        if state.finished:
            return None
        s = state.settings
        Z = self.rng(0, index).standard_normal((s.lam, s.n))  # (lam, n)
        X = state.m + state.sigma * (Z @ (state.B * state.D).T)  # (lam, n) genotypes
        U = np.where(self._integer, np.clip(state.m + state.A * (X - state.m), 0.0, 1.0), reflect(X))  # (lam, n)
        return Generation(index, start, [self.space.decode(u) for u in self._points(U, index)], X)

    def _select(self, state, generation, trials, losses):
        if state is None:
            return None
        X = generation.extra.copy()  # (lam, n)
        for k, (trial, proposed) in enumerate(zip(trials, generation.params)):
            if not ran_proposal(trial, proposed):
                X[k] = self._inject(state, self.space.encode(trial.params)[self._evolved])
        state = self._update(state, X, losses)
        state.stop = self._stop_reasons(state, losses)
        if not state.stop:
            return state
        runs = state.runs + [{"first_generation": state.first_generation, "first_trial": state.first_trial,
                              "popsize": state.settings.lam, "stop": state.stop}]
        if self.max_restarts is not None and state.restart >= self.max_restarts:
            state.runs, state.finished = runs, True
            return state
        return self._new_run(state.restart + 1, runs, generation.index + 1, generation.end)

    def _inject(self, state, u):
        """The genotype of a point u of the cube proposed by someone else, its step clipped (Hansen 2011)."""
        x = u.copy()
        real = ~self._integer
        # among the genotypes that reflect onto u (u + 2k, -u + 2k), the nearest to the mean
        k = np.round((state.m - u) / 2.0)
        k_mirror = np.round((state.m + u) / 2.0)
        near, mirror = u + 2 * k, -u + 2 * k_mirror
        x[real] = np.where(np.abs(near - state.m) <= np.abs(mirror - state.m), near, mirror)[real]
        x[~real] = (state.m + (u - state.m) / state.A)[~real]  # u_j = m_j + A_j (x_j - m_j)
        y = (x - state.m) / state.sigma  # (n,)
        length = np.linalg.norm(state.B.T @ y / state.D)  # |C^-1/2 y|
        if length > state.settings.c_y:
            y *= state.settings.c_y / length
        return state.m + state.sigma * y

    # ---- one generation ---------------------------------------------------------------------------

    def _update(self, state, X, losses):
        """Tell the losses (lam,) of the genotypes X (lam, n): the update rules of the module docstring."""
        s, st = state.settings, state
        order = np.argsort(losses, kind="stable")
        Y = (X[order] - st.m) / st.sigma  # (lam, n) the steps, best first
        y_w = s.w @ Y[:s.mu]  # (n,)
        st.g += 1
        st.m = st.m + st.sigma * y_w
        invsqrtC_Y = ((Y @ st.B) / st.D) @ st.B.T  # (lam, n) rows C^-1/2 y_i
        invsqrtC_y_w = s.w @ invsqrtC_Y[:s.mu]  # (n,)
        st.ps = (1 - s.cs) * st.ps + math.sqrt(s.cs * (2 - s.cs) * s.mueff) * invsqrtC_y_w
        ps_norm = np.linalg.norm(st.ps)
        h_s = ps_norm / math.sqrt(1 - (1 - s.cs) ** (2 * st.g)) / s.chiN < 1.4 + 2 / (s.n + 1)
        st.pc = (1 - s.cc) * st.pc + h_s * math.sqrt(s.cc * (2 - s.cc) * s.mueff) * y_w
        # negative weights act on steps rescaled to Mahalanobis length sqrt(n) (Hansen 2016, (46))
        w_o = np.where(s.weights >= 0, s.weights, s.weights * s.n / np.maximum(np.sum(invsqrtC_Y**2, axis=1), 1e-300))
        C = (1 - s.c1 - s.cmu * s.weights.sum() + (1 - h_s) * s.c1 * s.cc * (2 - s.cc)) * st.C
        C += s.c1 * np.outer(st.pc, st.pc) + s.cmu * (Y.T * w_o) @ Y
        st.C = (C + C.T) / 2
        st.sigma *= math.exp(min(1.0, s.cs / s.damps * (ps_norm / s.chiN - 1)))
        if losses[order[0]] == losses[order[int(math.ceil(0.7 * s.lam)) - 1]]:  # flat fitness: step out
            st.sigma *= math.exp(0.2 + s.cs / s.damps)
        eigenvalues, st.B = np.linalg.eigh(st.C)
        st.D = np.sqrt(np.maximum(eigenvalues, 1e-300))
        self._keep_margin(st)
        finite = losses[np.isfinite(losses)]
        st.best.append(finite.min() if finite.size else np.inf)
        st.median.append(float(np.median(losses)))
        return st

    def _keep_margin(self, st):
        """Correct m_j and A_j of each integer dimension j (Hamano et al. 2022, the margin correction)."""
        alpha = st.settings.alpha if self.margin is None else self.margin
        if alpha <= 0:
            return
        for j, t in self._thresholds.items():
            m, sd = st.m[j], st.sigma * math.sqrt(st.C[j, j])  # u_j ~ N(m, (sd A_j)^2)
            scale = sd * st.A[j]
            k = int(np.searchsorted(t, m))  # m lies between t[k-1] and t[k]
            if k == 0 or k == len(t):  # lowest or highest value: one neighbour, at threshold th
                th = t[0] if k == 0 else t[-1]
                if _NORMAL.cdf(-abs(m - th) / scale) < alpha:  # move m so that P(cross th) = alpha
                    st.m[j] = th + math.copysign(scale * _NORMAL.inv_cdf(1 - alpha), m - th)
                continue
            low, up = t[k - 1], t[k]
            p_low, p_up = _NORMAL.cdf((low - m) / scale), _NORMAL.cdf((m - up) / scale)
            if min(p_low, p_up) >= alpha / 2:
                continue
            p_mid = 1 - p_low - p_up
            p_low, p_up = max(p_low, alpha / 2), max(p_up, alpha / 2)
            excess = p_low + p_mid + p_up - 1  # taken from each part in proportion to its mass above alpha/2
            denom = p_low + p_mid + p_up - 1.5 * alpha
            p_low = min(max(p_low - excess * (p_low - alpha / 2) / denom, 1e-10), 0.5 - 1e-10)
            p_up = min(max(p_up - excess * (p_up - alpha / 2) / denom, 1e-10), 0.5 - 1e-10)
            z_low, z_up = _NORMAL.inv_cdf(1 - p_low), _NORMAL.inv_cdf(1 - p_up)  # (m - low), (up - m) in sd
            st.A[j] = (up - low) / ((z_low + z_up) * sd)
            st.m[j] = (low * z_up + up * z_low) / (z_low + z_up)

    def _stop_reasons(self, st, losses):
        """The termination criteria of Hansen (2016, appendix B.3) that the run now meets."""
        s, reasons = st.settings, []
        window = 10 + int(math.ceil(30 * s.n / s.lam))
        if st.g >= window and np.all(np.isfinite(losses)):
            recent = np.concatenate([st.best[-window:], losses])
            if recent.max() - recent.min() < self.tolfun:
                reasons.append("tolfun")
        real = ~self._integer
        spread = st.sigma * np.maximum(np.abs(st.pc), np.sqrt(np.diag(st.C)))  # (n,)
        if real.any() and np.all(spread[real] < self.tolx):
            reasons.append("tolx")
        if st.D.max() > 1e7 * st.D.min():
            reasons.append("conditioncov")
        i = st.g % s.n
        if np.all(st.m == st.m + 0.1 * st.sigma * st.D[i] * st.B[:, i]):
            reasons.append("noeffectaxis")
        if np.any(st.m == st.m + 0.2 * st.sigma * np.sqrt(np.diag(st.C))):
            reasons.append("noeffectcoord")
        stagnation = int(min(20000, max(120 + 30 * s.n / s.lam, 0.2 * st.g)))
        if st.g >= stagnation:
            k = int(math.ceil(0.3 * stagnation))
            best, median = st.best[-stagnation:], st.median[-stagnation:]
            if (np.median(best[-k:]) >= np.median(best[:k]) and np.median(median[-k:]) >= np.median(median[:k])):
                reasons.append("stagnation")
        if st.sigma * st.D.max() > 1e20 * self.sigma0:
            reasons.append("tolupsigma")
        return tuple(reasons)
