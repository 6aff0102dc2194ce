"""Bayesian optimisation: a Gaussian process fitted to the finished trials chooses the next ones.

    trials 0 .. n_initial-1       a scrambled Sobol design (RandomSearch(sampler="sobol"))
    then, for each new trial      y <- standardised losses; GP with hyperparameters fitted every few
                                  trials; u <- argmax acquisition(mu(u), sigma(u)); params <- decode(u)

The acquisition (log-EI by default) is maximised over 1024 scrambled Sobol points, then L-BFGS refines
the best of them, the best trial and 8 points drawn by roulette wheel, in the box; a last pass moves
each integer and categorical dimension of the winner to its best value with the others fixed.

Mixed spaces (Garrido-Merchan & Hernandez-Lobato 2020): the model's input transform (features.py)
rounds each integer dimension to its value and one-hot encodes each categorical one, so the GP only
ever sees points that the space can hold; the acquisition is flat in between.

Conditional spaces: one GP over all the dimensions, in the embedding of features.py where an inactive
dimension takes a fixed value (the centre of its range; no choice for a categorical), so trials of every
branch inform one model, the one-hot of the choice tells branches apart, and the acquisition, maximised
over the whole cube, is flat along the coordinates a point does not use (its proposal is decoded as a
tree). In a define-by-run study the model covers the names known when the trial is asked, a name a trial
did not suggest taking the same fixed value; a name new to the study is drawn independently.

Batches (Ginsbourger, Le Riche & Carraro, "Kriging is well-suited to parallelize optimization", 2010):
running trials and the points already chosen in the same `ask` enter the model with a fantasised loss,
the posterior mean ("kriging_believer") or a constant ("constant_liar_min" / "_mean" / "_max" of the
observed losses), so that parallel workers get different points.

The proposals are a function of (hyperparameters, space, seed, history) only: the GP hyperparameters
are fitted at "refit points" m_r of the number of finished trials (every trial up to 40, then about
every m/20), on the first m_r finished trials from starts drawn from a generator keyed by m_r; the
Cholesky factor is computed afresh there and extended by one bordered row per later trial, in O(n^2).
A cache keeps the last factor and is used only when the history extends the one it was built from.
"""

import math
import numbers

import numpy as np

from tunelab.optimizers.validation import check_choice, check_scalar
from tunelab.searchers.sampling import lowdiscrepancy as qmc
from tunelab.searchers.bayes.gp import KERNELS, GPFactor, GPPosterior, Prior, fit_hyperparameters
from tunelab.searchers.bayes.acquisition import ACQUISITIONS, acquisition, maximize
from tunelab.searchers.bayes.features import FeatureMap
from tunelab.searchers.trial import TrialState
from tunelab.searchers.base import Searcher
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Categorical

BATCH_STRATEGIES = ("kriging_believer", "constant_liar_min", "constant_liar_mean", "constant_liar_max")
_FIT_KEY, _ACQ_KEY = 101, 102  # generator keys (the initial design uses RandomSearch's own keys)
_N_REFINE = 10  # points refined by L-BFGS per proposal: the best candidate, the best trial, 8 drawn
_ACQ_MAX_ITER = 40  # L-BFGS iterations of that refinement
_PRIOR = Prior()


class _Model:
    """The GP posterior of one `ask`: observed trials plus fantasies for running and just-chosen points."""

    def __init__(self, searcher, factor, y_std):
        self.searcher, self.factor, self.y = searcher, factor, y_std
        self.n_observed = y_std.shape[0]
        self.posterior = GPPosterior(factor, y_std)

    def add_fantasy(self, U):
        """Condition on points U (r, d) with the batch strategy's loss, one after the other."""
        strategy = self.searcher.batch_strategy
        observed = self.y[:self.n_observed]
        for u in np.atleast_2d(U):
            x = self.searcher._features(u)  # (1, p)
            if strategy == "kriging_believer":
                lie = float(self.posterior.predict(x)[0][0])
            else:
                lie = {"constant_liar_min": observed.min, "constant_liar_mean": observed.mean,
                       "constant_liar_max": observed.max}[strategy]()
            self.factor = self.factor.copy().extend(x[0])
            self.y = np.append(self.y, lie)
            self.posterior = GPPosterior(self.factor, self.y)

    def f_best(self):
        """The incumbent of EI and PI: the least posterior mean at the observed and fantasised points."""
        return float(self.posterior.train_mean().min())


class BayesSearch(Searcher):
    """Gaussian-process Bayesian optimisation, for small budgets (tens to a few hundred trials).

    Parameters
    ----------
    n_initial : trials drawn from the initial design before the model takes over (default 10).
    acquisition : "log_ei" (default, expected improvement in a stable log form), "ei", "pi" or "ucb".
    kernel : "matern52" (default, ARD) or "rbf" (ARD).
    kappa : the width of "ucb", mu - kappa sigma (default 2).
    batch_strategy : how running trials and points chosen in one `ask(n)` enter the model:
        "kriging_believer" (default), "constant_liar_min", "constant_liar_mean" or "constant_liar_max".
    initial_design : "sobol" (default), "lhs" or "uniform" (see RandomSearch); "lhs" is a Latin hypercube
        of the n_initial points. On Hartmann6 "lhs" left fewer seeds in a local minimum at 50 trials (7 of 30
        against 12 of 30), on Branin it was worse at 25 trials (median regret 0.025 against 0.0086, 30 seeds).
    n_candidates : scrambled Sobol points scored per proposal before a few are refined by L-BFGS
        (default 1024); a discrete space with at most that many points is scored whole.
    refit_every : refit the GP hyperparameters every this many finished trials; None (default) refits
        after every trial up to 40, then about every m/20 trials (m finished trials).
    """

    def __init__(self, n_initial=10, acquisition="log_ei", kernel="matern52", kappa=2.0,
                 batch_strategy="kriging_believer", initial_design="sobol", n_candidates=1024, refit_every=None):
        self.n_initial = n_initial
        self.acquisition = acquisition
        self.kernel = kernel
        self.kappa = kappa
        self.batch_strategy = batch_strategy
        self.initial_design = initial_design
        self.n_candidates = n_candidates
        self.refit_every = refit_every

    def setup(self, space, seed):
        super().setup(space, seed)
        check_scalar(self.n_initial, "n_initial", numbers.Integral, low=0)
        check_choice(self.acquisition, "acquisition", tuple(ACQUISITIONS))
        check_choice(self.kernel, "kernel", KERNELS)
        check_scalar(self.kappa, "kappa", low=0.0)
        check_choice(self.batch_strategy, "batch_strategy", BATCH_STRATEGIES)
        check_choice(self.initial_design, "initial_design", ("sobol", "lhs", "uniform"))
        check_scalar(self.n_candidates, "n_candidates", numbers.Integral, low=1)
        check_scalar(self.refit_every, "refit_every", numbers.Integral, low=1, allow_none=True)
        d = len(space)
        sampler = "lhs" if self.initial_design == "sobol" and d > qmc.MAX_SOBOL_DIMENSIONS else self.initial_design
        # a Latin hypercube of the n_initial design points themselves, whatever the study's budget
        self._design = RandomSearch(sampler=sampler, lhs_size=max(self.n_initial, 1) if sampler == "lhs" else None)
        self._design.setup(space, seed)
        self._features = FeatureMap(space)
        self._sobol = qmc.sobol_directions(d) if 1 <= d <= qmc.MAX_SOBOL_DIMENSIONS else None
        self._grid = self._small_grid(space)
        self._fit = (None, None)  # (keys of the trials fitted on, theta)
        self._cache = (None, None, None)  # (fit keys, keys of the factored trials, GPFactor)

    def _small_grid(self, space):
        """Every point (bin centres) of a space of integers and categoricals with <= n_candidates points."""
        if len(space) == 0 or any(dim.n_values is None for dim in space.dims):
            return None
        if math.prod(dim.n_values for dim in space.dims) > self.n_candidates:  # without listing a huge grid
            return None
        return space.encode_many(space.grid())

    # ---- the model ------------------------------------------------------------------------------

    def _is_refit(self, m):
        step = self.refit_every or max(1, m // 20)
        return m < step or m % step == 0

    def refit_point(self, m):
        """The number of finished trials at which the hyperparameters used with m trials were fitted."""
        while m > 1 and not self._is_refit(m):
            m -= 1
        return m

    def _factor(self, keys, X, y):
        """The GPFactor of the observed trials: fitted and factored at the refit point, then extended."""
        m = len(keys)
        r = self.refit_point(m)
        fit_keys = tuple(keys[:r])
        if self._fit[0] != fit_keys:
            y_r = _standardise(y[:r])
            theta = fit_hyperparameters(X[:r], y_r, self._features.groups, self.kernel == "matern52",
                                        self.rng(_FIT_KEY, r), prior=_PRIOR)
            self._fit = (fit_keys, theta)
        cached_fit, cached_keys, factor = self._cache
        if cached_fit != fit_keys or len(cached_keys) > m or tuple(keys[:len(cached_keys)]) != cached_keys:
            factor = GPFactor(self._fit[1], self._features.groups, self.kernel == "matern52", X[:r])
        else:
            factor = factor.copy()
        for i in range(factor.n, m):
            factor.extend(X[i])
        self._cache = (fit_keys, tuple(keys), factor)
        return factor

    def model(self, history, extra=(), observations=None):
        """The posterior `_Model` for `history`, with fantasies at its running trials and at `extra` (r, d).
        `observations`: _observations_with_failures(history) if already at hand."""
        keys = [(t.number, history.loss(t) if t.state is TrialState.COMPLETE else None) for t in _observed(history)]
        U, y = observations or _observations_with_failures(history)
        X = self._features(U)
        model = _Model(self, self._factor(keys, X, y), _standardise(y))
        pending = [history.pending(), np.reshape(np.asarray(extra, dtype=np.float64), (-1, len(self.space)))]
        model.add_fantasy(np.vstack(pending))
        return model

    # ---- proposals ------------------------------------------------------------------------------

    def _candidates(self, rng):
        """Points to score, (c, d): the whole space if it is small and discrete, else scrambled Sobol points."""
        if self._grid is not None:
            return self._grid
        if self._sobol is not None:
            return qmc.sobol_points(*qmc.scramble(self._sobol, rng), 0, self.n_candidates)
        return rng.random((self.n_candidates, len(self.space)))

    def _propose(self, model, number, U_obs, y, taken):
        """Params maximising the acquisition that are not in `taken` (encoded tuples), or None.

        The refinement starts from the best candidate, the best trial and candidates drawn by roulette
        (as Optuna's GP sampler), in the variables u / ell (ell the lengthscales).
        """
        posterior, f_best, fmap = model.posterior, model.f_best(), self._features

        def score(U, grad):
            X = fmap(U)
            if not grad:
                return acquisition(posterior, X, self.acquisition, f_best, self.kappa)
            a, dX = acquisition(posterior, X, self.acquisition, f_best, self.kappa, grad=True)
            dU = np.zeros(U.shape)
            dU[:, fmap.continuous] = dX[:, fmap.columns]
            if self.space.is_conditional:  # an inactive coordinate does not move the features
                dU *= fmap.active(U)
            return a, dU

        rng = self.rng(_ACQ_KEY, number)
        ell = np.exp(model.factor.theta[:-2])  # (d,): one lengthscale per dimension
        incumbent = U_obs[np.argmin(y)][None, :]
        U, values = maximize(score, self._candidates(rng), fmap.continuous, rng, n_refine=_N_REFINE, scale=ell,
                             starts=incumbent, log_scale=self.acquisition != "ei", max_iter=_ACQ_MAX_ITER)
        u, a = self._discrete_sweep(score, U[0], values[0])
        if a > values[0]:
            U = np.vstack([u, U])
        for u in U:
            params = self.space.decode(u)
            if tuple(self.space.encode(params)) not in taken:
                return params
        return None

    def _discrete_sweep(self, score, u, a):
        """One pass over the discrete dimensions of u (d,) with score a: each moves to its best value with the
        others fixed (every value of a categorical or of one with at most 64, else levels +-1, 2, 4, ..., 128)."""
        for j, dim in enumerate(self.space.dims):
            if dim.n_values is None:
                continue
            if isinstance(dim, Categorical) or dim.n_values <= 64:
                units = dim.level_units()
            else:
                k = int(dim.level(u[j]))
                levels = sorted({min(max(k + s * 2**i, 0), dim.n_values - 1) for i in range(8) for s in (-1, 1)})
                units = [dim.to_unit(dim.value(level)) for level in levels]
            U = np.repeat(u[None, :], len(units), axis=0)  # (k, d)
            U[:, j] = units
            a_try = score(U, False)
            best = int(np.argmax(a_try))
            if a_try[best] > a:
                u, a = U[best], a_try[best]
        return u, a

    def ask(self, n, history):
        U_obs, y = _observations_with_failures(history)
        taken = {tuple(u) for u in U_obs} | {tuple(u) for u in history.pending()}
        chosen, proposals, model = [], [], None
        for k in range(n):
            number = history.next_number + k
            if number < self.n_initial or len(y) == 0:
                params = self.space.decode(self._design.points(number, 1, history.budget)[0])
            else:
                if model is None:
                    model = self.model(history, chosen, (U_obs, y))
                else:
                    model.add_fantasy(chosen[-1])
                params = self._propose(model, number, U_obs, y, taken)
                if params is None:  # every point of a finite space is taken
                    break
            u = self.space.encode(params)
            taken.add(tuple(u))
            chosen.append(u)
            proposals.append(params)
        return proposals


def _observed(history):
    """The trials the model learns from, in trial order: the complete ones and the failed ones."""
    return [t for t in history.trials
            if (t.state is TrialState.COMPLETE and t.value is not None) or t.state is TrialState.FAILED]


def _observations_with_failures(history):
    """(U, y) of the observed trials: the complete trials' losses, and each failed trial at the worst loss
    of the complete ones, so that the model learns to avoid a region where fits fail (a diverging learning
    rate) instead of proposing it again; the evolutionary searchers likewise give failures the worst fitness."""
    observed = _observed(history)
    complete = [history.loss(t) for t in observed if t.state is TrialState.COMPLETE]
    if not complete:
        return history.observations()
    worst = max(complete)
    U = history.space.encode_many([t.params for t in observed])  # (m, d)
    y = np.array([history.loss(t) if t.state is TrialState.COMPLETE else worst for t in observed])
    return U, y


def _standardise(y):
    """(y - mean) / std, with std = 1 when y is constant."""
    std = y.std()
    return (y - y.mean()) / (std if std > 0 else 1.0)
