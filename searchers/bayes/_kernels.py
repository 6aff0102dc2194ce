"""Numba kernels of the GP searcher: correlation matrices, the lengthscale-gradient contraction,
triangular solves, and the Gaussian tail functions behind EI, log-EI and PI.

Everything here is a small pure function over float64 C-contiguous arrays; matrix products stay
outside, in numpy's BLAS (no np.dot inside @njit). Nothing compiles at import: each kernel compiles
on its first call and is cached on disk.

Correlations rho(r^2) of the scaled squared distance r^2 = sum_f ((x_f - z_f) / ell_f)^2:
    Matern-5/2   rho = (1 + s + s^2/3) exp(-s),  s = sqrt(5 r^2),  drho/d(r^2) = -5/6 (1 + s) exp(-s)
    RBF          rho = exp(-r^2 / 2),                               drho/d(r^2) = -rho / 2
(Rasmussen & Williams, Gaussian Processes for Machine Learning, 2006, eqs. 4.9 and 4.17.)
"""

import math

from numba import njit

# the acquisitions of acquisition_terms, by its argument `kind`
EI_ACQUISITION, LOG_EI_ACQUISITION, LOG_PI_ACQUISITION, UCB_ACQUISITION = 0, 1, 2, 3
SQRT2 = math.sqrt(2.0)
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_PI_OVER_2 = math.sqrt(0.5 * math.pi)


@njit(cache=True, nogil=True, inline="always")
def rho_and_slope(r2, matern):
    """(rho(r^2), drho/d(r^2)) for Matern-5/2 (matern=True) or RBF; see the module docstring."""
    if matern:
        s = math.sqrt(5.0 * r2)
        e = math.exp(-s)
        return (1.0 + s + s * s / 3.0) * e, -5.0 / 6.0 * (1.0 + s) * e
    e = math.exp(-0.5 * r2)
    return e, -0.5 * e


@njit(cache=True, nogil=True)
def correlation(X, Z, inv_ell, matern, R, G):
    """R_ij = rho(r2_ij) and G_ij = drho/d(r^2) at r2_ij = sum_f ((X_if - Z_jf) inv_ell_f)^2.

    X (c, p), Z (n, p), inv_ell (p,); writes R (c, n) and G (c, n), or not G if it is empty (0, 0).
    `matern`: Matern-5/2 if True, else RBF.
    """
    c, p = X.shape
    n = Z.shape[0]
    with_G = G.shape[0] > 0
    for i in range(c):
        for j in range(n):
            r2 = 0.0
            for f in range(p):
                t = (X[i, f] - Z[j, f]) * inv_ell[f]
                r2 += t * t
            R[i, j], slope = rho_and_slope(r2, matern)
            if with_G:
                G[i, j] = slope


@njit(cache=True, nogil=True)
def correlation_symmetric(Z, inv_ell, matern, R, G):
    """`correlation(Z, Z, ...)` computed on the lower triangle and mirrored; R, G (n, n)."""
    n, p = Z.shape
    for i in range(n):
        R[i, i] = 1.0
        G[i, i] = -5.0 / 6.0 if matern else -0.5
        for j in range(i):
            r2 = 0.0
            for f in range(p):
                t = (Z[i, f] - Z[j, f]) * inv_ell[f]
                r2 += t * t
            R[i, j], G[i, j] = rho_and_slope(r2, matern)
            R[j, i] = R[i, j]
            G[j, i] = G[i, j]


@njit(cache=True, nogil=True)
def lml_gradient_terms(Kinv, alpha, R, G, Z, S):
    """With W = K^{-1} - alpha alpha' (so that d(-log p)/dtheta = 1/2 tr(W dK/dtheta)):
    S_f = sum_ij W_ij G_ij (Z_if - Z_jf)^2 written into S (p,); returns (sum_ij W_ij R_ij, tr W).

    Kinv, R, G (n, n) symmetric (their lower triangles are read), alpha (n,), Z (n, p). W is never
    formed: dK/d(log ell_f) = -2 sf2 G (z_if - z_jf)^2 / ell_f^2, dK/d(log sf2) = sf2 R, dK/d(log sn2) = sn2 I.
    """
    n, p = Z.shape
    for f in range(p):
        S[f] = 0.0
    wr = 0.0
    tr = 0.0
    for i in range(n):
        w = Kinv[i, i] - alpha[i] * alpha[i]
        tr += w
        wr += w * R[i, i]
        for j in range(i):
            w = Kinv[i, j] - alpha[i] * alpha[j]
            wr += 2.0 * w * R[i, j]
            m = 2.0 * w * G[i, j]
            for f in range(p):
                t = Z[i, f] - Z[j, f]
                S[f] += m * t * t
    return wr, tr


@njit(cache=True, nogil=True)
def lower_inverse(L, out):
    """out = L^{-1} for a lower-triangular L (n, n), row by row: row i of L L^{-1} = e_i."""
    n = L.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 0.0
    for i in range(n):
        for k in range(i):  # out[i, :i] = -sum_k L[i, k] out[k, :i] / L[i, i]
            a = L[i, k]
            if a != 0.0:
                for j in range(k + 1):
                    out[i, j] -= a * out[k, j]
        d = 1.0 / L[i, i]
        for j in range(i):
            out[i, j] *= d
        out[i, i] = d


@njit(cache=True, nogil=True)
def forward_solve(L, b, out):
    """out = L^{-1} b by forward substitution; L (n, n) lower triangular, b (n,)."""
    n = L.shape[0]
    for i in range(n):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * out[k]
        out[i] = s / L[i, i]


# ---- Gaussian tails -------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def erfcx(x):
    """exp(x^2) erfc(x) for x >= 0; the asymptotic series 1/(x sqrt(pi)) (1 - 1/(2x^2) + ...) past x = 25."""
    if x < 25.0:
        return math.exp(x * x) * math.erfc(x)
    q = 1.0 / (2.0 * x * x)
    return (1.0 - q * (1.0 - 3.0 * q * (1.0 - 5.0 * q * (1.0 - 7.0 * q * (1.0 - 9.0 * q))))) / (x * math.sqrt(math.pi))


@njit(cache=True, nogil=True)
def log_h(z):
    """(log h(z), d log h / dz) with h(z) = phi(z) + z Phi(z), so that EI = sigma h((f* - mu) / sigma).

    h' = Phi, so d log h / dz = Phi / h. For z <= -1, Phi(z) = phi(z) m(z) with the Mills ratio
    m(z) = sqrt(pi/2) erfcx(-z / sqrt 2), so log h = log phi(z) + log(1 + z m(z)) without underflow
    (Ament et al., "Unexpected improvements to expected improvement", NeurIPS 2023, eq. 9);
    below z = -1e6 the series 1 + z m = 1/z^2 - 3/z^4 + ... is used.
    """
    if z > -1.0:
        phi = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        Phi = 0.5 * math.erfc(-z / SQRT2)
        h = phi + z * Phi
        return math.log(h), Phi / h
    if z > -1e6:
        m = SQRT_PI_OVER_2 * erfcx(-z / SQRT2)
        one_plus_zm = 1.0 + z * m
        return -0.5 * z * z - LOG_SQRT_2PI + math.log(one_plus_zm), m / one_plus_zm
    w = 1.0 / (z * z)
    one_plus_zm = w * (1.0 - 3.0 * w)
    return -0.5 * z * z - LOG_SQRT_2PI + math.log(one_plus_zm), -z - 2.0 / z


@njit(cache=True, nogil=True)
def log_ndtr(z):
    """(log Phi(z), phi(z) / Phi(z)), stable in both tails (erfcx below z = -1, log1p above 0)."""
    if z < -1.0:
        m = SQRT_PI_OVER_2 * erfcx(-z / SQRT2)  # Phi(z) / phi(z)
        return -0.5 * z * z - LOG_SQRT_2PI + math.log(m), 1.0 / m
    phi = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    if z > 0.0:
        Q = 0.5 * math.erfc(z / SQRT2)
        return math.log1p(-Q), phi / (1.0 - Q)
    Phi = 0.5 * math.erfc(-z / SQRT2)
    return math.log(Phi), phi / Phi


@njit(cache=True, nogil=True)
def acquisition_terms(kind, mu, sigma, f_best, kappa, a, da_dmu, da_dsigma):
    """Acquisition a(mu, sigma) to maximise, with its partial derivatives, for each candidate.

    z = (f_best - mu) / sigma, and by `kind`:
        EI_ACQUISITION       EI = sigma h(z)
        LOG_EI_ACQUISITION   log EI = log sigma + log h(z)
        LOG_PI_ACQUISITION   log PI = log Phi(z)
        UCB_ACQUISITION      UCB for minimisation = -mu + kappa sigma
    mu, sigma (c,) -> a, da_* (c,).
    """
    for i in range(mu.shape[0]):
        s = sigma[i]
        z = (f_best - mu[i]) / s
        if kind == EI_ACQUISITION:
            phi = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
            Phi = 0.5 * math.erfc(-z / SQRT2)
            a[i] = s * (phi + z * Phi)
            da_dmu[i] = -Phi
            da_dsigma[i] = phi
        elif kind == LOG_EI_ACQUISITION:
            v, dv = log_h(z)
            a[i] = math.log(s) + v
            da_dmu[i] = -dv / s
            da_dsigma[i] = (1.0 - dv * z) / s
        elif kind == LOG_PI_ACQUISITION:
            v, dv = log_ndtr(z)
            a[i] = v
            da_dmu[i] = -dv / s
            da_dsigma[i] = -dv * z / s
        else:  # UCB_ACQUISITION
            a[i] = -mu[i] + kappa * s
            da_dmu[i] = -1.0
            da_dsigma[i] = kappa

