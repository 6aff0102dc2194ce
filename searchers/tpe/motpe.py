"""The split and weights of multi-objective TPE (MOTPE): good trials by Pareto rank, weighted by hypervolume.

With n finished trials and loss vectors f_i = signs * values_i (k objectives, all minimised):

    n_good      as for one objective (split.n_good: min(ceil(gamma n), max_good))
    good        the non-dominated fronts F_0, F_1, ... taken whole while they fit in n_good; the front that
                does not fit gives its remaining places by greedy hypervolume subset selection: repeatedly
                the point that adds the most hypervolume to the ones taken from it, with the reference
                point r = max(1.1 w, 0.9 w) from w, that front's componentwise worst (0 -> 1e-12)
    bad         every other finished trial (pruned ones too), and every running one (constant liar)
    weights     good trial i gets its hypervolume contribution HV(G) - HV(G without i) over the good set G,
                divided by the largest one and kept in [1e-12, 1] (reference as above, from G's worst;
                `mo_weights="hypervolume"`), or 1 each (`"uniform"`, Optuna v5); the bad trials weigh as
                for one objective

Both hypervolume steps use exclusive hypervolumes, HV(S + p) - HV(S) = prod(r - p) - HV({max(p, s) : s in S})
(WFG's limit set), and the greedy selection recomputes a gain only when it may be the largest (lazy greedy,
Minoux 1978); a 2-D or 3-D hypervolume is a sweep (pareto.py and _pareto_kernels.py). The selection and
weights are the definitions above, to rounding (a contribution taken as one exclusive hypervolume, not as the
difference of two, keeps the digits that difference cancels).

Ozaki, Tanigaki, Watanabe & Onishi, "Multiobjective tree-structured Parzen estimator for computationally
expensive optimization problems", GECCO 2020, and "Multiobjective tree-structured Parzen estimator", JAIR 73
(2022), sec. 3 (the split by non-dominated rank with hypervolume subset selection, the weights by
hypervolume contribution); Optuna's TPESampler with several objectives (`_split_complete_trials_multi_objective`,
`_calculate_weights_below_for_multi_objective`) makes the same choices. The Parzen estimators, candidates
and l/g ratio are those of one objective (search.py).
"""

import numpy as np

from tunelab.searchers.pareto import greedy_hypervolume_subset, hypervolume_contributions, non_dominated_sort
from tunelab.searchers.tpe.split import Split, _pruned_rank, n_good
from tunelab.searchers.trial import TrialState

_EPS = 1e-12
MO_WEIGHT_RULES = ("hypervolume", "uniform")


def reference_point(F):
    """max(1.1 w, 0.9 w) for w the componentwise worst of F (n, k), zeros replaced by 1e-12; (k,)."""
    worst = F.max(axis=0)
    ref = np.maximum(1.1 * worst, 0.9 * worst)
    ref[ref == 0] = _EPS
    return ref


def greedy_subset(F, size):
    """Indices of `size` rows of F (n, k), chosen one by one, each adding the most hypervolume to the
    rows already chosen (greedy hypervolume subset selection, lazily evaluated; ties to the lower index),
    with the reference point of F (pareto.greedy_hypervolume_subset)."""
    return greedy_hypervolume_subset(F, size, reference_point(F))


def contribution_weights(F):
    """Weights (n,) of the good trials F (n, k): hypervolume contributions HV(F) - HV(F without i) over the
    largest, in [1e-12, 1], with the reference point of F (pareto.hypervolume_contributions)."""
    n = F.shape[0]
    if n <= 1:
        return np.ones(n)
    contributions = hypervolume_contributions(F, reference_point(F))
    top = contributions.max()
    if not top > 0:
        return np.ones(n)
    return np.clip(contributions / top, _EPS, 1.0)


def split_multi(history, gamma, rule="linear", max_good=25, constant_liar=True):
    """The good and bad trials of a study of several objectives (module docstring); a `Split` whose
    `good_vectors` holds the good trials' loss vectors (n_good, k) and whose threshold is inf."""
    trials = history.trials
    complete = np.array([t.number for t in trials if t.state is TrialState.COMPLETE], dtype=np.int64)
    F = np.array([history.loss_vector(trials[i]) for i in complete], dtype=np.float64)
    F = F.reshape(complete.shape[0], history.n_objectives)
    pruned = sorted((t for t in trials if t.state is TrialState.PRUNED), key=lambda t: _pruned_rank(t, history.sign))
    n_finished = complete.shape[0] + len(pruned)
    k = n_good(n_finished, gamma, rule, max_good)
    taken = _good_rows(F, k)
    good = np.sort(complete[taken])
    bad = np.concatenate([np.setdiff1d(complete, good), [t.number for t in pruned]]).astype(np.int64)
    if constant_liar:
        bad = np.concatenate([bad, [t.number for t in trials if t.state is TrialState.RUNNING]]).astype(np.int64)
    rows = np.searchsorted(complete, good)
    return Split(good, np.sort(bad), np.zeros(good.shape[0]), np.inf, int(n_finished), F[rows])


def _good_rows(F, k):
    """Rows of F (n, k_obj) in the good group: whole fronts while they fit, then greedy subset selection."""
    if k == 0 or F.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    taken = []
    for front in non_dominated_sort(F):
        if len(taken) + front.shape[0] <= k:
            taken.extend(front.tolist())
        else:
            taken.extend(front[greedy_subset(F[front], k - len(taken))].tolist())
        if len(taken) >= k:
            break
    return np.array(taken, dtype=np.int64)
