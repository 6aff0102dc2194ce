"""NSGA-II: the elitist non-dominated sorting genetic algorithm for several objectives.

Deb, Pratap, Agarwal & Meyarivan 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II",
IEEE TEC 6(2). With P_t the population (N points) and Q_t its children (N points):

    R_t = P_t + Q_t;  fronts F_1, F_2, ... = non_dominated_sort(R_t)
    P_t+1 = F_1 + ... + F_j (the fronts that fit) + the most crowded-apart points of F_j+1
    Q_t+1 = variation(binary tournaments on the crowded comparison of P_t+1)

The crowded comparison prefers the lower front and, within a front, the larger crowding distance
(tunelab.searchers.pareto). The variation is that of `EvolutionSearch` (SBX and polynomial mutation of
the real and integer genes, uniform crossover and resampling of the categorical ones), so mixed and
conditional spaces breed as there.
"""

import numbers

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.evolutionary.generational import Generation, ran_proposal
from tunelab.searchers.evolutionary.genetic import EvolutionSearch
from tunelab.searchers.pareto import crowding_distance, non_dominated_sort
from tunelab.searchers.sampling.lowdiscrepancy import latin_hypercube
from tunelab.searchers.trial import TrialState


def crowded_order(F):
    """Indices of F (n, k) from best to worst by the crowded comparison: front ascending, then crowding
    distance descending (ties by index).  (n,)"""
    rank, distance = np.empty(F.shape[0], dtype=np.int64), np.empty(F.shape[0])
    for r, front in enumerate(non_dominated_sort(F)):
        rank[front], distance[front] = r, crowding_distance(F[front])
    return np.lexsort((np.arange(F.shape[0]), -distance, rank))


def survivors(F, N):
    """Indices of the N points of F (n, k) that NSGA-II keeps: whole fronts while they fit, then the
    points of the next front with the largest crowding distance (ties by index).  (N,)"""
    kept = []
    for front in non_dominated_sort(F):
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
    F (N, k) loss vectors, order (N,) crowded order of the population).

    The defaults (population 10, eta_crossover 2, eta_mutation 2, mutation_prob 2/d) suit budgets of a few
    hundred trials: a small population gives more generations, and distribution indices far below Deb's
    usual 15-20 and twice the usual mutation rate put children further from their parents (on ZDT1, ZDT2
    and DTLZ2 with 100 and 300 trials they did best; see the multi-objective benchmark in the README).
    Constraints (Deb's feasibility rules) are not handled: give an infeasible point a bad value instead.
    Conditional spaces and define-by-run studies are treated as by `EvolutionSearch`.
    """

    multi_objective = True
    n_elite = 0  # the parents compete with their children in the selection instead
    tournament_size = 2  # binary tournaments on the crowded comparison

    def __init__(self, population_size=10, crossover_prob=0.9, mutation_prob=None, eta_crossover=2.0,
                 eta_mutation=2.0, n_generations=None):
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob
        self.eta_crossover = eta_crossover
        self.eta_mutation = eta_mutation
        self.n_generations = n_generations

    def setup(self, space, seed):
        check_scalar(self.population_size, "population_size", numbers.Integral, low=2)
        super().setup(space, seed)
        if self.mutation_prob is None:
            self._p_mutation = min(1.0, 2.0 / max(len(space), 1))

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
            U_pop, _, order = state
            fitness = np.empty(len(order))
            fitness[order] = np.arange(len(order))  # the crowded comparison as a loss for the tournaments
            U = self._children((U_pop, fitness), rng, N)  # (N, d)
        return Generation(index, start, [self.space.decode(u) for u in U], U)

    def _select(self, state, generation, trials, losses):
        U = generation.extra.copy()  # (lam, d): the points evaluated, or
        for k, (trial, proposed) in enumerate(zip(trials, generation.params)):
            if not ran_proposal(trial, proposed):  # those of another searcher
                U[k] = self.space.encode(trial.params)
        F = losses
        if state is not None:
            U_old, F_old, _ = state
            U, F = np.concatenate([U_old, U]), np.concatenate([F_old, F])
        kept = survivors(F, self._N)
        U, F = U[kept], F[kept]
        return U, F, crowded_order(F)
