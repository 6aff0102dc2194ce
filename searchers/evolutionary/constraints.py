"""Constraints by Deb's feasibility rules: constraint values, violations and constrained-domination fronts.

A `constraints_func(trial)` gives the constraint values c (m,) of a complete trial, c_j <= 0 meaning
that constraint j is satisfied; the violation of the trial is v = sum_j max(0, c_j), 0 for a feasible one.
Deb, Pratap, Agarwal & Meyarivan 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II",
IEEE TEC 6(2), section VI: point i constrained-dominates point j when

    (a) v_i = 0 < v_j            (a feasible point beats an infeasible one),
    (b) 0 < v_i < v_j            (of two infeasible points, the smaller violation wins), or
    (c) v_i = v_j = 0 and F_i dominates F_j   (two feasible points compare by Pareto dominance).

Sorting by this relation, as NSGA-II sorts by plain dominance, gives the fronts of `constrained_fronts`.
As in Optuna's `NSGAIISampler(constraints_func=...)`.
"""

import math

import numpy as np

from tunelab.searchers.pareto import is_pareto_efficient, non_dominated_sort
from tunelab.searchers.trial import TrialState, is_real_number


def constraint_values(constraints_func, trial, n_constraints=None):
    """c (m,) = constraints_func(trial), checked: a non-empty list, tuple or 1-D array of finite real numbers,
    of length `n_constraints` when given. A TypeError or ValueError naming `constraints_func` and the trial
    otherwise; a NaN is an error too (not a sign of infeasibility), so a bug in the function shows."""
    returned = constraints_func(trial)
    where = f"`constraints_func` (called on trial {trial.number}) returned"
    if not (isinstance(returned, (list, tuple)) or (isinstance(returned, np.ndarray) and returned.ndim == 1)):
        raise TypeError(f"{where} {returned!r:.100} of type {type(returned).__name__}; it must return a sequence "
                        "of real numbers (a list, tuple or 1-D array, c_j <= 0 when constraint j holds), e.g. "
                        "[c] for one constraint.")
    if len(returned) == 0:
        raise ValueError(f"{where} an empty sequence; it must return one value per constraint (c_j <= 0 when "
                         "constraint j holds).")
    for j, c in enumerate(returned):
        if not is_real_number(c):
            raise TypeError(f"{where} {c!r:.100} of type {type(c).__name__} as constraint {j}; each constraint "
                            "value must be a real number (an int or float, not a bool or str).")
        try:
            finite = math.isfinite(c)
        except OverflowError:  # an int beyond the float range
            finite = False
        if not finite:
            raise ValueError(f"{where} {c!r:.30} as constraint {j}; constraint values must be finite floats (a NaN "
                             "is taken as an error, not as infeasible: give an infeasible point a large positive "
                             "value).")
    if n_constraints is not None and len(returned) != n_constraints:
        raise ValueError(f"{where} {len(returned)} values, and {n_constraints} for the trials before it; it must "
                         "return the same number of constraint values for every trial.")
    return np.asarray(returned, dtype=np.float64)


def violation(C):
    """v = sum_j max(0, c_j) over the last axis of C ((m,) or (n, m)): 0 exactly when every constraint holds."""
    return np.maximum(np.asarray(C, dtype=np.float64), 0.0).sum(axis=-1)


def constrained_fronts(F, v):
    """The fronts of the points F (n, k) with violations v (n,) under constrained domination (see the module
    docstring; Deb et al. 2002, section VI): a list of index arrays, indices ascending in each front.

    Constrained domination ranks every feasible point above every infeasible one and the infeasible ones by
    violation alone, so its fronts are the non-dominated sort of the feasible points (v = 0), then one front
    per distinct violation of the infeasible ones, in increasing order (equal violations share a front; a
    failed trial's v = +inf puts it last). With every point feasible: `non_dominated_sort(F)` itself.
    """
    F, v = np.asarray(F, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if np.isnan(v).any():
        raise ValueError("`v` (the violations) must hold no NaN.")
    feasible = np.flatnonzero(v <= 0)  # (n_feasible,)
    infeasible = np.flatnonzero(v > 0)  # (n - n_feasible,)
    fronts = [feasible[front] for front in non_dominated_sort(F[feasible])]
    v_inf = v[infeasible]
    fronts += [infeasible[v_inf == level] for level in np.unique(v_inf)]
    return fronts


def feasible_front(study, constraints_func):
    """The Pareto front of the feasible trials: the complete trials whose constraint values
    `constraints_func(trial)` are all <= 0 and that no other such trial dominates, in the order of their
    numbers. (`study.best_trials` is the front of every complete trial, feasible or not; a feasible trial
    that only an infeasible one dominates is on this front and not on that one.)"""
    history = study.history()
    trials = [t for t in history.trials if t.state is TrialState.COMPLETE]
    n_constraints, feasible = None, []
    for trial in trials:
        c = constraint_values(constraints_func, trial, n_constraints)
        n_constraints = len(c)
        if (c <= 0).all():
            feasible.append(trial)
    losses = np.array([history.loss_vector(t) for t in feasible], dtype=np.float64)
    losses = losses.reshape(len(feasible), history.n_objectives)  # (n_feasible, k)
    return [t for t, kept in zip(feasible, is_pareto_efficient(losses)) if kept]
