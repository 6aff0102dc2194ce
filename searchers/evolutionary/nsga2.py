"""NSGA-II: the elitist non-dominated sorting genetic algorithm for several objectives.

Deb, Pratap, Agarwal & Meyarivan 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II",
IEEE TEC 6(2). With P_t the population (N points) and Q_t its children (N points):

    R_t = P_t + Q_t;  fronts F_1, F_2, ... = non_dominated_sort(R_t)
    P_t+1 = F_1 + ... + F_j (the fronts that fit) + the most crowded-apart points of F_j+1
    Q_t+1 = variation(binary tournaments on the crowded comparison of P_t+1)

The crowded comparison prefers the lower front and, within a front, the larger crowding distance
(tunelab.searchers.pareto). With constraints (section VI of the paper), the fronts are those of constrained
domination (constraints.py): feasible points first, infeasible ones by their violation. The variation is
that of `EvolutionSearch` (SBX and polynomial mutation of the real and integer genes, uniform crossover and
resampling of the categorical ones), so mixed and conditional spaces breed as there.
"""

import numbers

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.evolutionary.constraints import constrained_fronts, constraint_values, violation
from tunelab.searchers.evolutionary.generational import Generation, ran_proposal
from tunelab.searchers.evolutionary.genetic import EvolutionSearch
from tunelab.searchers.pareto import crowding_distance
from tunelab.searchers.sampling.lowdiscrepancy import latin_hypercube
from tunelab.searchers.trial import TrialState


def _fronts(F, v):
    """Fronts of F (n, k) by dominance, or by constrained domination with the violations v (n,) when given."""
    return constrained_fronts(F, np.zeros(F.shape[0]) if v is None else v)


def crowded_order(F, v=None):
    """Indices of F (n, k) from best to worst by the crowded comparison: front ascending, then crowding
    distance descending (ties by index); the fronts of constrained domination with violations v (n,).  (n,)"""
    rank, distance = np.empty(F.shape[0], dtype=np.int64), np.empty(F.shape[0])
    for r, front in enumerate(_fronts(F, v)):
        rank[front], distance[front] = r, crowding_distance(F[front])
    return np.lexsort((np.arange(F.shape[0]), -distance, rank))


def survivors(F, N, v=None):
    """Indices of the N points of F (n, k) that NSGA-II keeps: whole fronts while they fit, then the
    points of the next front with the largest crowding distance (ties by index); the fronts of constrained
    domination with violations v (n,) when given.  (N,)"""
    kept = []
    for front in _fronts(F, v):
        if len(kept) + len(front) <= N:
            kept.extend(front)
            continue
        distance = crowding_distance(F[front])
        order = np.lexsort((front, -distance))
        kept.extend(front[order[:N - len(kept)]])
        break
    return np.asarray(kept, dtype=np.int64)


class NSGA2Search(EvolutionSearch):
    """NSGA-II (Deb et al. 2002) for studies of several objectives (and of one, where it is an elitist GA).

    Generation 0: a Latin hypercube of `population_size` points; each later generation: `population_size`
    children of binary tournaments on the crowded comparison, bred by `EvolutionSearch`'s operators
    (crossover with probability `crossover_prob`, each real or integer gene by SBX of index `eta_crossover`
    with probability 1/2; polynomial mutation of index `eta_mutation` of each gene with probability
    `mutation_prob`, default 2/d). The next population: the best `population_size` of parents and children
    by non-dominated sorting and crowding distance. A failed or pruned trial counts as the worst in every
    objective. `n_generations` (None: no limit) ends the search. `state(history)` gives (U (N, d),
    F (N, k) loss vectors, v (N,) constraint violations (zeros without `constraints_func`), order (N,)
    crowded order of the population).

    Constraints: `constraints_func(trial) -> [c_1, ..., c_m]`, called on each complete trial (it may read
    `trial.params`, `trial.objective_values` (`trial.value` with one objective) and `trial.attrs`), gives
    values c_j <= 0 when constraint j holds; the violation is v = sum_j max(0, c_j). The fronts are then
    those of constrained domination (Deb et al. 2002, section VI): i beats j when v_i = 0 < v_j, when
    0 < v_i < v_j, or when v_i = v_j = 0 and F_i dominates F_j; a failed or pruned trial counts as v = +inf.
    The function must return the same number m >= 1 of finite floats for every trial: anything else, a NaN
    included, raises an error naming `constraints_func` (return a large value for an infeasible point).
    The values are recomputed from the trials whenever the population is replayed (so a resumed study
    equals an uninterrupted one), not stored with them; `state(history)` shows the members' violations.
    `study.best_trials` stays the front of every complete trial, feasible or not: filtering is the user's
    (`tunelab.searchers.feasible_front(study, constraints_func)` gives the front of the feasible trials).
    A study file cannot keep a function, so resume it with
    `Study.load(path, searcher=NSGA2Search(constraints_func=...))`.

    The defaults (population 10, eta_crossover 2, eta_mutation 2, mutation_prob 2/d) suit budgets of a few
    hundred trials: a small population gives more generations, and distribution indices far below Deb's
    usual 15-20 and twice the usual mutation rate put children further from their parents (on ZDT1, ZDT2
    and DTLZ2 with 100 and 300 trials they did best; see the multi-objective benchmark in the README).
    Conditional spaces and define-by-run studies are treated as by `EvolutionSearch`.
    """

    multi_objective = True
    n_elite = 0  # the parents compete with their children in the selection instead
    tournament_size = 2  # binary tournaments on the crowded comparison

    def __init__(self, population_size=10, crossover_prob=0.9, mutation_prob=None, eta_crossover=2.0,
                 eta_mutation=2.0, n_generations=None, constraints_func=None):
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob
        self.eta_crossover = eta_crossover
        self.eta_mutation = eta_mutation
        self.n_generations = n_generations
        self.constraints_func = constraints_func

    def setup(self, space, seed):
        check_scalar(self.population_size, "population_size", numbers.Integral, low=2)
        if self.constraints_func is not None and not callable(self.constraints_func):
            raise TypeError(f"`constraints_func` must be None or a function trial -> sequence of floats; got "
                            f"{self.constraints_func!r:.100} of type {type(self.constraints_func).__name__}.")
        super().setup(space, seed)
        if self.mutation_prob is None:
            self._p_mutation = min(1.0, 2.0 / max(len(space), 1))
        self._n_constraints = None  # m, from the first trial told

    def _violations(self, trials):
        """v (lam,): sum_j max(0, c_j) of constraints_func(trial) for a complete trial, +inf for a failed or
        pruned one; zeros without `constraints_func`."""
        if self.constraints_func is None:
            return np.zeros(len(trials))
        v = np.full(len(trials), np.inf)
        for i, trial in enumerate(trials):
            if trial.state is TrialState.COMPLETE:
                c = constraint_values(self.constraints_func, trial, self._n_constraints)  # (m,)
                self._n_constraints = len(c)
                v[i] = violation(c)
        return v

    def _member_losses(self, trials, history):
        """Loss vectors of a generation's trials, +inf in every objective for failed and pruned ones.  (lam, k)"""
        k = history.n_objectives
        rows = [history.loss_vector(t) if t.state is TrialState.COMPLETE else None for t in trials]
        return np.array([np.full(k, np.inf) if f is None else f for f in rows], dtype=np.float64).reshape(-1, k)

    def _breed(self, state, index, start):
        if self.n_generations is not None and index >= self.n_generations:
            return None
        rng = self.rng(index)
        N, d = self._N, len(self.space)
        if state is None:  # generation 0: a Latin hypercube
            U = self.space.snap(latin_hypercube(rng, N, d))  # (N, d)
        else:
            U_pop, _, _, order = state
            fitness = np.empty(len(order))
            fitness[order] = np.arange(len(order))  # the crowded comparison as a loss for the tournaments
            U = self._children((U_pop, fitness), rng, N)  # (N, d)
        return Generation(index, start, [self.space.decode(u) for u in U], U)

    def _select(self, state, generation, trials, losses):
        U = generation.extra.copy()  # (lam, d): the points evaluated, or
        for k, (trial, proposed) in enumerate(zip(trials, generation.params)):
            if not ran_proposal(trial, proposed):  # those of another searcher
                U[k] = self.space.encode(trial.params)
        F, v = losses, self._violations(trials)  # (lam, k), (lam,)
        if state is not None:
            U_old, F_old, v_old, _ = state
            U, F, v = np.concatenate([U_old, U]), np.concatenate([F_old, F]), np.concatenate([v_old, v])
        kept = survivors(F, self._N, v)
        U, F, v = U[kept], F[kept], v[kept]
        return U, F, v, crowded_order(F, v)
