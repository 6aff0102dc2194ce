"""TPESearch: the Tree-structured Parzen Estimator as a tunelab searcher.

    trials while fewer than n_startup_trials have finished     a space-filling design (scrambled Sobol)
    then, for trial t                                         split the trials into good and bad (split.py);
        for each group G of dimensions                        l_G <- Parzen estimator of the good trials on G,
                                                              g_G <- the same of the bad ones (parzen.py);
                                                              c_1..c_N ~ l_G (N = n_ei_candidates);
                                                              u_G <- argmax_i log l_G(c_i) - log g_G(c_i)

Maximising l/g maximises expected improvement under TPE's model p(u | y) = l(u) if y < y_gamma else g(u)
(Bergstra, Bardenet, Bengio & Kegl, "Algorithms for hyper-parameter optimization", NeurIPS 2011, sec. 4).
With `multivariate=True` (the default for one objective) there is one group holding every dimension and
the kernels are products over it, so l and g see how the dimensions interact (Falkner, Klein & Hutter,
"BOHB", ICML 2018; Watanabe 2023 finds it the most important refinement); `multivariate=False` (the default
for several objectives) makes each dimension its own group, the independent TPE of Hyperopt and of Optuna's
TPESampler.

Conditional and define-by-run spaces (group decomposition, groups.py; Optuna's `group=True`): the groups are
the sets of dimensions that always occur together, the unconditional dimensions in one group and the
dimensions under each choice (or set of choices) in another; in a define-by-run study, the sets of names
that are all in or all out of each finished trial. The split into good and bad trials is made once over
all finished trials; l_G and g_G are fitted on the good and bad trials that hold G, so a kernel never sees
the placeholder value of a dimension a trial did not have. Every group is proposed (a branch's dimensions
are drawn even when the root choice closes the branch) and `decode` keeps the active ones. A name new to a
define-by-run study is drawn independently by the study (tunelab.searchers.trial), as Optuna's samplers do.

Several objectives (MOTPE; Ozaki, Tanigaki, Watanabe & Onishi, GECCO 2020 and JAIR 2022): the split ranks
the trials by non-dominated front, breaking the tie in the last front taken by greedy hypervolume subset
selection, and the good trials weigh by their hypervolume contribution (motpe.py); the rest is unchanged.

Parallel trials (constant liar): running trials, and the points already chosen in the same `ask(n)`, join
the bad group, so that the next points go elsewhere. A candidate equal to a trial already asked is passed
over for the next best (for small discrete spaces, where TPE would otherwise repeat itself).

The proposal for trial t is a function of (hyperparameters, space, seed, history): the candidates come
from `self.rng(key, t, group)` and the split is rebuilt from the history at every ask; the only cache
holds the encoded params of each trial, checked against the trial's params.
"""

import numbers

import numpy as np

from tunelab.optimizers.validation import check_bool, check_choice, check_scalar
from tunelab.searchers.base import Searcher
from tunelab.searchers.sampling import lowdiscrepancy as qmc
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.tpe.groups import declared_groups, group_rows, observed_groups
from tunelab.searchers.tpe.motpe import MO_WEIGHT_RULES, contribution_weights, split_multi
from tunelab.searchers.tpe.parzen import BANDWIDTHS, KernelSettings, ParzenEstimator, columns
from tunelab.searchers.tpe.split import GAMMA_RULES, WEIGHT_RULES, decay_weights, good_weights, split
from tunelab.searchers.trial import TrialState

_CANDIDATE_KEY = 201  # generator key of the candidates (the startup design uses RandomSearch's own keys)


class TPESearch(Searcher):
    """Tree-structured Parzen Estimator (Bergstra et al. 2011) with the refinements studied by Watanabe (2023).

    The defaults are Optuna's multivariate TPESampler (v5) but for three settings, chosen by measurement on
    test functions (see the README's TPE benchmark): good trials weighted by their improvement ("ei",
    Watanabe 2023, sec. 3.3), bandwidths allowed to shrink as (n + 2)^-2 rather than (n + 2)^-1
    (`magic_clip_exponent`, Watanabe's alpha, sec. 3.4), and startup points from a scrambled Sobol sequence.
    `TPESearch(weights="old_decay", magic_clip_exponent=1.0, startup="uniform")` is Optuna's sampler.

    Conditional spaces: group decomposition (Optuna's `group=True`; Watanabe 2023). The dimensions that
    always occur together form a group, with its own estimators l and g fitted on the good and bad trials
    that hold the group: the unconditional dimensions (the root choice among them) form one group and
    the dimensions under each choice another, so l over a branch's dimensions learns from the trials of
    that branch only. In a define-by-run study the groups are the sets of names that are all in or all out
    of each finished trial, and a name seen for the first time is drawn independently by the study.

    Parameters
    ----------
    n_startup_trials : random trials before the estimators take over: TPE starts once this many trials
        have finished (complete or pruned; default 10).
    n_ei_candidates : points drawn from l(u) per proposal (and per group), of which the one of largest
        l/g is taken (default 24).
    gamma : the share of good trials (default 0.1); with gamma_rule "linear" n_good = ceil(gamma n), with
        "sqrt" ceil(gamma sqrt(n)) (Hyperopt's rule with gamma = 0.25); at most `max_good` (default 25).
    weights : kernel weights of the trials: "ei" (default; each good trial by its improvement over the best
        bad one), "old_decay" (Optuna's: trials older than the 25 newest count less) or "uniform".
    prior_weight : the weight of the prior kernel, the whole range centred (or uniform over choices),
        against weight 1 per trial (default 1.0).
    multivariate : one joint estimator per group of dimensions that always occur together (True; in a
        flat space, one over all dimensions) or one per dimension (False). The default, "auto", is True for
        one objective and False for several: at 100 trials MOTPE's median hypervolume on ZDT1, ZDT2 and
        DTLZ2 was 4.22, 3.78, 6.33 with joint estimators (5 seeds) and is 4.53, 3.84, 7.15 with independent
        ones (10 seeds; the README's multi-objective benchmark).
    bandwidth : "neighbor" (default; the larger distance to the neighbouring observations), "scott"
        (Scott's rule) or "optuna" (0.2 n^(-1/(d+4)), Optuna's multivariate rule before v5).
    consider_endpoints : whether the ends of the range count as neighbours of the outermost observations.
    magic_clip, min_bandwidth_factor, magic_clip_exponent : clip each bandwidth from below at
        max(min_bandwidth_factor, (n + 2)^-magic_clip_exponent) of the range (defaults True, 0.01, 2.0).
    constant_liar : running trials count as bad ones (default True).
    mo_weights : in a study of several objectives (MOTPE, Ozaki et al. 2020/2022; motpe.py), the weights of
        the good trials: "hypervolume" (default; each by its hypervolume contribution, as Ozaki et al.) or
        "uniform" (Optuna v5); the good trials are the best by non-dominated rank, ties broken by greedy
        hypervolume subset selection, and `weights` then applies to the bad trials only.
    startup : "sobol" (default), "lhs" or "uniform": the design of the startup trials (see RandomSearch;
        Latin hypercubes above the Sobol sequence's dimension limit).
    """

    multi_objective = True  # several objectives: MOTPE (motpe.py)

    def __init__(self, n_startup_trials=10, n_ei_candidates=24, gamma=0.1, gamma_rule="linear", max_good=25,
                 weights="ei", prior_weight=1.0, multivariate="auto", bandwidth="neighbor",
                 consider_endpoints=False, magic_clip=True, min_bandwidth_factor=0.01, magic_clip_exponent=2.0,
                 constant_liar=True, startup="sobol", mo_weights="hypervolume"):
        self.n_startup_trials = n_startup_trials
        self.n_ei_candidates = n_ei_candidates
        self.gamma = gamma
        self.gamma_rule = gamma_rule
        self.max_good = max_good
        self.weights = weights
        self.prior_weight = prior_weight
        self.multivariate = multivariate
        self.bandwidth = bandwidth
        self.consider_endpoints = consider_endpoints
        self.magic_clip = magic_clip
        self.min_bandwidth_factor = min_bandwidth_factor
        self.magic_clip_exponent = magic_clip_exponent
        self.constant_liar = constant_liar
        self.startup = startup
        self.mo_weights = mo_weights

    def setup(self, space, seed):
        super().setup(space, seed)
        self._check_hyperparameters()
        self._settings = KernelSettings(float(self.prior_weight), self.bandwidth, bool(self.consider_endpoints),
                                        bool(self.magic_clip), float(self.min_bandwidth_factor),
                                        float(self.magic_clip_exponent))
        d = len(space)
        self._declared = {}  # joint (bool) -> the declared space's groups
        self._columns = {}
        design = "lhs" if self.startup == "sobol" and d > qmc.MAX_SOBOL_DIMENSIONS else self.startup
        self._design = RandomSearch(sampler=design)
        self._design.setup(space, seed)
        self._encoded = _EncodedTrials(space)

    def _check_hyperparameters(self):
        check_scalar(self.n_startup_trials, "n_startup_trials", numbers.Integral, low=0)
        check_scalar(self.n_ei_candidates, "n_ei_candidates", numbers.Integral, low=1)
        check_scalar(self.gamma, "gamma", low=0.0, low_inclusive=False)
        check_choice(self.gamma_rule, "gamma_rule", GAMMA_RULES)
        check_scalar(self.max_good, "max_good", numbers.Integral, low=1)
        check_choice(self.weights, "weights", WEIGHT_RULES)
        check_scalar(self.prior_weight, "prior_weight", low=0.0, low_inclusive=False)
        if not (isinstance(self.multivariate, (bool, np.bool_)) or self.multivariate == "auto"):
            raise TypeError(f'`multivariate` must be True, False or "auto"; got {self.multivariate!r}.')
        check_choice(self.bandwidth, "bandwidth", BANDWIDTHS)
        check_bool(self.consider_endpoints, "consider_endpoints")
        check_bool(self.magic_clip, "magic_clip")
        check_scalar(self.min_bandwidth_factor, "min_bandwidth_factor", low=0.0, high=1.0, low_inclusive=False)
        check_scalar(self.magic_clip_exponent, "magic_clip_exponent", low=0.0)
        check_bool(self.constant_liar, "constant_liar")
        check_choice(self.startup, "startup", ("uniform", "sobol", "lhs"))
        check_choice(self.mo_weights, "mo_weights", MO_WEIGHT_RULES)

    def ask(self, n, history):
        U, active = self._encoded.update(history.trials)  # (N, d) encoded trials, (N, d) which names they hold
        divide = split_multi if history.n_objectives > 1 else split
        parts = divide(history, self.gamma, self.gamma_rule, self.max_good, self.constant_liar)
        groups = self._groups(history, parts)
        proposals, chosen = [], np.empty((0, U.shape[1]))
        for k in range(n):
            number = history.next_number + k
            if parts.n_finished < self.n_startup_trials:
                u = self._design.points(number, 1, history.budget)[0]
            else:
                u = self.propose(U, active, parts, chosen, number, groups)
            params = self.space.decode(u)
            proposals.append(params)
            chosen = np.vstack([chosen, self.space.encode(params)])
        return proposals

    def joint(self, n_objectives=1):
        """Whether the estimators are multivariate (one per group of dimensions) for this many objectives."""
        return n_objectives == 1 if isinstance(self.multivariate, str) else bool(self.multivariate)

    def _groups(self, history, parts):
        """The groups of dimensions (groups.py): declared by the space, or, in a define-by-run study, seen
        in the names of the finished trials."""
        joint = self.joint(history.n_objectives)
        if self.space.define_by_run:
            return self._observed_groups(history, parts, joint)
        if joint not in self._declared:
            self._declared[joint] = declared_groups(self.space, joint)
        return self._declared[joint]

    def _observed_groups(self, history, parts, joint):
        """The groups of a define-by-run space, from the names of the finished trials (groups.py)."""
        finished = np.sort(np.concatenate([parts.good, parts.bad]))
        trials = history.trials
        name_sets = [set(trials[i].params) for i in finished if trials[i].state is not TrialState.RUNNING]
        return observed_groups(self.space.names, name_sets, joint)

    def propose(self, U, active, parts, chosen, number, groups=None):
        """The point (d,) for trial `number`: per group, the candidate of largest log l - log g.

        U (N, d) encodes every trial and `active` (N, d) says which dimensions each holds; `parts` is the
        `Split` of the history; `chosen` (r, d) are the points chosen earlier in the same ask, bad ones
        under the constant liar; `groups` lists the column indices of each group (groups.py; default the
        declared space's). The estimators of a group are fitted on the good and bad trials that hold it.
        A candidate that decodes to the params of a trial or of a chosen point is passed over when
        another one is left.
        """
        groups = declared_groups(self.space, self.joint()) if groups is None else groups
        extra = chosen if self.constant_liar else chosen[:0]
        extra_active = np.array([[name in p for name in self.space.names]
                                 for p in map(self.space.decode, extra)], dtype=bool).reshape(extra.shape)
        U_bad = np.vstack([U[parts.bad], extra])  # (m, d), trial-number order: chosen points are the newest
        A_bad = np.vstack([active[parts.bad], extra_active])
        A_good = active[parts.good]
        u = self.space.inactive_units.copy()
        for g, index in enumerate(groups):
            index = np.asarray(index)
            good, bad = self._estimators(U, parts, index, group_rows(A_good, index), U_bad[group_rows(A_bad, index)])
            C = good.sample(self.rng(_CANDIDATE_KEY, number, g), self.n_ei_candidates)  # (N, |G|)
            order = np.argsort(bad.log_pdf(C) - good.log_pdf(C), kind="stable")  # best l/g first
            u[index] = C[order[0]]
            if g == len(groups) - 1:  # the point is complete: pass over the ones already asked
                for i in order:
                    u[index] = C[i]
                    if not self._taken(u, U, chosen):
                        break
                else:
                    u[index] = C[order[0]]
        return u

    def _estimators(self, U, parts, index, good_rows, U_bad):
        """(l, g) of the group `index`: l over the good trials `good_rows` holds, g over the rows U_bad."""
        cols = self._columns.get(tuple(index))
        if cols is None:
            cols = self._columns[tuple(index)] = columns(self.space, index)
        held = parts._replace(good=parts.good[good_rows], good_losses=parts.good_losses[good_rows])
        if parts.good_vectors is None:
            w_good, prior_good = good_weights(held, self.weights, self.prior_weight)
        else:  # several objectives: hypervolume contributions among the good trials that hold the group
            F = parts.good_vectors[good_rows]
            w_good = contribution_weights(F) if self.mo_weights == "hypervolume" else np.ones(F.shape[0])
            prior_good = float(self.prior_weight)
        w_bad = decay_weights(U_bad.shape[0], "uniform" if self.weights == "ei" else self.weights)
        good = ParzenEstimator(U[held.good][:, index], w_good, cols, self._settings._replace(prior_weight=prior_good))
        return good, ParzenEstimator(U_bad[:, index], w_bad, cols, self._settings)

    def _taken(self, u, U, chosen):
        """Whether u decodes to the params of a row of U or of `chosen`."""
        key = self.space.encode(self.space.decode(u))
        return any(bool(np.any(np.all(A == key, axis=1))) for A in (U, chosen))


class _EncodedTrials:
    """The encoded params of every trial, row i for trial i, and which dimensions each holds, kept between
    asks and re-encoded for a trial whose params object is not the one encoded (a new history, a resumed
    study)."""

    def __init__(self, space):
        self.space = space
        self.params = []
        self.U = np.empty((0, len(space)))
        self.active = np.empty((0, len(space)), dtype=bool)

    def update(self, trials):
        """(U, active), both (len(trials), d), for `trials` (trials[i].number == i)."""
        N, d = len(trials), len(self.space)
        if self.U.shape[0] < N:
            size = max(N, 2 * self.U.shape[0])
            self.U = np.concatenate([self.U, np.empty((size - self.U.shape[0], d))])
            self.active = np.concatenate([self.active, np.zeros((size - self.active.shape[0], d), dtype=bool)])
        del self.params[N:]
        for i, trial in enumerate(trials):
            if i < len(self.params) and self.params[i] is trial.params:
                continue
            self.U[i] = self.space.encode(trial.params)
            self.active[i] = [name in trial.params for name in self.space.names]
            if i < len(self.params):
                self.params[i] = trial.params
            else:
                self.params.append(trial.params)
        return self.U[:N], self.active[:N]
