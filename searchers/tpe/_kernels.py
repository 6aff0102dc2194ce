"""Numba kernels of the Parzen estimator: the log of a Gaussian's mass over an interval, elementwise.

numpy has no erf, and the mass of a truncated-normal kernel over [a, b] must stay accurate (as a log) far
in the tails, where Phi(b) - Phi(a) underflows or cancels. With Phi the standard normal CDF:

    log Phi(x)         = log(erfc(-x / sqrt 2) / 2)                                for x >= -37
                       = -x^2/2 - log(-x) - log sqrt(2 pi) + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + ...)  below
    log(Phi(b) - Phi(a)) = log Phi(b) + log(1 - exp(log Phi(a) - log Phi(b)))        for b <= 0
                       = the same with (-b, -a)                                      for a >= 0 (symmetry)
                       = log(1 - Phi(a) - Phi(-b))                                   for a < 0 < b

(the asymptotic series of Mills' ratio: Abramowitz & Stegun 26.2.12). Each kernel compiles on its first
call and is cached on disk.
"""

import math

import numpy as np
from numba import njit

SQRT2 = math.sqrt(2.0)
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@njit(cache=True, nogil=True)
def log_ndtr(x):
    """log Phi(x), accurate for every finite x (erfc down to -37, then Mills' ratio series)."""
    if x >= -37.0:
        if x > 5.0:
            return math.log1p(-0.5 * math.erfc(x / SQRT2))
        return math.log(0.5 * math.erfc(-x / SQRT2))
    inv = 1.0 / (x * x)
    series = 1.0 - inv * (1.0 - 3.0 * inv * (1.0 - 5.0 * inv * (1.0 - 7.0 * inv
                                                                * (1.0 - 9.0 * inv * (1.0 - 11.0 * inv)))))
    return -0.5 * x * x - math.log(-x) - LOG_SQRT_2PI + math.log(series)


@njit(cache=True, nogil=True)
def _log1mexp(d):
    """log(1 - e^d) for d <= 0 (Maechler 2012: expm1 near 0, log1p far from it)."""
    if d > -0.6931471805599453:
        return math.log(-math.expm1(d))
    return math.log1p(-math.exp(d))


@njit(cache=True, nogil=True)
def log_gauss_mass_scalar(a, b):
    """log(Phi(b) - Phi(a)) for a <= b; -inf when a == b."""
    if a >= b:
        return -np.inf
    if b <= 0.0:
        hi, lo = log_ndtr(b), log_ndtr(a)
        return hi + _log1mexp(lo - hi)
    if a >= 0.0:
        hi, lo = log_ndtr(-a), log_ndtr(-b)
        return hi + _log1mexp(lo - hi)
    return math.log1p(-0.5 * math.erfc(-a / SQRT2) - 0.5 * math.erfc(b / SQRT2))


@njit(cache=True, nogil=True)
def log_gauss_mass(a, b, out):
    """out[i] = log(Phi(b[i]) - Phi(a[i])) over flat float64 arrays of one length."""
    for i in range(a.shape[0]):
        out[i] = log_gauss_mass_scalar(a[i], b[i])
    return out
