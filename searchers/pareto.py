"""Pareto dominance for loss vectors: non-dominated sorting, crowding distance and hypervolume.

Every function here minimises: a point f (m,) dominates g when f_i <= g_i for every i and f_i < g_i for
at least one i. A multi-objective study turns its values into such losses (loss_i = sign_i * value_i).
"""

import numpy as np


def _as_points(points, name="points"):
    F = np.asarray(points, dtype=np.float64)
    if F.ndim == 1 and F.size == 0:
        F = F.reshape(0, 1)
    if F.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D array (n points, m objectives); got shape {F.shape}.")
    if np.isnan(F).any():
        raise ValueError(f"`{name}` must hold no NaN.")
    return F


def dominance_matrix(points):
    """D (n, n) bool with D[i, j] = points[i] dominates points[j] (all <=, one <)."""
    F = _as_points(points)
    le = (F[:, None, :] <= F[None, :, :]).all(axis=2)  # (n, n)
    lt = (F[:, None, :] < F[None, :, :]).any(axis=2)  # (n, n)
    return le & lt


def non_dominated_sort(points):
    """The fronts of `points` (n, m): a list of index arrays, front 0 the non-dominated points, front k
    those dominated only by points of fronts < k; indices ascending in each front.

    Deb et al. 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II", section III-A: count
    for each point the points that dominate it, peel off those with count 0, and repeat. O(m n^2).
    Equal points do not dominate each other, so they share a front.
    """
    D = dominance_matrix(points)
    n = D.shape[0]
    count = D.sum(axis=0)  # (n,): how many points dominate each point
    fronts, assigned = [], np.zeros(n, dtype=bool)
    while not assigned.all():
        front = np.flatnonzero((count == 0) & ~assigned)
        fronts.append(front)
        assigned[front] = True
        count = count - D[front].sum(axis=0)
    return fronts


def pareto_ranks(points):
    """rank (n,) int: the index of each point's front in `non_dominated_sort`."""
    F = _as_points(points)
    rank = np.empty(F.shape[0], dtype=np.int64)
    for k, front in enumerate(non_dominated_sort(F)):
        rank[front] = k
    return rank


def is_pareto_efficient(points):
    """mask (n,) bool: True for the non-dominated points (equal copies of one included)."""
    return ~dominance_matrix(points).any(axis=0)


def crowding_distance(points):
    """Crowding distance of each point of one front (n, m) (Deb et al. 2002, section III-B).

    CD_i = sum_k (f_k[next_i] - f_k[prev_i]) / (max f_k - min f_k), with next/prev the neighbours of i
    in the order of objective k (a stable sort); the two extremes of each objective get +inf. An
    objective that is constant, or not finite, on the front adds nothing to the inner points.
    """
    F = _as_points(points)
    n, m = F.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(F[:, k], kind="stable")
        f = F[order, k]
        distance[order[0]] = distance[order[-1]] = np.inf
        if not np.isfinite(f[[0, -1]]).all() or f[-1] <= f[0]:
            continue
        span = f[-1] - f[0]
        with np.errstate(invalid="ignore"):  # inf - inf among failed points: NaN, then 0 below
            inner = (f[2:] - f[:-2]) / span  # (n - 2,)
        distance[order[1:-1]] += np.where(np.isfinite(inner), inner, 0.0)
    return distance


def _hypervolume_2d(F, ref):
    """Area dominated by F (n, 2), all strictly below ref: sort by f1, sweep keeping the least f2."""
    F = F[np.lexsort((F[:, 1], F[:, 0]))]
    area, best_f2 = 0.0, ref[1]
    for f1, f2 in F:
        if f2 < best_f2:
            area += (ref[0] - f1) * (best_f2 - f2)
            best_f2 = f2
    return area


def _non_dominated(F):
    keep = is_pareto_efficient(F)
    F = F[keep]
    return np.unique(F, axis=0) if len(F) > 1 else F


def _wfg(F, ref):
    """Hypervolume of F (n, m), non-dominated and strictly below ref, by WFG (While, Bradstreet and
    Barone 2012, "A fast way of calculating exact hypervolumes", IEEE TEC 16(1)):
    HV(P) = sum_k [prod(ref - p_k) - HV(nds(limit(p_k, p_{k+1..n})))], limit(p, q) = max(p, q)
    componentwise: each point adds its box less the part already covered by the points after it."""
    n, m = F.shape
    if n == 0:
        return 0.0
    if m == 2:
        return _hypervolume_2d(F, ref)
    if n == 1:
        return float(np.prod(ref - F[0]))
    F = F[np.argsort(-F[:, -1], kind="stable")]  # the last objective descending keeps limit sets small
    total = 0.0
    for k in range(n):
        total += float(np.prod(ref - F[k]))
        if k + 1 < n:
            total -= _wfg(_non_dominated(np.maximum(F[k], F[k + 1:])), ref)
    return total


def hypervolume(points, reference):
    """The Lebesgue measure of the region dominated by `points` (n, m) and bounded by `reference` (m,):
    vol({x : x <= reference and some p in points has p <= x}), all objectives minimised.

    Points not strictly below the reference in every objective add nothing. Exact: a sweep over the
    first objective in 2-D, and WFG (While et al. 2012) in 3-D and more; in 1-D, reference - min.
    """
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 1 or not np.isfinite(ref).all():
        raise ValueError(f"`reference` must be a 1-D array of finite numbers; got {reference!r}.")
    F = _as_points(points)
    if F.shape[0] == 0:
        return 0.0
    if F.shape[1] != ref.shape[0]:
        raise ValueError(f"`reference` must have one entry per objective ({F.shape[1]}); got {ref.shape[0]}.")
    F = F[(F < ref).all(axis=1)]
    if F.shape[0] == 0:
        return 0.0
    if F.shape[1] == 1:
        return float(ref[0] - F[:, 0].min())
    return float(_wfg(_non_dominated(F), ref))
