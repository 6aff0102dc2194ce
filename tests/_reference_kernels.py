"""A least-squares kernel that follows the optimizers' kernel contract, kept apart from the models
so the optimizers are tested on their own: L = 1/(2m) sum_{i in rows} (x_i.w + b - y_i)^2 + alpha/2 |w|^2."""

from numba import njit


@njit(cache=True, nogil=True)
def least_squares(theta, X, Y, rows, alpha, spec, grad):
    d = X.shape[1]
    m = rows.shape[0]
    for j in range(d + 1):
        grad[j] = 0.0
    loss = 0.0
    for i in rows:
        r = theta[d] - Y[i, 0]
        for j in range(d):
            r += X[i, j] * theta[j]
        loss += 0.5 * r * r
        for j in range(d):
            grad[j] += r * X[i, j]
        grad[d] += r
    loss /= m
    for j in range(d + 1):
        grad[j] /= m
    for j in range(d):
        loss += 0.5 * alpha * theta[j] * theta[j]
        grad[j] += alpha * theta[j]
    return loss
