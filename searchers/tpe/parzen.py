"""The Parzen estimator of TPE: a weighted mixture of product kernels over one group of dimensions.

Over the unit cube of a group of g dimensions (the space's encoding, so log dimensions are already in log
scale), with n observations u_1..u_n, their weights v_i and the prior weight p:

    p(u) = sum_{k=0}^{n} w_k prod_j K_j(u_j | k),        w_k = v_k / (sum_i v_i + p),  w_n = p / (sum_i v_i + p)

    Real j        K_j = N(u_j; mu_kj, sigma_kj^2) / Z_kj, the normal truncated to [0, 1],
                  Z = Phi((1 - mu)/sigma) - Phi(-mu/sigma)
    Integer j     the mass that truncated normal gives the cell [e_i, e_i+1) of the level u_j decodes to,
                  (Phi((e_i+1 - mu)/sigma) - Phi((e_i - mu)/sigma)) / Z; the cells tile [0, 1], so the
                  masses of all levels sum to 1 (Optuna's discrete truncated normal over [low - 1/2, high + 1/2]);
                  an Integer of more than MAX_CELLS values is treated as a Real, its draws rounded
    Categorical j kernel k gives its observed choice c_k the weight 1 + p/(n+1) and every choice p/(n+1),
                  normalised over the m choices: an Aitchison & Aitken (1976) kernel whose smoothing fades
                  as observations accumulate, as Optuna's
    prior (k = n) mu = 1/2, sigma = 1 (the whole range) for numeric dimensions, uniform for categorical ones

Kernel k = i < n sits at the observation (mu_kj = u_ij, or its choice). Bandwidths, per numeric dimension:

    "neighbor"  sigma_i = max(mu_i - left neighbour, right neighbour - mu_i) among the sorted observations and
                the ends 0 and 1 (Bergstra et al. 2011); without `consider_endpoints` the outermost kernels
                take their inner distance only (Optuna's default)
    "scott"     sigma = 1.059 min(std, IQR / 1.34) n^(-1/(g+4)) for every kernel (Scott's rule in g
                dimensions, as the multivariate KDE of BOHB: Falkner, Klein & Hutter 2018)
    "optuna"    sigma = 0.2 n^(-1/(g+4)) for every kernel (Optuna's multivariate rule before v5)

then the magic clip (Bergstra et al. 2011; Watanabe 2023, sec. 3.4) sigma <- clip(sigma, s_min, 1) with
s_min = max(min_bandwidth_factor, (n + 2)^-alpha); Optuna's rule is alpha = 1, factor 0.01.

Sampling draws a kernel k with probability w_k, then each coordinate from K_j(. | k): numeric ones by
rejection from N(mu, sigma^2) until inside [0, 1] (mu is inside, so at least a third of the draws are),
snapped to the level's unit point for integers. Watanabe, "Tree-structured Parzen estimator:
understanding its algorithm components and their roles for better empirical performance", 2023, sec. 3.
"""

from typing import NamedTuple

import numpy as np

from tunelab.searchers.space import Categorical, Integer
from tunelab.searchers.tpe._kernels import LOG_SQRT_2PI, log_gauss_mass

REAL, CELLS, CHOICE = 0, 1, 2  # Column.kind
BANDWIDTHS = ("neighbor", "scott", "optuna")
MAX_CELLS = 4096  # larger Integer dimensions are treated as real ones, rounded


class KernelSettings(NamedTuple):
    """How the estimator is built; see the module docstring."""

    prior_weight: float = 1.0
    bandwidth: str = "neighbor"
    consider_endpoints: bool = False
    magic_clip: bool = True
    min_bandwidth_factor: float = 0.01
    magic_clip_exponent: float = 1.0


class Column(NamedTuple):
    """One dimension of a group: its kind, the Dimension, and the cell edges (CELLS) or choices' unit points
    (CHOICE)."""

    kind: int
    dim: object
    edges: object = None  # (m + 1,) for CELLS
    units: object = None  # (m,) for CHOICE


def columns(space, indices):
    """The Columns of the dimensions `indices` of `space`, in that order. An Integer of more than
    MAX_CELLS values is a REAL column whose draws are rounded: its kernels are far wider than a cell, so
    the density at a value stands for the cell's mass divided by its width, which l/g cancels."""
    out = []
    for j in indices:
        dim = space.dims[j]
        if isinstance(dim, Categorical):
            out.append(Column(CHOICE, dim, None, dim.level_units()))
        elif isinstance(dim, Integer) and dim.n_values <= MAX_CELLS:
            out.append(Column(CELLS, dim, dim.cell_edges()))
        else:
            out.append(Column(REAL, dim))
    return out


def neighbor_bandwidth(mu, consider_endpoints=False):
    """sigma_i = max(gap to the left neighbour, gap to the right one) with 0 and 1 as outer neighbours; (n,)."""
    order = np.argsort(mu, kind="stable")
    x = np.concatenate([[0.0], mu[order], [1.0]])  # (n + 2,)
    sigma_sorted = np.maximum(x[1:-1] - x[:-2], x[2:] - x[1:-1])
    if not consider_endpoints and x.shape[0] >= 4:
        sigma_sorted[0] = x[2] - x[1]
        sigma_sorted[-1] = x[-2] - x[-3]
    sigma = np.empty_like(mu)
    sigma[order] = sigma_sorted
    return sigma


def scott_bandwidth(mu, group_size):
    """sigma = 1.059 min(std, IQR / 1.34) n^(-1/(g+4)) for every kernel; (n,)."""
    n = mu.shape[0]
    std = np.std(mu, ddof=1) if n > 1 else 0.0
    q75, q25 = np.percentile(mu, [75, 25])
    spread = min(std, (q75 - q25) / 1.34) if q75 > q25 else std
    return np.full(n, 1.059 * spread * n ** (-1.0 / (group_size + 4)))


def bandwidths(mu, settings, group_size):
    """The clipped bandwidths of n kernels at mu (n,), for one numeric dimension."""
    n = mu.shape[0]
    if settings.bandwidth == "scott":
        sigma = scott_bandwidth(mu, group_size)
    elif settings.bandwidth == "optuna":
        sigma = np.full(n, 0.2 * n ** (-1.0 / (group_size + 4)))
    else:
        sigma = neighbor_bandwidth(mu, settings.consider_endpoints)
    low = 1e-12
    if settings.magic_clip:
        low = max(settings.min_bandwidth_factor, (n + 2.0) ** -settings.magic_clip_exponent)
    return np.clip(sigma, low, 1.0)


def _log_mass(a, b):
    """log(Phi(b) - Phi(a)) elementwise over arrays of one shape."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    out = np.empty(a.size)
    log_gauss_mass(np.ascontiguousarray(a).ravel(), np.ascontiguousarray(b).ravel(), out)
    return out.reshape(a.shape)


def _logsumexp_rows(A):
    """log sum_k exp(A[:, k]); (c,)."""
    top = A.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    return top + np.log(np.exp(A - top[:, None]).sum(axis=1))


def _truncated_normal(rng, mu, sigma):
    """Draws of N(mu, sigma^2) conditioned on [0, 1], by rejection; mu, sigma (c,) -> (c,)."""
    x = mu + sigma * rng.standard_normal(mu.shape[0])
    outside = (x < 0.0) | (x > 1.0)
    while outside.any():
        x[outside] = mu[outside] + sigma[outside] * rng.standard_normal(int(outside.sum()))
        outside = (x < 0.0) | (x > 1.0)
    return x


class ParzenEstimator:
    """p(u) over one group of dimensions (see the module docstring), built from U (n, g) and weights (n,).

    `log_pdf(C)` gives log p at points C (c, g); `sample(rng, c)` draws c points (c, g). A discrete
    dimension's factor is a probability mass, a real one's a density, so ratios of two estimators over the
    same columns compare like with like.
    """

    def __init__(self, U, weights, cols, settings=KernelSettings()):
        U = np.asarray(U, dtype=np.float64).reshape(-1, len(cols))  # (n, g)
        n = U.shape[0]
        v = np.append(np.asarray(weights, dtype=np.float64).reshape(n), settings.prior_weight)
        self.cols, self.n = cols, n
        with np.errstate(divide="ignore"):
            self.log_w = np.log(v / v.sum())  # (K,), K = n + 1, the prior last
        numeric = [j for j, col in enumerate(cols) if col.kind != CHOICE]
        K = n + 1
        self.mu, self.sigma = np.full((K, len(numeric)), 0.5), np.ones((K, len(numeric)))
        for q, j in enumerate(numeric):
            if n:
                self.mu[:n, q] = U[:, j]
                self.sigma[:n, q] = bandwidths(U[:, j], settings, len(cols))
        self.log_Z = _log_mass(-self.mu / self.sigma, (1.0 - self.mu) / self.sigma)  # (K, q)
        self._numeric = numeric
        self.log_P = {j: self._choice_kernels(U[:, j], col, settings.prior_weight)
                      for j, col in enumerate(cols) if col.kind == CHOICE}

    def _choice_kernels(self, u, col, prior_weight):
        """log kernel matrix (K, m): row i weights 1 + p/K on choice c_i and p/K on each; the prior row uniform."""
        m, n = col.dim.n_values, u.shape[0]
        P = np.full((n + 1, m), prior_weight / (n + 1))
        P[np.arange(n), col.dim.level(u)] += 1.0
        P[n] = 1.0
        return np.log(P / P.sum(axis=1, keepdims=True))

    def log_pdf(self, C):
        """log p(c) at each row of C (c, g); (c,)."""
        C = np.asarray(C, dtype=np.float64).reshape(-1, len(self.cols))
        A = np.repeat(self.log_w[None, :], C.shape[0], axis=0)  # (c, K): log w_k + sum_j log K_j(c_j | k)
        for q, j in enumerate(self._numeric):
            col, mu, s = self.cols[j], self.mu[:, q], self.sigma[:, q]
            if col.kind == REAL:
                z = (C[:, j, None] - mu) / s  # (c, K)
                A += -0.5 * z * z - np.log(s) - LOG_SQRT_2PI - self.log_Z[:, q]
            else:
                levels, which = np.unique(col.dim.level(C[:, j]), return_inverse=True)  # each cell once
                a, b = col.edges[levels][:, None], col.edges[levels + 1][:, None]  # (l, 1)
                A += (_log_mass((a - mu) / s, (b - mu) / s) - self.log_Z[:, q])[which.ravel()]
        for j, log_P in self.log_P.items():
            A += log_P[:, self.cols[j].dim.level(C[:, j])].T
        return _logsumexp_rows(A)

    def sample(self, rng, size):
        """`size` points drawn from p; (size, g), discrete coordinates at their level's unit point."""
        k = rng.choice(self.log_w.shape[0], size=size, p=np.exp(self.log_w))  # (size,) kernels
        out = np.empty((size, len(self.cols)))
        for q, j in enumerate(self._numeric):
            x = _truncated_normal(rng, self.mu[k, q], self.sigma[k, q])
            out[:, j] = self.cols[j].dim.snap(x)  # x itself for a Real
        for j, log_P in self.log_P.items():
            cumulative = np.cumsum(np.exp(log_P[k]), axis=1)  # (size, m)
            r = rng.random(size) * cumulative[:, -1]
            level = np.minimum((cumulative < r[:, None]).sum(axis=1), cumulative.shape[1] - 1)
            out[:, j] = self.cols[j].units[level]
        return out
