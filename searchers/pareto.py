"""Pareto dominance for loss vectors: non-dominated sorting, crowding distance and hypervolume, with each
point's hypervolume contribution and greedy hypervolume subset selection.

Every function here minimises: a point f (m,) dominates g when f_i <= g_i for every i and f_i < g_i for
at least one i. A multi-objective study turns its values into such losses (loss_i = sign_i * value_i).
"""

import heapq

import numpy as np


def _kernels():
    """The Numba sweeps (_pareto_kernels), imported on first use: importing tunelab creates no Numba function."""
    from tunelab.searchers import _pareto_kernels

    return _pareto_kernels


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
    """D (n, n) bool with D[i, j] = points[i] dominates points[j] (all <=, one <).

    Built one objective at a time on (n, n) planes: numpy's all/any over a short last axis of an (n, n, m)
    array is several times slower than m elementwise passes.
    """
    F = _as_points(points)
    n, m = F.shape
    le, lt = np.ones((n, n), dtype=bool), np.zeros((n, n), dtype=bool)
    for k in range(m):
        f = F[:, k]
        le &= f[:, None] <= f[None, :]  # (n, n)
        lt |= f[:, None] < f[None, :]
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
    if n == 1:
        return float(np.prod(ref - F[0]))
    F = F[np.argsort(-F[:, -1], kind="stable")]  # the last objective descending keeps limit sets small
    total = 0.0
    for k in range(n):
        total += float(np.prod(ref - F[k]))
        if k + 1 < n:
            total -= _wfg(_non_dominated(np.maximum(F[k], F[k + 1:])), ref)
    return total


def _hypervolume_below(F, ref):
    """Hypervolume of F (n, m), every row strictly below ref: reference - min in 1-D, the sweeps of
    _pareto_kernels in 2-D and 3-D (they pass over dominated points and copies), WFG from 4-D."""
    n, m = F.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - F[:, 0].min())
    if m == 2:
        return float(_kernels().hypervolume_2d(np.ascontiguousarray(F), ref))
    if m == 3:
        return float(_kernels().hypervolume_3d(np.ascontiguousarray(F), ref))
    return float(_wfg(_non_dominated(F), ref))


def _check_reference(reference, m=None):
    """`reference` as a float64 array (m,) of finite numbers, m the number of objectives when given."""
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 1 or not np.isfinite(ref).all():
        raise ValueError(f"`reference` must be a 1-D array of finite numbers; got {reference!r}.")
    if m is not None and ref.shape[0] != m:
        raise ValueError(f"`reference` must have one entry per objective ({m}); got {ref.shape[0]}.")
    return np.ascontiguousarray(ref)


def hypervolume(points, reference):
    """The Lebesgue measure of the region dominated by `points` (n, m) and bounded by `reference` (m,):
    vol({x : x <= reference and some p in points has p <= x}), all objectives minimised.

    Points not strictly below the reference in every objective add nothing. Exact: in 1-D, reference - min;
    in 2-D a sweep over the first objective, in 3-D a sweep over the third keeping the 2-D front of the
    points passed (Fonseca, Paquete & Lopez-Ibanez 2006; _pareto_kernels); WFG (While et al. 2012) from 4-D.
    """
    ref = _check_reference(reference)
    F = _as_points(points)
    if F.shape[0] == 0:
        return 0.0
    ref = _check_reference(ref, F.shape[1])
    return _hypervolume_below(F[(F < ref).all(axis=1)], ref)


def _exclusive_hypervolume(p, S, ref):
    """HV(S + p) - HV(S) = prod(ref - p) - HV({max(p, s) : s in S}) for p (m,) and S (k, m), ref checked.

    The part of p's box that S covers is the union of the boxes of the limit set {max(p, s)}, the
    componentwise worse of p and each s (the step of WFG, While et al. 2012). 0 when p is not strictly
    below ref; a copy of p in S, or a point of S dominating p, makes the limit set's least point p, so
    the result is exactly 0 (the kernels compute that box in the same order).
    """
    if not (p < ref).all():
        return 0.0
    if ref.shape[0] in (2, 3):
        return float(_kernels().exclusive_hypervolume(p, S, ref))
    L = np.maximum(p, S)  # (k, m): the limit set
    return float(np.prod(ref - p)) - _hypervolume_below(L[(L < ref).all(axis=1)], ref)


def hypervolume_contributions(points, reference):
    """c_i = HV(P) - HV(P without p_i) for each row p_i of `points` (n, m): the volume that p_i alone
    dominates (within `reference`); (n,).

    Each c_i is p_i's exclusive hypervolume over the other points (one limit set of n - 1 points, While et
    al. 2012), not the difference of two hypervolumes. A point with a copy, or dominated by another, gets 0.
    """
    F = np.ascontiguousarray(_as_points(points))
    if F.shape[0] == 0:
        return np.zeros(0)
    ref = _check_reference(reference, F.shape[1])
    return np.array([_exclusive_hypervolume(F[i], np.delete(F, i, axis=0), ref) for i in range(F.shape[0])])


def greedy_hypervolume_subset(points, size, reference):
    """Indices of min(size, n) rows of `points` (n, m) in the order taken, each the one that adds the most
    hypervolume to those taken before it, i_t = argmax_i HV(S + p_i) - HV(S), ties to the lower index: the
    greedy answer to hypervolume subset selection, within 1 - 1/e of the best subset's hypervolume
    (submodular maximisation; Nemhauser, Wolsey & Fisher 1978).

    Lazy greedy (Minoux 1978): HV is submodular, so the gain of p only shrinks as S grows, and a gain
    computed for an earlier S bounds the present one. A max-heap holds each point's latest gain with the
    size of S it was computed for; the top is taken when computed for the present S, else recomputed
    (as an exclusive hypervolume) and pushed back. A present gain at the top is then at least every other
    point's bound; the heap orders equal gains by index, so the lowest index among the largest gains is
    taken, as a full argmax over every point would (gains equal only up to rounding may come in either
    order, as they may in a full argmax computed another way).
    """
    F = np.ascontiguousarray(_as_points(points))
    if not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"`size` must be an integer >= 0; got {size!r}.")
    n, m = F.shape
    if n == 0:
        return np.empty(0, dtype=np.int64)
    ref = _check_reference(reference, m)
    S = np.empty((min(size, n), m))  # the points taken, in order
    taken = []
    heap = [(-_exclusive_hypervolume(F[i], S[:0], ref), i, 0) for i in range(n)]  # (-gain, i, |S| then)
    heapq.heapify(heap)
    while len(taken) < S.shape[0]:
        _, i, t = heapq.heappop(heap)
        if t == len(taken):
            S[t] = F[i]
            taken.append(i)
        else:
            heapq.heappush(heap, (-_exclusive_hypervolume(F[i], S[:len(taken)], ref), i, len(taken)))
    return np.array(taken, dtype=np.int64)
