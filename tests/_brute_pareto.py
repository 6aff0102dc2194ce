"""Brute-force definitions of the hypervolume and of what is built on it, for tests: obviously correct, slow.

    HV(P)             the cells of the grid of all coordinates (and the reference) whose lower corner some
                      point weakly dominates, their volumes summed (exact for integer coordinates)
    contribution_i    HV(P) - HV(P without p_i)
    greedy subset     S <- S + argmax_i [HV(S + p_i) - HV(S)] over the points not in S, ties to the lower index
"""

import itertools

import numpy as np


def brute_hypervolume(points, ref):
    """vol of the union of the boxes [p, ref] of the points strictly below ref, by coordinate compression."""
    F = np.asarray(points, dtype=float).reshape(-1, len(ref))
    F = F[(F < np.asarray(ref)).all(axis=1)]
    if F.shape[0] == 0:
        return 0.0
    axes = [np.unique(np.append(F[:, k], ref[k])) for k in range(len(ref))]
    total = 0.0
    for cell in itertools.product(*[range(len(a) - 1) for a in axes]):
        low = np.array([axes[k][c] for k, c in enumerate(cell)])
        if (F <= low).all(axis=1).any():
            total += np.prod([axes[k][c + 1] - axes[k][c] for k, c in enumerate(cell)])
    return total


def brute_contributions(points, ref):
    """HV(P) - HV(P without p_i) for each point; (n,)."""
    F = np.asarray(points, dtype=float)
    total = brute_hypervolume(F, ref)
    return np.array([total - brute_hypervolume(np.delete(F, i, axis=0), ref) for i in range(len(F))])


def brute_gains(points, chosen, ref):
    """HV(S + p_i) - HV(S) for every i, S the points `chosen`; (n,)."""
    F = np.asarray(points, dtype=float)
    base = brute_hypervolume(F[chosen], ref)
    return np.array([brute_hypervolume(F[chosen + [i]], ref) - base for i in range(len(F))])


def brute_greedy_subset(points, size, ref, tol=0.0):
    """Greedy hypervolume subset selection by its definition: each step the point of largest gain among those
    not taken, the lowest index among gains within `tol` of the largest."""
    F = np.asarray(points, dtype=float)
    chosen = []
    for _ in range(min(size, len(F))):
        gains = brute_gains(F, chosen, ref)
        gains[chosen] = -np.inf
        chosen.append(int(np.flatnonzero(gains >= gains.max() - tol)[0]))
    return chosen
