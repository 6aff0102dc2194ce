"""ParEGO: Bayesian optimisation of several objectives through random scalarisations.

Knowles 2006, "ParEGO: a hybrid algorithm with on-line landscape approximation for expensive
multiobjective optimization problems", IEEE TEC 10(1). For each new trial:

    f_j <- (f_j - min f_j) / (max f_j - min f_j)       each loss scaled to [0, 1] over the complete trials
    lambda <- drawn from {l in (0, 1/s, ..., 1)^k : sum l = 1}      one of the weight vectors, at random
    g(x) = max_j lambda_j f_j(x) + rho sum_j lambda_j f_j(x)        the augmented Chebyshev scalarisation
    x_next <- BayesSearch's proposal for the single loss g          (GP, expected improvement)

Any point of the Pareto front minimises g for some lambda, so the scalarisations, drawn anew each time,
spread the trials along the front.
"""

import itertools
import numbers

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.base import History, Searcher
from tunelab.searchers.bayes.search import BayesSearch
from tunelab.searchers.trial import Trial, TrialState

_WEIGHT_KEY = 103  # generator key of the weight vector drawn for a trial


def simplex_lattice(k, s):
    """The weight vectors of Knowles 2006: every l in {0, 1/s, ..., 1}^k with sum l = 1, ((s+k-1) choose
    (k-1) of them), in lexicographic order.  (n, k)"""
    rows = [c for c in itertools.product(range(s + 1), repeat=k) if sum(c) == s]
    return np.array(rows, dtype=np.float64) / s


def chebyshev(F, weights, rho=0.05):
    """g = max_j w_j f_j + rho sum_j w_j f_j for each row of F (n, k).  (n,)"""
    WF = F * weights
    return WF.max(axis=1) + rho * WF.sum(axis=1)


class ParEGOSearch(Searcher):
    """ParEGO (Knowles 2006) for studies of several objectives with small budgets (tens to a few hundred
    trials): each trial is BayesSearch's proposal for a random augmented Chebyshev scalarisation of the
    losses, each scaled to [0, 1] over the complete trials (see the module docstring).

    Parameters
    ----------
    n_initial : trials of BayesSearch's initial design before the model takes over (default 10).
    s : the lattice of weight vectors, {0, 1/s, ..., 1} per objective (default None: 10 for two
        objectives, 4 for three, 3 for more, as Knowles 2006).
    rho : the weight of the sum in the augmented Chebyshev function (default 0.05).
    acquisition, kernel, n_candidates : those of BayesSearch (defaults "log_ei", "matern52", 1024).

    The weight vector of trial t is drawn from `rng(103, t)`, so the proposals depend on the history only:
    a resumed study proposes what an uninterrupted one would. The points chosen earlier in one `ask(n)`
    enter the model as running trials. The GP is refitted for every proposal (the scalarised losses
    change with the weights), so a trial costs about as much as one of BayesSearch with refits.
    Failed trials enter at the worst scalarised loss (BayesSearch's rule). Conditional spaces and
    define-by-run studies are treated as by BayesSearch.
    """

    multi_objective = True

    def __init__(self, n_initial=10, s=None, rho=0.05, acquisition="log_ei", kernel="matern52", n_candidates=1024):
        self.n_initial = n_initial
        self.s = s
        self.rho = rho
        self.acquisition = acquisition
        self.kernel = kernel
        self.n_candidates = n_candidates

    def setup(self, space, seed):
        super().setup(space, seed)
        check_scalar(self.s, "s", numbers.Integral, low=1, allow_none=True)
        check_scalar(self.rho, "rho", low=0.0)
        self._bayes = BayesSearch(n_initial=self.n_initial, acquisition=self.acquisition, kernel=self.kernel,
                                  n_candidates=self.n_candidates)
        self._bayes.setup(space, seed)
        self._lattices = {}

    def weights(self, number, k):
        """The weight vector (k,) of trial `number` in a study of k objectives."""
        if k not in self._lattices:
            s = self.s or {1: 1, 2: 10, 3: 4}.get(k, 3)
            self._lattices[k] = simplex_lattice(k, s)
        lattice = self._lattices[k]
        return lattice[self.rng(_WEIGHT_KEY, number).integers(len(lattice))]

    def scalarised(self, history, weights):
        """A single-loss History over the same trials: each complete trial's value is the augmented
        Chebyshev function of its scaled losses; the other trials as they are."""
        _, F = history.loss_vectors()
        low, span = (F.min(axis=0), np.ptp(F, axis=0)) if len(F) else (0.0, 1.0)
        span = np.where(span > 0, span, 1.0)
        trials = []
        for t in history.trials:
            f = history.loss_vector(t) if t.state is TrialState.COMPLETE else None
            value = None if f is None else float(chebyshev(((f - low) / span)[None, :], weights, self.rho)[0])
            state = t.state if f is not None or t.state is not TrialState.COMPLETE else TrialState.FAILED
            trials.append(Trial(t.number, t.params, state, value))
        return History(history.space, trials, 1.0, history.budget)

    def ask(self, n, history):
        proposals = []
        trials = list(history.trials)
        for k in range(n):
            number = history.next_number + k
            grown = History(history.space, trials, history.sign, history.budget, history.signs)
            single = self.scalarised(grown, self.weights(number, history.n_objectives))
            params = self._bayes.ask(1, single)
            if not params:
                break
            proposals.append(params[0])
            trials.append(Trial(number, params[0]))  # running: a fantasy for the next proposal
        return proposals
