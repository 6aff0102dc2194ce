"""Gaussian-process regression for the Bayesian searcher: ARD Matern-5/2 or RBF kernel, noise, weak
priors, hyperparameters by multi-start L-BFGS, and a Cholesky factor extended one point at a time.

    k(x, z) = sf2 rho(r^2),  r^2 = sum_f ((x_f - z_f) / ell_f)^2,  K = k(Z, Z) + sn2 I
    mu(x) = c + k(x, Z) alpha,  var(x) = sf2 - k(x, Z) K^{-1} k(Z, x)     (latent f, no noise)
    alpha = K^{-1} (y - c),  c = 1'K^{-1} y / 1'K^{-1} 1                  (constant mean, its ML estimate)
    -log p(y | theta) = 1/2 (y - c)' alpha + sum_i log L_ii + n/2 log 2 pi,  K = L L'
    d/dtheta = 1/2 tr((K^{-1} - alpha alpha') dK/dtheta)           (c drops out: d/dc is 0 at its optimum)

(Rasmussen & Williams, Gaussian Processes for Machine Learning, 2006, algorithm 2.1, eqs. 2.42 and 5.9.)
The constant mean matters for search: the finished trials cluster where the loss is low, so their plain
average is optimistic about unexplored regions; the generalised-least-squares mean c weighs clustered
points down and keeps the model from sending trials to far corners that are merely unknown.
theta = (log ell_1..q, log sf2, log sn2) in a box; several features may share one lengthscale (the
one-hot block of a categorical dimension). Outputs are standardised by the caller.
"""

import functools
from dataclasses import dataclass

import numpy as np

from tunelab.optimizers import minimize
from tunelab.searchers.bayes import _kernels as kern

KERNELS = ("matern52", "rbf")
LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True)
class Prior:
    """Independent normal priors on log ell, log sf2, log sn2, and the box the fit stays in.

    The lengthscale prior is centred at ell_loc + ell_per_dim log(q) so that lengthscales grow with
    the number of dimensions q (Hvarfner, Hellsten & Nardi, "Vanilla Bayesian optimization performs
    great in high dimensions", ICML 2024); all of them are wide enough to leave the data in charge
    and only keep tiny or duplicated data from a degenerate fit.
    """

    ell_loc: float = np.log(0.5)
    ell_per_dim: float = 0.5
    ell_scale: float = 1.5
    sf2_loc: float = 0.0
    sf2_scale: float = 1.5
    sn2_loc: float = np.log(1e-4)
    sn2_scale: float = 3.0
    ell_bounds: tuple = (np.log(5e-3), np.log(50.0))
    sf2_bounds: tuple = (np.log(1e-2), np.log(100.0))
    sn2_bounds: tuple = (np.log(1e-8), np.log(1.0))

    def loc_scale(self, q):
        """Prior means and standard deviations of theta; two (q + 2,) arrays (shared: do not write)."""
        return _loc_scale(self, q)

    def penalty(self, theta):
        """-log p(theta) up to a constant, and its gradient; theta (q + 2,)."""
        loc, scale = self.loc_scale(theta.shape[0] - 2)
        t = (theta - loc) / scale
        return 0.5 * t @ t, t / scale

    def bounds(self, q):
        """(q + 2, 2) box of theta."""
        return np.array([self.ell_bounds] * q + [self.sf2_bounds, self.sn2_bounds])


@functools.lru_cache(maxsize=64)
def _loc_scale(prior, q):
    loc = np.full(q + 2, prior.ell_loc + prior.ell_per_dim * np.log(q))
    loc[q:] = prior.sf2_loc, prior.sn2_loc
    scale = np.full(q + 2, prior.ell_scale)
    scale[q:] = prior.sf2_scale, prior.sn2_scale
    return loc, scale


def cholesky_jitter(K, max_tries=8):
    """(L, jitter): L L' = K + jitter I, with jitter 0 when K factors, else 1e-10 mean(diag K) times 10^k.

    Raises np.linalg.LinAlgError naming the largest jitter tried when none makes K positive definite.
    """
    if not np.all(np.isfinite(K)):
        raise np.linalg.LinAlgError("the GP kernel matrix is not positive definite: it holds NaN or infinite values.")
    try:
        return np.linalg.cholesky(K), 0.0
    except np.linalg.LinAlgError:
        pass
    scale = float(np.mean(np.diag(K)))
    if not np.isfinite(scale) or scale <= 0.0:
        raise np.linalg.LinAlgError(f"the GP kernel matrix is not positive definite (mean diagonal {scale!r}).")
    jitter = 1e-10 * scale
    for _ in range(max_tries):
        try:
            return np.linalg.cholesky(K + jitter * np.eye(K.shape[0])), jitter
        except np.linalg.LinAlgError:
            jitter *= 10.0
    raise np.linalg.LinAlgError(
        f"the GP kernel matrix is not positive definite even with jitter {jitter / 10.0:.3g} on its diagonal "
        "(are some observations NaN or infinite?).")


def correlation(X, Z, inv_ell, matern, out=None, grad=True):
    """R = rho(r^2) and G = drho/d(r^2) between the rows of X (c, p) and Z (n, p); two (c, n) arrays
    (G empty when grad=False). Z=None means Z = X (a symmetric matrix, computed on one triangle);
    `out` = (R, G) buffers to reuse."""
    shape = (X.shape[0], X.shape[0] if Z is None else Z.shape[0])
    R, G = out if out is not None else (np.empty(shape), np.empty(shape if grad or Z is None else (0, 0)))
    if Z is None:
        kern.correlation_symmetric(np.ascontiguousarray(X), inv_ell, matern, R, G)
    else:
        kern.correlation(np.ascontiguousarray(X), np.ascontiguousarray(Z), inv_ell, matern, R, G)
    return R, G


class Workspace:
    """n x n buffers reused by every evaluation of one fit: fresh large arrays cost page faults that
    otherwise take as long as the arithmetic."""

    def __init__(self, n):
        self.R, self.G, self.K, self.Linv, self.Kinv = (np.empty((n, n)) for _ in range(5))


def _unpack(theta, groups):
    q = theta.shape[0] - 2
    return np.exp(-theta[:q])[groups], np.exp(theta[q]), np.exp(theta[q + 1])


def _gls_mean(a, w):
    """The constant mean c maximising the likelihood: c = 1'K^{-1}y / 1'K^{-1}1, a = L^{-1}y, w = L^{-1}1."""
    return (w @ a) / (w @ w)


def neg_log_posterior(theta, Z, y, groups, matern, prior, grad=True, work=None):
    """-log p(y | theta) - log p(theta) (up to a constant) and its gradient in theta; theta (q + 2,).

    Z (n, p) features, y (n,) standardised outputs, groups (p,) the lengthscale index of each feature;
    `work` an optional Workspace(n).
    """
    n = Z.shape[0]
    q = theta.shape[0] - 2
    work = work or Workspace(n)
    inv_ell, sf2, sn2 = _unpack(theta, groups)
    R, G = correlation(Z, None, inv_ell, matern, out=(work.R, work.G))
    K = np.multiply(R, sf2, out=work.K)
    K[np.diag_indices(n)] += sn2
    try:
        L, _ = cholesky_jitter(K)
    except np.linalg.LinAlgError:
        return np.inf, np.zeros_like(theta)
    prior_term, prior_grad = prior.penalty(theta)
    if not grad:
        a, w = np.empty(n), np.empty(n)
        kern.forward_solve(L, y, a)
        kern.forward_solve(L, np.ones(n), w)
        a -= _gls_mean(a, w) * w
        return 0.5 * a @ a + np.log(np.diag(L)).sum() + 0.5 * n * LOG_2PI + prior_term, None
    Linv = work.Linv
    kern.lower_inverse(L, Linv)
    a, w = Linv @ y, Linv.sum(axis=1)
    a -= _gls_mean(a, w) * w  # L^{-1} (y - c)
    alpha = Linv.T @ a
    f = 0.5 * a @ a + np.log(np.diag(L)).sum() + 0.5 * n * LOG_2PI + prior_term
    Kinv = np.matmul(Linv.T, Linv, out=work.Kinv)
    S = np.empty(Z.shape[1])
    wr, tr = kern.lml_gradient_terms(Kinv, alpha, R, G, np.ascontiguousarray(Z), S)
    g = prior_grad.copy()
    g[:q] += np.bincount(groups, -sf2 * inv_ell**2 * S, minlength=q)
    g[q] += 0.5 * sf2 * wr
    g[q + 1] += 0.5 * sn2 * tr
    return f, g


def fit_hyperparameters(Z, y, groups, matern, rng, prior=Prior(), n_raw=16, max_iter=200):
    """theta maximising the posterior, by L-BFGS in the box from several starts; (q + 2,).

    Starts: the prior's centre with a large (1e-2) and with a tiny (1e-6) noise, as the likelihood often
    has one mode that explains the data by noise and one that interpolates it, and the best of `n_raw`
    draws from the prior. Below 100 points L-BFGS runs from all three; from 100 points on (where each
    run costs more and the posterior has fewer modes) only from the best-scoring of the first two.
    The best end point wins.
    """
    q = int(groups.max()) + 1
    loc, scale = prior.loc_scale(q)
    bounds = prior.bounds(q)
    Z = np.ascontiguousarray(Z)
    y = np.ascontiguousarray(y, dtype=np.float64)
    work = Workspace(Z.shape[0])

    def score(t):
        return neg_log_posterior(t, Z, y, groups, matern, prior, grad=False, work=work)[0]

    starts = [np.clip(np.r_[loc[:-1], np.log(noise)], bounds[:, 0], bounds[:, 1]) for noise in (1e-2, 1e-6)]
    if Z.shape[0] < 100:
        draws = np.clip(loc + scale * rng.standard_normal((n_raw, q + 2)), bounds[:, 0], bounds[:, 1])
        starts.append(draws[np.argmin([score(t) for t in draws])])
    else:
        starts = [min(starts, key=score)]
    best_theta, best_f = None, np.inf
    for theta0 in starts:
        result = minimize(lambda t: neg_log_posterior(t, Z, y, groups, matern, prior, work=work), theta0,
                          bounds=bounds, max_iter=max_iter, gtol=1e-4)
        if best_theta is None or (np.isfinite(result.fun) and result.fun < best_f):
            best_theta, best_f = result.x, result.fun
    return np.array(best_theta)


class GPFactor:
    """The Cholesky factor L of K = sf2 R(Z, Z) + (sn2 + jitter) I at fixed hyperparameters, and L^{-1}.

    `extend(z)` borders both with one new point in O(n^2):
        L+ = [[L, 0], [l', d]],  l = L^{-1} k(Z, z),  d = sqrt(k(z, z) + sn2 + jitter - l'l)
        L+^{-1} = [[L^{-1}, 0], [-l' L^{-1} / d, 1 / d]]
    """

    def __init__(self, theta, groups, matern, Z):
        self.theta, self.groups, self.matern = np.array(theta, dtype=np.float64), groups, bool(matern)
        self.inv_ell, self.sf2, self.sn2 = _unpack(self.theta, groups)
        self._factor(np.ascontiguousarray(Z, dtype=np.float64))

    def _factor(self, Z):
        n = Z.shape[0]
        R, _ = correlation(Z, None, self.inv_ell, self.matern)
        K = self.sf2 * R
        K[np.diag_indices(n)] += self.sn2
        self.L, self.jitter = cholesky_jitter(K)
        self.Linv = np.empty_like(self.L)
        kern.lower_inverse(self.L, self.Linv)
        self.Z = Z

    @property
    def n(self):
        return self.Z.shape[0]

    def copy(self):
        other = object.__new__(GPFactor)
        other.__dict__.update(self.__dict__)
        return other  # arrays are replaced, never written in place, so sharing them is safe

    def extend(self, z):
        """Add the point z (p,) to the factor, in O(n^2); a fresh factorisation if the border is not PD."""
        z = np.ascontiguousarray(z, dtype=np.float64)[None, :]  # (1, p)
        R, _ = correlation(z, self.Z, self.inv_ell, self.matern, grad=False)
        k = self.sf2 * R[0]  # (n,)
        l = np.empty(self.n)
        kern.forward_solve(self.L, k, l)
        kappa = self.sf2 + self.sn2 + self.jitter
        d2 = kappa - l @ l
        Z = np.vstack([self.Z, z])
        if not d2 > 1e-12 * kappa:  # numerically dependent point: refactor with adaptive jitter
            self._factor(Z)
            return self
        d = np.sqrt(d2)
        n = self.n
        L = np.zeros((n + 1, n + 1))
        L[:n, :n] = self.L
        L[n, :n], L[n, n] = l, d
        Linv = np.zeros((n + 1, n + 1))
        Linv[:n, :n] = self.Linv
        Linv[n, :n], Linv[n, n] = -(l @ self.Linv) / d, 1.0 / d
        self.L, self.Linv, self.Z = L, Linv, Z
        return self


class GPPosterior:
    """The posterior given a factor and standardised targets y (n,): c the GLS mean, alpha = K^{-1} (y - c)."""

    def __init__(self, factor, y):
        self.factor = factor
        self.y = np.asarray(y, dtype=np.float64)
        a, w = factor.Linv @ self.y, factor.Linv.sum(axis=1)
        self.c = _gls_mean(a, w)
        self.alpha = factor.Linv.T @ (a - self.c * w)  # (n,): K^{-1} (y - c)
        self._sf2_alpha = factor.sf2 * self.alpha
        self._sf2_LinvT = factor.sf2 * factor.Linv.T  # (n, n): k(x, Z) L^{-T} = R(x, Z) sf2 L^{-T}

    def train_mean(self):
        """mu at the training points: K_f alpha = y - (sn2 + jitter) alpha; (n,)."""
        return self.y - (self.factor.sn2 + self.factor.jitter) * self.alpha

    def predict(self, X, grad=False):
        """mu (c,), var (c,) of the latent f at X (c, p); with grad also dmu/dX, dvar/dX (c, p).

        dk(x, z_j)/dx = 2 sf2 G_j (x - z_j) / ell^2, so dmu/dx = sum_j alpha_j dk_j/dx and
        dvar/dx = -2 sum_j (K^{-1} k)_j dk_j/dx.
        """
        F = self.factor
        X = np.ascontiguousarray(X, dtype=np.float64)
        R, G = correlation(X, F.Z, F.inv_ell, F.matern, grad=grad)  # (c, n)
        mu = self.c + R @ self._sf2_alpha
        V = R @ self._sf2_LinvT  # (c, n): rows L^{-1} k(Z, x)
        var = F.sf2 - np.einsum("ij,ij->i", V, V)
        if not grad:
            return mu, var
        scale = 2.0 * F.sf2 * F.inv_ell**2  # (p,)
        A = G * self.alpha  # (c, n)
        dmu = scale * (A.sum(axis=1)[:, None] * X - A @ F.Z)
        B = G * (V @ F.Linv)  # (c, n): G_j (K^{-1} k)_j
        dvar = -2.0 * scale * (B.sum(axis=1)[:, None] * X - B @ F.Z)
        return mu, var, dmu, dvar
