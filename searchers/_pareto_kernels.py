"""Numba kernels of the hypervolume in two and three objectives, and of the exclusive hypervolume of a point.

All objectives are minimised and r is the reference point. For points P (n, m):

    HV_2(P) = sum_i (r_1 - x_i) (b_i - y_i)           over P in x order, for each distinct x the least y;
                                                      b_i the least y before it (r_2 at first), where y_i < b_i
    HV_3(P) = sum_j A_j (z_{j+1} - z_j)               over the z values at which the staircase changes;
                                                      A_j the area (HV_2) of the (x, y) of the points with
                                                      z <= z_j, z after the last one r_3
    HV(S + p) - HV(S) = prod_k (r_k - p_k) - HV({max(p, s) : s in S})     (the exclusive hypervolume of p)

The 3-D sweep keeps the 2-D non-dominated "staircase" of the points seen so far in a sorted array, O(n^2)
in all (Fonseca, Paquete & Lopez-Ibanez 2006, "An improved dimension-sweep algorithm for the hypervolume
indicator", IEEE CEC, reach O(n log n) with a balanced tree; for the few dozen points of a TPE split the
array is faster). The exclusive hypervolume is the step of WFG (While, Bradstreet & Barone 2012, "A fast
way of calculating exact hypervolumes", IEEE TEC 16(1)): the part of p's box that S already covers is the
union of the boxes of the "limit set" {max(p, s)}, the componentwise worse of p and each s.

Each kernel takes float64 C-contiguous arrays, compiles on its first call and is cached on disk. The sweeps
expect every point strictly below r (the callers filter; exclusive_hypervolume filters its limit set) and
pass over points dominated by others, and copies, on their own.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def hypervolume_2d(F, ref):
    """HV_2 of F (n, 2), every row strictly below ref (2,): a sweep in f1 order keeping the least f2.

    Each run of equal f1 counts once, with its least f2, so the sum is the one over F sorted by (f1, f2).
    """
    order = np.argsort(F[:, 0], kind="mergesort")
    area, best = 0.0, ref[1]
    t, n = 0, F.shape[0]
    while t < n:
        x, y = F[order[t], 0], F[order[t], 1]
        t += 1
        while t < n and F[order[t], 0] == x:
            y = min(y, F[order[t], 1])
            t += 1
        if y < best:
            area += (ref[0] - x) * (best - y)
            best = y
    return area


@njit(cache=True, nogil=True)
def _staircase_insert(x, y, size, px, py):
    """Insert (px, py) into the staircase x[:size] ascending, y[:size] descending (mutually non-dominated);
    returns the new size, or -1 when a point of the staircase weakly dominates (px, py) (nothing changes).

    With b the number of points of x < px: (px, py) is dominated by point b - 1 if its y <= py, or by point
    b if it has x = px and y <= py; otherwise the points it dominates (x >= px, y >= py) are the run from b
    while y >= py, and (px, py) takes their place.
    """
    b = 0
    while b < size and x[b] < px:
        b += 1
    if (b > 0 and y[b - 1] <= py) or (b < size and x[b] == px and y[b] <= py):
        return -1
    c = b
    while c < size and y[c] >= py:
        c += 1
    shift = 1 - (c - b)  # one in, c - b out
    if shift > 0:
        for k in range(size - 1, c - 1, -1):
            x[k + 1], y[k + 1] = x[k], y[k]
    elif shift < 0:
        for k in range(c, size):
            x[k + shift], y[k + shift] = x[k], y[k]
    x[b], y[b] = px, py
    return size + shift


@njit(cache=True, nogil=True)
def _staircase_area(x, y, size, ref):
    """sum_k (x_{k+1} - x_k)(r_2 - y_k) over the staircase, x_size = r_1: the area it dominates."""
    area = 0.0
    for k in range(size):
        right = x[k + 1] if k + 1 < size else ref[0]
        area += (right - x[k]) * (ref[1] - y[k])
    return area


@njit(cache=True, nogil=True)
def hypervolume_3d(F, ref):
    """HV_3 of F (n, 3), every row strictly below ref (3,): sweep in f3 order over the (f1, f2) staircase.

    The slab between two z values at which the staircase changes adds its area times their distance, so a
    set whose least point p dominates all others gives exactly ((r1 - p1)(r2 - p2))(r3 - p3).
    """
    n = F.shape[0]
    if n == 0:
        return 0.0
    order = np.argsort(F[:, 2], kind="mergesort")
    x, y = np.empty(n), np.empty(n)  # the staircase of the points seen so far
    size, area, volume, z_from = 0, 0.0, 0.0, F[order[0], 2]
    for t in range(n):
        i = order[t]
        grown = _staircase_insert(x, y, size, F[i, 0], F[i, 1])
        if grown < 0:
            continue
        volume += area * (F[i, 2] - z_from)
        size, z_from = grown, F[i, 2]
        area = _staircase_area(x, y, size, ref)
    return volume + area * (ref[2] - z_from)


@njit(cache=True, nogil=True)
def exclusive_hypervolume(p, S, ref):
    """HV(S + p) - HV(S) = prod(r - p) - HV({max(p, s) : s in S}) for p (m,), S (k, m), m = 2 or 3.

    p must lie strictly below ref; limit points not strictly below it (from points of S that are not) are
    dropped, as they bound no volume.
    """
    k, m = S.shape
    L = np.empty((k, m))  # the limit set, its first n rows kept
    n = 0
    for i in range(k):
        below = True
        for j in range(m):
            L[n, j] = max(p[j], S[i, j])
            below = below and L[n, j] < ref[j]
        if below:
            n += 1
    box = (ref[0] - p[0]) * (ref[1] - p[1])
    if m == 2:
        return box - hypervolume_2d(L[:n], ref)
    return box * (ref[2] - p[2]) - hypervolume_3d(L[:n], ref)
