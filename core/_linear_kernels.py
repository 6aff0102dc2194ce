"""Fused loss-and-gradient kernels of the linear models (least squares, binary logistic, softmax).

Kernel contract (see tunelab.optimizers): ``loss_grad(theta, X, Y, rows, alpha, spec, grad) -> L`` with

    L = (1/m) sum_{i in rows} loss_i(theta) + (alpha/2) |W|^2        (the intercept b is not regularised)

theta layout: W (d, k) row-major flattened, then b (k,), so W[j, c] = theta[j*k + c] and
b[c] = theta[d*k + c]; d = X.shape[1], k = Y.shape[1]. `spec` is empty (an intercept is fitted) or
[fit_intercept]: with spec = [0] the intercept is frozen, its gradient is 0 (b stays where it starts,
at 0), and a Hessian-vector product acts on it as the identity (so H stays invertible).

The rows are taken in blocks of BLOCK: the scores z_i = x_i W + b of a block are formed, the residuals
dL_i/dz_i are computed for the whole block at once (so exp and log run as vector loops), and
x_i^T dL_i/dz_i is added to the gradient while the block's rows are still in cache. X is read from
memory once: there is no second pass for X^T r. Inside a kernel W is held transposed, WT (k, d), so
both the scores (dot products) and the gradient update (axpy) run over contiguous memory. With one output
(k = 1) W is w = theta[:d] itself, the sums go straight into grad, and rows go four at a time (dot4, axpy4:
four rows share each load of w and each load and store of grad), with the rows further on prefetched, so
that a large X streams from memory at close to the speed of reading it. Mini-batch SGD on small batches
does not come here: it has a per-row path of its own (tunelab.core._linear_sgd).

Each model also has a loss-only kernel (`*_loss`, for line searches and validation) and a
Hessian-vector product ``*_hvp(theta, X, Y, rows, alpha, spec, v, out)`` writing H v into `out`
(for implicit differentiation of the optimum with respect to hyperparameters).
Sources: Hastie, Tibshirani & Friedman, The Elements of Statistical Learning, sections 3.4 and 4.4;
Bishop, Pattern Recognition and Machine Learning, section 4.3 (softmax, Hessians).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# error_model="numpy": x / 0 gives inf as in numpy. Numba's default ("python") puts a zero check on every
# float division, and that check stops LLVM from vectorising any loop that divides.
KERNEL = dict(cache=True, nogil=True, error_model="numpy")
# Reassociation lets LLVM vectorise reductions (dot products, sums); no flag assumes away NaN or inf.
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
BLOCK = 64  # rows per block: 64 rows of 50 float64 features stay in the 32 KiB L1 cache
AHEAD = 8  # rows prefetched ahead of the one being worked on, one row at a time (the per-row SGD path)
AHEAD4 = 32  # the same where four rows are worked on at a time (measured: 8 leaves large X 1.5x off its floor)
LINE = 8  # float64 values per 64-byte cache line

LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two (fdlibm): k * LN2_HI is exact for |k| < 2^20
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00


# --------------------------------------------------------------------------------------------------
# elementary functions as vector loops (libm's exp/log1p are scalar calls that block vectorisation)
# --------------------------------------------------------------------------------------------------
@njit(fastmath={"contract"}, **KERNEL)  # no reassociation: it would undo the Cody-Waite split
def exp_nonpositive(x, n, out, kbits):
    """out[t] = e^{x[t]} for x[t] <= 0, t < n, to ~1 ulp (results below e^-708 ~ 3e-308 are clamped there;
    `out` must not alias `x`, or LLVM's overlap check falls back to scalar code).

    e^x = 2^q e^r with q = round(x / ln 2), |r| <= ln(2)/2 (Cody-Waite reduction) and e^r by its Taylor
    polynomial of degree 13 (truncation error < 6e-18); 2^q is built from its exponent bits in
    `kbits` (int64 scratch, length >= n). Source: Muller, Elementary Functions, chapter 11.
    """
    for t in range(n):
        a = max(x[t], -708.0)
        q = np.floor(a * INV_LN2 + 0.5)
        r = (a - q * LN2_HI) - q * LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        out[t] = p * r + 1.0
        kbits[t] = (np.int64(q) + 1023) << 52  # the bits of the float64 2^q, -1022 <= q <= 0
    two_q = kbits.view(np.float64)
    for t in range(n):
        out[t] *= two_q[t]


@njit(fastmath={"contract"}, **KERNEL)
def log1p_unit(e, n, out):
    """out[t] = log(1 + e[t]) for 0 <= e[t] <= 1, t < n, to ~1 ulp (`out` must not alias `e`).

    log(1 + e) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = e / (2 + e) <= 1/3: 17 terms leave an
    error below 2e-18 relative, and s is formed without cancellation for tiny e.
    """
    for t in range(n):
        s = e[t] / (2.0 + e[t])
        u = s * s
        p = 1.0 / 33.0
        p = p * u + 1.0 / 31.0
        p = p * u + 1.0 / 29.0
        p = p * u + 1.0 / 27.0
        p = p * u + 1.0 / 25.0
        p = p * u + 1.0 / 23.0
        p = p * u + 1.0 / 21.0
        p = p * u + 1.0 / 19.0
        p = p * u + 1.0 / 17.0
        p = p * u + 1.0 / 15.0
        p = p * u + 1.0 / 13.0
        p = p * u + 1.0 / 11.0
        p = p * u + 1.0 / 9.0
        p = p * u + 1.0 / 7.0
        p = p * u + 1.0 / 5.0
        p = p * u + 1.0 / 3.0
        out[t] = 2.0 * s * (p * u + 1.0)


# --------------------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------------------
@intrinsic
def _prefetch(typingctx, X, i, j):
    """Ask the processor to fetch the cache line of X[i, j] (llvm.prefetch: a read, kept in all cache levels).
    A hint: it never faults and changes no value."""
    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, signature.args[0], array, [args[1], args[2]],
                                           wraparound=False)
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
        prefetch = builder.module.declare_intrinsic("llvm.prefetch", [pointer.type], function_type)
        builder.call(prefetch, [pointer, i32(0), i32(3), i32(1)])  # read, highest locality, data cache
        return context.get_dummy_value()

    return types.void(X, i, j), codegen


@njit(**KERNEL)
def prefetch_row(X, i):
    """Prefetch every cache line of row i of X (C-contiguous)."""
    for j in range(0, X.shape[1], LINE):
        _prefetch(X, i, j)


@njit(fastmath=FASTMATH, **KERNEL)
def dot(x, w):
    """x . w over contiguous memory."""
    s = 0.0
    for j in range(x.shape[0]):
        s += x[j] * w[j]
    return s


@njit(fastmath=FASTMATH, **KERNEL)
def axpy(a, x, g):
    """g += a * x over contiguous memory."""
    for j in range(x.shape[0]):
        g[j] += a * x[j]


# Rows of X are read by index (X[i, j]) rather than as row views (X[i]): a view is a new array whose reference
# count Numba increments and decrements, which costs as much as the arithmetic on a row of 50 values.
@njit(fastmath=FASTMATH, **KERNEL)
def dot_row(X, i, w):
    """x_i . w."""
    s = 0.0
    for j in range(w.shape[0]):
        s += X[i, j] * w[j]
    return s


@njit(fastmath=FASTMATH, **KERNEL)
def axpy_row(a, X, i, g):
    """g += a x_i."""
    for j in range(g.shape[0]):
        g[j] += a * X[i, j]


@njit(fastmath=FASTMATH, **KERNEL)
def dot_rows(X, i, M, c):
    """x_i . M[c] (M (k, d), a row of weights)."""
    s = 0.0
    for j in range(M.shape[1]):
        s += X[i, j] * M[c, j]
    return s


@njit(fastmath=FASTMATH, **KERNEL)
def axpy_rows(a, X, i, M, c):
    """M[c] += a x_i."""
    for j in range(M.shape[1]):
        M[c, j] += a * X[i, j]


@njit(fastmath=FASTMATH, **KERNEL)
def dot4(X, i0, i1, i2, i3, w):
    """(x_i0 . w, x_i1 . w, x_i2 . w, x_i3 . w) in one pass: four rows share each load of w."""
    s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
    for j in range(w.shape[0]):
        wj = w[j]
        s0 += X[i0, j] * wj
        s1 += X[i1, j] * wj
        s2 += X[i2, j] * wj
        s3 += X[i3, j] * wj
    return s0, s1, s2, s3


@njit(fastmath=FASTMATH, **KERNEL)
def axpy4(X, a0, i0, a1, i1, a2, i2, a3, i3, g):
    """g += a0 x_i0 + a1 x_i1 + a2 x_i2 + a3 x_i3 in one pass: four rows share each load and store of g."""
    for j in range(g.shape[0]):
        g[j] += a0 * X[i0, j] + a1 * X[i1, j] + a2 * X[i2, j] + a3 * X[i3, j]


@njit(**KERNEL)
def scores1(X, rows, start, stop, w, b, Z, ahead):
    """Z[t - start] = x_{rows[t]} . w + b for start <= t < stop, four rows at a time, prefetching the rows
    `ahead` positions further on (the hardware prefetcher does not run far enough ahead of rows read in order,
    and cannot follow rows read out of order)."""
    last = rows.shape[0] - 1
    stop4 = stop - (stop - start) % 4
    for t in range(start, stop4, 4):
        for q in range(4):
            prefetch_row(X, rows[min(t + ahead + q, last)])
        z0, z1, z2, z3 = dot4(X, rows[t], rows[t + 1], rows[t + 2], rows[t + 3], w)
        u = t - start
        Z[u], Z[u + 1], Z[u + 2], Z[u + 3] = z0 + b, z1 + b, z2 + b, z3 + b
    for t in range(stop4, stop):
        Z[t - start] = dot_row(X, rows[t], w) + b


@njit(**KERNEL)
def add_rows1(X, rows, start, stop, R, g, ahead):
    """g += sum_t R[t - start] x_{rows[t]} over start <= t < stop, four rows at a time, prefetching the rows
    `ahead` positions further on (the next block's, while this block's are read again from cache)."""
    last = rows.shape[0] - 1
    stop4 = stop - (stop - start) % 4
    for t in range(start, stop4, 4):
        for q in range(4):
            prefetch_row(X, rows[min(t + ahead + q, last)])
        u = t - start
        axpy4(X, R[u], rows[t], R[u + 1], rows[t + 1], R[u + 2], rows[t + 2], R[u + 3], rows[t + 3], g)
    for t in range(stop4, stop):
        axpy_row(R[t - start], X, rows[t], g)


@njit(**KERNEL)
def _transposed_weights(theta, d, k):
    """WT[c, j] = W[j, c] = theta[j*k + c]; returns WT (k, d) contiguous."""
    WT = np.empty((k, d))
    for j in range(d):
        for c in range(k):
            WT[c, j] = theta[j * k + c]
    return WT


@njit(**KERNEL)
def intercept_fitted(spec):
    """False when spec = [0]: the intercept is frozen."""
    return spec.shape[0] == 0 or spec[0] != 0


@njit(**KERNEL)
def _store_gradient(GT, gb, theta, alpha, inv_m, d, k, spec, grad):
    """grad = [GT^T / m + alpha W, gb / m] in theta's layout (0 for a frozen intercept)."""
    for j in range(d):
        for c in range(k):
            grad[j * k + c] = GT[c, j] * inv_m + alpha * theta[j * k + c]
    fitted = intercept_fitted(spec)
    for c in range(k):
        grad[d * k + c] = gb[c] * inv_m if fitted else 0.0


@njit(**KERNEL)
def _store_hvp(GT, gb, v, alpha, inv_m, d, k, spec, out):
    """out = [GT^T / m + alpha V, gb / m] (v_b itself for a frozen intercept: H is the identity there)."""
    _store_gradient(GT, gb, v, alpha, inv_m, d, k, spec, out)
    if not intercept_fitted(spec):
        for c in range(k):
            out[d * k + c] = v[d * k + c]


@njit(**KERNEL)
def _finish_gradient(grad, theta, alpha, inv_m, d, k, spec):
    """grad holds the sums over the rows in theta's layout; grad <- grad / m + alpha [W, 0] (b: 0 if frozen)."""
    for q in range(d * k):
        grad[q] = grad[q] * inv_m + alpha * theta[q]
    fitted = intercept_fitted(spec)
    for c in range(k):
        grad[d * k + c] = grad[d * k + c] * inv_m if fitted else 0.0


@njit(**KERNEL)
def _direction_intercept(v, d, k, spec):
    """v_b, the intercept part of a direction; 0 for a frozen intercept."""
    return v[d * k:].copy() if intercept_fitted(spec) else np.zeros(k)


@njit(fastmath=FASTMATH, **KERNEL)
def _weight_norm2(theta, d, k):
    """|W|^2 over the weights (the intercept excluded)."""
    s = 0.0
    for q in range(d * k):
        s += theta[q] * theta[q]
    return s


@njit(**KERNEL)
def _inv_len(rows):
    m = rows.shape[0]
    return 1.0 / m if m > 0 else 0.0


@njit(**KERNEL)
def _block_scores(X, block, WT, b, Z):
    """Z[t*k + c] = x_{block[t]} . WT[c] + b[c]: the scores of a block, Z (nb*k,) flat."""
    k = WT.shape[0]
    for t in range(block.shape[0]):
        for c in range(k):
            Z[t * k + c] = dot_rows(X, block[t], WT, c) + b[c]


@njit(**KERNEL)
def _block_gradient(X, block, R, GT, gb):
    """GT[c] += R[t*k + c] x_{block[t]} and gb[c] += R[t*k + c]: X_block^T R accumulated, GT (k, d)."""
    k = GT.shape[0]
    for t in range(block.shape[0]):
        for c in range(k):
            gb[c] += R[t * k + c]
            axpy_rows(R[t * k + c], X, block[t], GT, c)


# --------------------------------------------------------------------------------------------------
# least squares, k outputs
# --------------------------------------------------------------------------------------------------
@njit(**KERNEL)
def squared_block(Z, Y, block, k):
    """Z <- Z - Y_block (the residuals r); returns 1/2 sum |r|^2 over the block."""
    L = 0.0
    for t in range(block.shape[0]):
        i = block[t]
        for c in range(k):
            r = Z[t * k + c] - Y[i, c]
            Z[t * k + c] = r
            L += 0.5 * r * r
    return L


@njit(**KERNEL)
def _squared_sums1(theta, X, Y, rows, grad):
    """One output: grad <- [sum_i r_i x_i, sum_i r_i], r_i = x_i . w + b - y_i; returns sum_i r_i^2 / 2.
    Four rows at a time, in one pass over each: their scores share the loads of w, their updates those of grad."""
    d, m = X.shape[1], rows.shape[0]
    w, b, g = theta[:d], theta[d], grad[:d]
    for q in range(d + 1):
        grad[q] = 0.0
    L, gb = 0.0, 0.0
    m4, last = m - m % 4, m - 1
    for t in range(0, m4, 4):
        for q in range(4):
            prefetch_row(X, rows[min(t + AHEAD4 + q, last)])
        i0, i1, i2, i3 = rows[t], rows[t + 1], rows[t + 2], rows[t + 3]
        z0, z1, z2, z3 = dot4(X, i0, i1, i2, i3, w)
        r0, r1, r2, r3 = z0 + b - Y[i0, 0], z1 + b - Y[i1, 0], z2 + b - Y[i2, 0], z3 + b - Y[i3, 0]
        L += 0.5 * (r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3)
        gb += r0 + r1 + r2 + r3
        axpy4(X, r0, i0, r1, i1, r2, i2, r3, i3, g)
    for t in range(m4, m):
        i = rows[t]
        r = dot_row(X, i, w) + b - Y[i, 0]
        L += 0.5 * r * r
        gb += r
        axpy_row(r, X, i, g)
    grad[d] = gb
    return L


@njit(inline="always", **KERNEL)  # inlined into the compiled epoch: one module, optimised once
def squared_loss_grad(theta, X, Y, rows, alpha, spec, grad):
    """L = 1/(2m) sum_i |x_i W + b - y_i|^2 + alpha/2 |W|^2;  dL/dW = X^T R / m + alpha W, dL/db = sum_i r_i / m.

    X (n, d), Y (n, k), rows (m,), theta and grad (d*k + k,). Without exp or log nothing is gained by
    blocks of rows: each row's residual r_ic = x_i . WT[c] + b_c - y_ic goes at once into the gradient.
    """
    d, k = X.shape[1], Y.shape[1]
    if k == 1:  # one output: w is theta[:d] itself and the sums go straight into grad (no allocation)
        L = _squared_sums1(theta, X, Y, rows, grad)
        inv_m = _inv_len(rows)
        _finish_gradient(grad, theta, alpha, inv_m, d, 1, spec)
        return L * inv_m + 0.5 * alpha * _weight_norm2(theta, d, 1)
    WT, b = _transposed_weights(theta, d, k), theta[d * k:]  # (k, d), (k,)
    GT, gb = np.zeros((k, d)), np.zeros(k)
    L = 0.0
    for i in rows:
        for c in range(k):
            r = dot_rows(X, i, WT, c) + b[c] - Y[i, c]
            L += 0.5 * r * r
            gb[c] += r
            axpy_rows(r, X, i, GT, c)
    inv_m = _inv_len(rows)
    _store_gradient(GT, gb, theta, alpha, inv_m, d, k, spec, grad)
    return L * inv_m + 0.5 * alpha * _weight_norm2(theta, d, k)


@njit(**KERNEL)
def squared_loss(theta, X, Y, rows, alpha, spec):
    """L = 1/(2m) sum_i |x_i W + b - y_i|^2 + alpha/2 |W|^2 (loss only)."""
    d, k, m = X.shape[1], Y.shape[1], rows.shape[0]
    WT, b = _transposed_weights(theta, d, k), theta[d * k:]
    Z = np.empty(BLOCK * k)
    L = 0.0
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        _block_scores(X, block, WT, b, Z)
        L += squared_block(Z, Y, block, k)
    return L * _inv_len(rows) + 0.5 * alpha * _weight_norm2(theta, d, k)


@njit(**KERNEL)
def squared_hvp(theta, X, Y, rows, alpha, spec, v, out):
    """out = H v, H = (1/m) sum_i x~_i^T x~_i (per output) + alpha diag(1_W, 0), x~_i = (x_i, 1):
    per row u = x_i V + v_b is accumulated as x~_i^T u. H depends on neither theta nor Y."""
    d, k, m = X.shape[1], Y.shape[1], rows.shape[0]
    VT, vb = _transposed_weights(v, d, k), _direction_intercept(v, d, k, spec)
    GT, gb = np.zeros((k, d)), np.zeros(k)
    U = np.empty(BLOCK * k)
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        _block_scores(X, block, VT, vb, U)
        _block_gradient(X, block, U, GT, gb)
    _store_hvp(GT, gb, v, alpha, _inv_len(rows), d, k, spec, out)


# --------------------------------------------------------------------------------------------------
# binary logistic regression, Y (n, 1) in {0, 1}
# --------------------------------------------------------------------------------------------------
@njit(fastmath=FASTMATH, **KERNEL)
def logistic_block(Z, Y, block, A, E, L1P, kbits):
    """Z <- sigmoid(z) - y (the residuals); returns sum_t log(1 + e^{z_t}) - y_t z_t over the block.

    With e = e^{-|z|} <= 1: log(1 + e^z) = max(z, 0) + log1p(e) and sigmoid(z) = (1 or e) / (1 + e),
    finite for every finite z.
    """
    nb = block.shape[0]
    for t in range(nb):
        A[t] = -abs(Z[t])
    exp_nonpositive(A, nb, E, kbits)  # E <- e^{-|z|}
    log1p_unit(E, nb, L1P)
    L = 0.0
    for t in range(nb):
        z, y = Z[t], Y[block[t], 0]
        L += max(z, 0.0) + L1P[t] - y * z
        Z[t] = (1.0 if z >= 0.0 else E[t]) / (1.0 + E[t]) - y
    return L


@njit(inline="always", **KERNEL)  # inlined into the compiled epoch: one module, optimised once
def logistic_loss_grad(theta, X, Y, rows, alpha, spec, grad):
    """L = (1/m) sum_i [log(1 + e^{z_i}) - y_i z_i] + alpha/2 |w|^2, z_i = x_i w + b;
    dL/dz_i = sigmoid(z_i) - y_i.  X (n, d), Y (n, 1), theta and grad (d + 1,)."""
    d, m = X.shape[1], rows.shape[0]
    w, b, g = theta[:d], theta[d], grad[:d]
    for q in range(d + 1):
        grad[q] = 0.0  # sums over the rows, in theta's layout (k = 1: W (d, 1) flattened is w itself)
    scratch = np.empty(4 * BLOCK)
    Z, A, E, L1P = scratch[:BLOCK], scratch[BLOCK:2 * BLOCK], scratch[2 * BLOCK:3 * BLOCK], scratch[3 * BLOCK:]
    kbits = np.empty(BLOCK, np.int64)
    L = 0.0
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        stop = start + block.shape[0]
        scores1(X, rows, start, stop, w, b, Z, AHEAD4)  # scores of the block
        L += logistic_block(Z, Y, block, A, E, L1P, kbits)  # Z <- residuals
        for t in range(block.shape[0]):
            grad[d] += Z[t]
        add_rows1(X, rows, start, stop, Z, g, BLOCK)  # rows still in cache; the next block's are fetched
    inv_m = _inv_len(rows)
    _finish_gradient(grad, theta, alpha, inv_m, d, 1, spec)
    return L * inv_m + 0.5 * alpha * _weight_norm2(theta, d, 1)


@njit(**KERNEL)
def logistic_loss(theta, X, Y, rows, alpha, spec):
    """L = (1/m) sum_i [log(1 + e^{z_i}) - y_i z_i] + alpha/2 |w|^2 (loss only)."""
    d, m = X.shape[1], rows.shape[0]
    WT, b = theta[:d].reshape(1, d), theta[d:]
    Z, A, E, L1P = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    kbits = np.empty(BLOCK, np.int64)
    L = 0.0
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        _block_scores(X, block, WT, b, Z)
        L += logistic_block(Z, Y, block, A, E, L1P, kbits)
    return L * _inv_len(rows) + 0.5 * alpha * _weight_norm2(theta, d, 1)


@njit(**KERNEL)
def logistic_hvp(theta, X, Y, rows, alpha, spec, v, out):
    """out = H v, H = (1/m) sum_i p_i (1 - p_i) x~_i^T x~_i + alpha diag(1_w, 0), p_i = sigmoid(z_i);
    p (1 - p) = e / (1 + e)^2 with e = e^{-|z|}."""
    d, m = X.shape[1], rows.shape[0]
    WT, b = theta[:d].reshape(1, d), theta[d:]
    VT, vb = v[:d].reshape(1, d), _direction_intercept(v, d, 1, spec)
    GT, gb = np.zeros((1, d)), np.zeros(1)
    Z, E, U, kbits = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK, np.int64)
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        nb = block.shape[0]
        _block_scores(X, block, WT, b, Z)
        _block_scores(X, block, VT, vb, U)  # u_i = x_i v_w + v_b
        for t in range(nb):
            Z[t] = -abs(Z[t])
        exp_nonpositive(Z, nb, E, kbits)  # e = e^{-|z|}
        for t in range(nb):
            U[t] *= E[t] / ((1.0 + E[t]) * (1.0 + E[t]))
        _block_gradient(X, block, U, GT, gb)
    _store_hvp(GT, gb, v, alpha, _inv_len(rows), d, 1, spec, out)


# --------------------------------------------------------------------------------------------------
# multinomial logistic regression, Y one-hot (n, K)
# --------------------------------------------------------------------------------------------------
@njit(fastmath=FASTMATH, **KERNEL)
def softmax_block(Z, Y, block, k, A, E, kbits):
    """Z <- s_i softmax(z_i) - y_i (the residuals, s_i = sum_c y_ic); E <- softmax(z_i);
    returns sum_i sum_c y_ic (lse(z_i) - z_ic) over the block, lse by the max-shift.

    Each step is a loop of its own (gather the targets, shift, exp, sums, log, residuals), so that the
    random reads of Y overlap and the arithmetic runs as vector loops."""
    nb = block.shape[0]
    Yb, lse, s = np.empty(nb * k), np.empty(nb), np.zeros(nb)
    for t in range(nb):  # Y_block, contiguous (nb, k)
        y = Y[block[t]]
        for c in range(k):
            Yb[t * k + c] = y[c]
    for t in range(nb):
        zmax = Z[t * k]
        for c in range(1, k):
            zmax = max(zmax, Z[t * k + c])
        lse[t] = zmax
        for c in range(k):
            A[t * k + c] = Z[t * k + c] - zmax
    exp_nonpositive(A, nb * k, E, kbits)
    for t in range(nb):
        total = 0.0
        for c in range(k):
            total += E[t * k + c]
            s[t] += Yb[t * k + c]
        lse[t] += np.log(total)
        for c in range(k):
            E[t * k + c] *= 1.0 / total
    L = 0.0
    for t in range(nb):
        for c in range(k):
            q = t * k + c
            L += Yb[q] * (lse[t] - Z[q])
            Z[q] = s[t] * E[q] - Yb[q]
    return L


@njit(inline="always", **KERNEL)  # inlined into the compiled epoch: one module, optimised once
def softmax_loss_grad(theta, X, Y, rows, alpha, spec, grad):
    """L = (1/m) sum_i sum_c y_ic [lse(z_i) - z_ic] + alpha/2 |W|^2, z_i = x_i W + b;
    dL/dz_ic = s_i p_ic - y_ic with p_i = softmax(z_i), s_i = sum_c y_ic (= 1 for one-hot rows).
    X (n, d), Y (n, K), theta and grad (d*K + K,)."""
    d, k, m = X.shape[1], Y.shape[1], rows.shape[0]
    WT, b = _transposed_weights(theta, d, k), theta[d * k:]  # (K, d), (K,)
    GT, gb = np.zeros((k, d)), np.zeros(k)
    Z, A, E = np.empty(BLOCK * k), np.empty(BLOCK * k), np.empty(BLOCK * k)
    kbits = np.empty(BLOCK * k, np.int64)
    L = 0.0
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        _block_scores(X, block, WT, b, Z)
        L += softmax_block(Z, Y, block, k, A, E, kbits)
        _block_gradient(X, block, Z, GT, gb)
    inv_m = _inv_len(rows)
    _store_gradient(GT, gb, theta, alpha, inv_m, d, k, spec, grad)
    return L * inv_m + 0.5 * alpha * _weight_norm2(theta, d, k)


@njit(**KERNEL)
def softmax_loss(theta, X, Y, rows, alpha, spec):
    """L = (1/m) sum_i sum_c y_ic [lse(z_i) - z_ic] + alpha/2 |W|^2 (loss only)."""
    d, k, m = X.shape[1], Y.shape[1], rows.shape[0]
    WT, b = _transposed_weights(theta, d, k), theta[d * k:]
    Z, A, E = np.empty(BLOCK * k), np.empty(BLOCK * k), np.empty(BLOCK * k)
    kbits = np.empty(BLOCK * k, np.int64)
    L = 0.0
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        _block_scores(X, block, WT, b, Z)
        L += softmax_block(Z, Y, block, k, A, E, kbits)
    return L * _inv_len(rows) + 0.5 * alpha * _weight_norm2(theta, d, k)


@njit(**KERNEL)
def softmax_hvp(theta, X, Y, rows, alpha, spec, v, out):
    """out = H v, H = (1/m) sum_i s_i (x~_i^T x~_i) kron (diag(p_i) - p_i p_i^T) + alpha diag(1_W, 0):
    per row u = x_i V + v_b and t_c = s_i p_c (u_c - p.u), accumulated as x~_i^T t."""
    d, k, m = X.shape[1], Y.shape[1], rows.shape[0]
    WT, b = _transposed_weights(theta, d, k), theta[d * k:]
    VT, vb = _transposed_weights(v, d, k), _direction_intercept(v, d, k, spec)
    GT, gb = np.zeros((k, d)), np.zeros(k)
    Z, A, P, U = np.empty(BLOCK * k), np.empty(BLOCK * k), np.empty(BLOCK * k), np.empty(BLOCK * k)
    kbits = np.empty(BLOCK * k, np.int64)
    for start in range(0, m, BLOCK):
        block = rows[start:start + BLOCK]
        _block_scores(X, block, WT, b, Z)
        _block_scores(X, block, VT, vb, U)
        softmax_block(Z, Y, block, k, A, P, kbits)  # P <- softmax(z_i)
        for t in range(block.shape[0]):
            i = block[t]
            s, pu = 0.0, 0.0
            for c in range(k):
                s += Y[i, c]
                pu += P[t * k + c] * U[t * k + c]
            for c in range(k):
                U[t * k + c] = s * P[t * k + c] * (U[t * k + c] - pu)
        _block_gradient(X, block, U, GT, gb)
    _store_hvp(GT, gb, v, alpha, _inv_len(rows), d, k, spec, out)
