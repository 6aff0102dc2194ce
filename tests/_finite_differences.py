"""Central finite differences, the reference every analytic gradient in the tests is checked against."""

import numpy as np


def central_difference(f, theta, h=1e-6):
    """g_q = (f(theta + h e_q) - f(theta - h e_q)) / (2h), an O(h^2) estimate of df/dtheta_q."""
    g = np.empty_like(theta)
    for q in range(theta.size):
        e = np.zeros_like(theta)
        e[q] = h
        g[q] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g
