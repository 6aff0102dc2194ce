"""Loss-and-gradient kernel of a multi-layer perceptron, backpropagation written out by hand.

spec = int64 [activation_code, output_code, n_0, n_1, ..., n_L]: n_0 inputs, L layers, n_L outputs.
theta = [W_0, b_0, W_1, b_1, ..., W_{L-1}, b_{L-1}], W_l (n_l, n_{l+1}) row-major, b_l (n_{l+1},);
`layer_offsets(spec)[l]` is where W_l starts, b_l follows it.

Forward (per row x):  a_0 = x;  z_{l+1} = a_l W_l + b_l;  a_{l+1} = act(z_{l+1}) for hidden layers;
the output z_L goes through the loss of `output_code`:
    OUTPUT_IDENTITY  squared error   loss_i = 1/2 |z_L - y_i|^2          (regression, Y (n, k))
    OUTPUT_SOFTMAX   cross-entropy   loss_i = lse(z_L) - y_i . z_L       (Y one-hot (n, K), K >= 2)
    OUTPUT_SIGMOID   binary log-loss loss_i = log(1 + e^z) - y_i z       (one unit, Y (n, 1) in {0, 1})
Binary classification uses the single sigmoid unit (as scikit-learn does): half the output weights of a
2-unit softmax, and the same function of the inputs.
L = (1/m) sum_{i in rows} loss_i + (alpha/2) sum_l |W_l|^2 (biases not regularised).

Backward:  delta_L = dloss/dz_L;  dW_l = a_l^T delta_{l+1};  db_l = sum_i delta_{l+1};
           delta_l = (delta_{l+1} W_l^T) * act'(z_l), with act' written through a = act(z):
           relu 1[a > 0], tanh 1 - a^2, sigmoid a (1 - a).
Source: Goodfellow, Bengio & Courville, Deep Learning, section 6.5 (back-propagation).

Rows go through in chunks of CHUNK. Every matrix product is `gemm_nt`, C = P Q^T with both factors
read along contiguous rows and 4 x 4 blocks of C summed in registers: forward a_l W_l = a_l (W_l^T)^T
(W^T copied once per call), dW_l = a_l^T (delta^T)^T (on transposed copies of the chunk's activations
and deltas, cheap next to the product, summed straight into grad) and delta W_l^T. (`tunelab bench fit` times
an epoch's products on 50,000 x 100 against numpy's BLAS on the same products: 39 GFLOPS, 1.2x numpy's time,
on a 2-core AMD EPYC, one thread; they stay in Numba so that the epoch is one compiled loop.)

Compile time: each compiled helper has a single signature (no optional arguments, no literal arguments: `beta`
is a float, offsets are variables) and no array-level assignment or reduction that would bring in Numba's
formatted shape errors. Numba generates the machine code of a compiled callee again inside every compiled
caller (its module is linked in and optimised there), so the levels of calls are kept few: mlp_loss_grad and
the two steps of a chunk (_forward_chunk, _output_loss) are inlined at Numba's level (inline="always") into
their callers, the compiled epoch (tunelab.optimizers._loop, one for every update rule) and mlp_loss; the
other helpers are compiled functions of their own (inline="always" copies and retypes a callee's IR at every
call site, which for a helper called in many places costs more than the call; LLVM still inlines the small
ones), except the two inside the matrix product's loops (_dot_rows, and _store_block, which takes the 16 sums
of a block: compiled apart, they cost the 50,000 x 100 epoch 10% and save no measurable compile time).
Prediction (mlp_forward) is numpy code, with nothing to compile.
"""

import numpy as np
from numba import njit

from tunelab.core._linear_kernels import (
    FASTMATH,
    KERNEL,
    exp_nonpositive,
    logistic_block,
    softmax_block,
    squared_block,
)

ACTIVATION_RELU, ACTIVATION_TANH, ACTIVATION_SIGMOID = 0, 1, 2
OUTPUT_IDENTITY, OUTPUT_SOFTMAX, OUTPUT_SIGMOID = 0, 1, 2
ACTIVATIONS = {"relu": ACTIVATION_RELU, "tanh": ACTIVATION_TANH, "sigmoid": ACTIVATION_SIGMOID}
CHUNK = 128  # rows per forward/backward chunk: activations of a chunk stay in cache


# --------------------------------------------------------------------------------------------------
# matrix product
# --------------------------------------------------------------------------------------------------
@njit(fastmath=FASTMATH, inline="always", **KERNEL)
def _dot_rows(P, p, Q, q):
    s = 0.0
    for j in range(P.shape[1]):
        s += P[p, j] * Q[q, j]
    return s


@njit(inline="always", **KERNEL)
def _store_block(C, p, q, s, beta, CT):
    """C[p:p+4, q:q+4] = beta C + s for the 16 sums s of a block, row by row; also CT[q:q+4, p:p+4] = its
    transpose unless CT is empty."""
    transposed = CT.shape[0] > 0
    for i in range(4):
        for j in range(4):
            C[p + i, q + j] = C[p + i, q + j] + s[4 * i + j] if beta != 0.0 else s[4 * i + j]
            if transposed:
                CT[q + j, p + i] = C[p + i, q + j]


@njit(fastmath=FASTMATH, **KERNEL)
def gemm_nt(P, Q, C, beta, CT):
    """C = P Q^T (beta = 0: C's old values are not read) or C += P Q^T (beta = 1): C[p, q] = sum_r P[p, r] Q[q, r].
    P (a, r), Q (b, r), C (a, b). Unless CT is empty (0, 0), C^T is written there too (CT (b, a)), at the cost
    of the stores only. (beta is a float, not a flag, so that a constant argument compiles no second copy.)

    4 x 4 blocks of C are summed in 16 scalars that LLVM keeps in vector registers, so each load of a
    row element feeds four multiply-adds (register blocking, Goto & van de Geijn, ACM TOMS 34(3), 2008).
    """
    a, r, b = P.shape[0], P.shape[1], Q.shape[0]
    if r == 1:  # an outer product (a network with one output unit): vectorise along the rows of C
        for p in range(a):
            x, row = P[p, 0], C[p]
            for q in range(b):
                row[q] = row[q] + x * Q[q, 0] if beta != 0.0 else x * Q[q, 0]
        if CT.shape[0] > 0:
            _transpose(C, CT)
        return
    a4, b4 = a - a % 4, b - b % 4
    for p in range(0, a4, 4):
        p0, p1, p2, p3 = P[p], P[p + 1], P[p + 2], P[p + 3]
        for q in range(0, b4, 4):
            q0, q1, q2, q3 = Q[q], Q[q + 1], Q[q + 2], Q[q + 3]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
            for j in range(r):
                x0, x1, x2, x3 = p0[j], p1[j], p2[j], p3[j]
                y0, y1, y2, y3 = q0[j], q1[j], q2[j], q3[j]
                s00 += x0 * y0
                s01 += x0 * y1
                s02 += x0 * y2
                s03 += x0 * y3
                s10 += x1 * y0
                s11 += x1 * y1
                s12 += x1 * y2
                s13 += x1 * y3
                s20 += x2 * y0
                s21 += x2 * y1
                s22 += x2 * y2
                s23 += x2 * y3
                s30 += x3 * y0
                s31 += x3 * y1
                s32 += x3 * y2
                s33 += x3 * y3
            sums = (s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33)
            _store_block(C, p, q, sums, beta, CT)
    # the edges: rows of C below a4 (all columns) and columns from b4 (rows above a4)
    for p in range(a):
        for q in range(b4 if p < a4 else 0, b):
            s = _dot_rows(P, p, Q, q)
            C[p, q] = C[p, q] + s if beta != 0.0 else s
            if CT.shape[0] > 0:
                CT[q, p] = C[p, q]


@njit(fastmath=FASTMATH, **KERNEL)
def _row_sum(x):
    s = 0.0
    for j in range(x.shape[0]):
        s += x[j]
    return s


@njit(**KERNEL)
def _transpose(M, MT):
    """MT = M^T; M (a, b), MT (b, a). Four rows of M at a time, so that each row of MT is written
    four neighbouring elements at once (three times faster than element by element)."""
    a, b = M.shape
    a4 = a - a % 4
    for p in range(0, a4, 4):
        m0, m1, m2, m3 = M[p], M[p + 1], M[p + 2], M[p + 3]
        for q in range(b):
            row = MT[q]
            row[p] = m0[q]
            row[p + 1] = m1[q]
            row[p + 2] = m2[q]
            row[p + 3] = m3[q]
    for p in range(a4, a):
        for q in range(b):
            MT[q, p] = M[p, q]


# --------------------------------------------------------------------------------------------------
# layout and activations
# --------------------------------------------------------------------------------------------------
@njit(**KERNEL)
def layer_offsets(spec):
    """off[l] is where W_l starts in theta (b_l at off[l] + n_l n_{l+1}); off[L] = len(theta)."""
    n_layers = spec.shape[0] - 3
    off = np.empty(n_layers + 1, np.int64)
    off[0] = 0
    for l in range(n_layers):
        off[l + 1] = off[l] + spec[2 + l] * spec[3 + l] + spec[3 + l]
    return off


def n_params(spec):
    """Length of theta for `spec` (plain Python: used to allocate theta without compiling)."""
    sizes = [int(n) for n in spec[2:]]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@njit(**KERNEL)
def _view(buffer, start, rows, cols):
    """buffer[start:start + rows*cols] seen as a (rows, cols) matrix."""
    return buffer[start:start + rows * cols].reshape((rows, cols))


@njit(fastmath=FASTMATH, **KERNEL)
def _activate(Z, code, NEG, E, kbits):
    """Z <- act(Z) elementwise on a flat chunk; tanh(z) = sign(z) (1 - e)/(1 + e) with e = e^{-2|z|},
    sigmoid(z) = (1 or e)/(1 + e) with e = e^{-|z|}: finite for all z, exp as a vector loop."""
    n = Z.shape[0]
    if code == ACTIVATION_RELU:
        for t in range(n):
            Z[t] = max(Z[t], 0.0)
        return
    scale = 2.0 if code == ACTIVATION_TANH else 1.0
    for t in range(n):
        NEG[t] = -scale * abs(Z[t])
    exp_nonpositive(NEG, n, E, kbits)
    if code == ACTIVATION_TANH:
        for t in range(n):
            h = (1.0 - E[t]) / (1.0 + E[t])
            Z[t] = h if Z[t] >= 0.0 else -h
    else:
        for t in range(n):
            Z[t] = (1.0 if Z[t] >= 0.0 else E[t]) / (1.0 + E[t])


@njit(fastmath=FASTMATH, **KERNEL)
def _activation_backward(A, D, code):
    """D <- D * act'(z), flat, written through a = act(z): relu 1[a > 0], tanh 1 - a^2, sigmoid a (1 - a)."""
    for t in range(A.shape[0]):
        a = A[t]
        if code == ACTIVATION_RELU:
            D[t] = D[t] if a > 0.0 else 0.0
        elif code == ACTIVATION_TANH:
            D[t] *= 1.0 - a * a
        else:
            D[t] *= a * (1.0 - a)


@njit(**KERNEL)
def _transposed_weights(theta, spec, off):
    """WT with theta's layout, the block of W_l holding W_l^T (n_{l+1}, n_l); bias slots unused."""
    WT = np.empty_like(theta)
    for l in range(spec.shape[0] - 3):
        n_in, n_out = spec[2 + l], spec[3 + l]
        _transpose(_view(theta, off[l], n_in, n_out), _view(WT, off[l], n_out, n_in))
    return WT


@njit(**KERNEL)
def _scratch(size):
    """Scratch for the vector exp and log1p of a chunk: NEG, E, L1P (float64) and kbits (int64), each (size,)."""
    return np.empty(size), np.empty(size), np.empty(size), np.empty(size, np.int64)


@njit(**KERNEL)
def _activation_offsets(spec, ch):
    """act_off[l] is where a_l (ch, n_l) starts in the flat activation buffer; act_off[L + 1] its length."""
    n_layers = spec.shape[0] - 3
    act_off = np.empty(n_layers + 2, np.int64)
    act_off[0] = 0
    for l in range(n_layers + 1):
        act_off[l + 1] = act_off[l] + ch * spec[2 + l]
    return act_off


@njit(inline="always", **KERNEL)
def _forward_chunk(theta, WT, spec, off, X, block, acts, act_off, NEG, E, kbits, actsT):
    """a_0 = X[block]; a_{l+1} = act(a_l W_l + b_l) for hidden layers; leaves the scores z_L in a_L.
    The inputs and hidden activations a_l^T (n_l, c) are written to actsT too (same offsets)."""
    n_layers, c = spec.shape[0] - 3, block.shape[0]
    A0 = _view(acts, act_off[0], c, spec[2])  # (an offset, not the literal 0, which would compile a copy)
    for t in range(c):
        i = block[t]
        for j in range(X.shape[1]):
            A0[t, j] = X[i, j]
    _transpose(A0, _view(actsT, act_off[0], spec[2], c))
    no_transpose = np.empty((0, 0))
    for l in range(n_layers):
        n_in, n_out = spec[2 + l], spec[3 + l]
        A_in = _view(acts, act_off[l], c, n_in)  # (c, n_l)
        Z = _view(acts, act_off[l + 1], c, n_out)  # (c, n_{l+1})
        b = theta[off[l] + n_in * n_out:off[l + 1]]
        start, stop = act_off[l + 1], act_off[l + 1] + c * n_out
        if l < n_layers - 1:  # a hidden layer, in both layouts
            ZT = _view(actsT, start, n_out, c)  # (n_{l+1}, c)
            gemm_nt(A_in, _view(WT, off[l], n_out, n_in), Z, 0.0, ZT)
            _add_bias(Z, b, ZT)
            _activate(acts[start:stop], spec[0], NEG, E, kbits)
            _activate(actsT[start:stop], spec[0], NEG, E, kbits)
        else:
            gemm_nt(A_in, _view(WT, off[l], n_out, n_in), Z, 0.0, no_transpose)
            _add_bias(Z, b, no_transpose)


@njit(**KERNEL)
def _add_bias(Z, b, ZT):
    """Z[t] += b for every row t; ZT[o] += b[o] as well unless ZT is empty."""
    for t in range(Z.shape[0]):
        z = Z[t]
        for o in range(b.shape[0]):
            z[o] += b[o]
    for o in range(ZT.shape[0]):
        bo, zt = b[o], ZT[o]
        for t in range(zt.shape[0]):
            zt[t] += bo


@njit(inline="always", **KERNEL)
def _output_loss(z, Y, block, code, A, E, L1P, kbits):
    """Sum over the chunk of loss_i; z (flat scores of the chunk) <- dloss_i/dz_i."""
    k = Y.shape[1]
    if code == OUTPUT_IDENTITY:
        return squared_block(z, Y, block, k)
    if code == OUTPUT_SOFTMAX:
        return softmax_block(z, Y, block, k, A, E, kbits)
    return logistic_block(z, Y, block, A, E, L1P, kbits)


@njit(fastmath=FASTMATH, **KERNEL)
def _weights_norm2(theta, spec, off):
    s = 0.0
    for l in range(spec.shape[0] - 3):
        for q in range(off[l], off[l] + spec[2 + l] * spec[3 + l]):
            s += theta[q] * theta[q]
    return s


@njit(**KERNEL)
def _widest(spec):
    """The largest layer width n_l."""
    width = spec[2]
    for l in range(3, spec.shape[0]):
        width = max(width, spec[l])
    return width


# --------------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------------
@njit(inline="always", **KERNEL)  # inlined into the compiled epoch: its code is generated once there
def mlp_loss_grad(theta, X, Y, rows, alpha, spec, grad):
    """L = (1/m) sum_{i in rows} loss_i + alpha/2 sum_l |W_l|^2 and grad = dL/dtheta by back-propagation.

    X (n, n_0), Y (n, n_L), rows (m,), theta and grad (p,); see the module docstring for spec and layout.
    """
    n_layers, m = spec.shape[0] - 3, rows.shape[0]
    off = layer_offsets(spec)
    WT = _transposed_weights(theta, spec, off)
    for q in range(grad.shape[0]):
        grad[q] = 0.0  # sums over the rows of dloss_i/dtheta, scaled by 1/m at the end
    # buffers of one chunk of ch rows: acts holds a_0 .. a_L one after the other (a_L: the scores, then
    # the output deltas), actsT their transposes; D0/D1 take turns for the hidden deltas, D0T/D1T for
    # their transposes; the rest is scratch for the vector exp and log1p
    ch = max(1, min(CHUNK, m))
    width = _widest(spec)
    act_off = _activation_offsets(spec, ch)
    acts, actsT = np.empty(act_off[-1]), np.empty(act_off[-1])
    D0, D1, D0T, D1T = np.empty(ch * width), np.empty(ch * width), np.empty(ch * width), np.empty(ch * width)
    NEG, E, L1P, kbits = _scratch(ch * width)
    no_transpose = np.empty((0, 0))
    L = 0.0
    for start in range(0, m, ch):
        block = rows[start:start + ch]
        c = block.shape[0]
        _forward_chunk(theta, WT, spec, off, X, block, acts, act_off, NEG, E, kbits, actsT)
        n_out = spec[2 + n_layers]
        scores = acts[act_off[n_layers]:act_off[n_layers] + c * n_out]  # z_L of the chunk, flat
        L += _output_loss(scores, Y, block, spec[1], NEG, E, L1P, kbits)
        delta = _view(acts, act_off[n_layers], c, n_out)  # dloss/dz_L (c, n_L)
        deltaT = _view(actsT, act_off[n_layers], n_out, c)
        _transpose(delta, deltaT)
        for l in range(n_layers - 1, -1, -1):
            n_in, n_out = spec[2 + l], spec[3 + l]
            A_inT = _view(actsT, act_off[l], n_in, c)  # a_l^T (n_l, c)
            gemm_nt(A_inT, deltaT, _view(grad, off[l], n_in, n_out), 1.0, no_transpose)  # dW_l += a_l^T delta
            gb = grad[off[l] + n_in * n_out:off[l + 1]]
            for o in range(n_out):
                gb[o] += _row_sum(deltaT[o])  # db_l += sum over the rows of delta
            if l > 0:  # delta_l = (delta W_l^T) * act'(z_l), in both layouts
                buffer, bufferT = (D0, D0T) if l % 2 == 0 else (D1, D1T)  # never the ones delta is in
                delta_in, delta_inT = buffer[:c * n_in].reshape((c, n_in)), bufferT[:c * n_in].reshape((n_in, c))
                gemm_nt(delta, _view(theta, off[l], n_in, n_out), delta_in, 0.0, delta_inT)
                a_start = act_off[l]
                _activation_backward(acts[a_start:a_start + c * n_in], buffer[:c * n_in], spec[0])
                _activation_backward(actsT[a_start:a_start + c * n_in], bufferT[:c * n_in], spec[0])
                delta, deltaT = delta_in, delta_inT
    inv_m = 1.0 / m if m > 0 else 0.0
    for l in range(n_layers):
        n_in, n_out = spec[2 + l], spec[3 + l]
        for q in range(off[l], off[l] + n_in * n_out):
            grad[q] = grad[q] * inv_m + alpha * theta[q]
        for q in range(off[l] + n_in * n_out, off[l + 1]):
            grad[q] *= inv_m
    return L * inv_m + 0.5 * alpha * _weights_norm2(theta, spec, off)


@njit(**KERNEL)
def mlp_loss(theta, X, Y, rows, alpha, spec):
    """L = (1/m) sum_{i in rows} loss_i + alpha/2 sum_l |W_l|^2 (loss only, for validation and line searches)."""
    n_layers, m = spec.shape[0] - 3, rows.shape[0]
    off = layer_offsets(spec)
    WT = _transposed_weights(theta, spec, off)
    ch = max(1, min(CHUNK, m))
    act_off = _activation_offsets(spec, ch)
    acts, actsT = np.empty(act_off[-1]), np.empty(act_off[-1])
    NEG, E, L1P, kbits = _scratch(ch * _widest(spec))
    L = 0.0
    n_out = spec[2 + n_layers]
    for start in range(0, m, ch):
        block = rows[start:start + ch]
        c = block.shape[0]
        _forward_chunk(theta, WT, spec, off, X, block, acts, act_off, NEG, E, kbits, actsT)
        scores = acts[act_off[n_layers]:act_off[n_layers] + c * n_out]  # z_L of the chunk, flat
        L += _output_loss(scores, Y, block, spec[1], NEG, E, L1P, kbits)
    inv_m = 1.0 / m if m > 0 else 0.0
    return L * inv_m + 0.5 * alpha * _weights_norm2(theta, spec, off)


# --------------------------------------------------------------------------------------------------
# prediction, in numpy (its matrix products run in numpy's BLAS, and nothing is compiled for it)
# --------------------------------------------------------------------------------------------------
FORWARD_ROWS = 4096  # rows per block of the forward pass: bounds its memory to a few blocks of activations


def _activation(Z, code):
    """act(Z), elementwise, finite for all Z: tanh, and sigmoid as (1 or e)/(1 + e) with e = e^{-|z|}."""
    if code == ACTIVATION_RELU:
        return np.maximum(Z, 0.0, out=Z)
    if code == ACTIVATION_TANH:
        return np.tanh(Z, out=Z)
    e = np.exp(-np.abs(Z))
    return np.divide(np.where(Z >= 0.0, 1.0, e), 1.0 + e, out=Z)


def _output(Z, code):
    """Softmax rows (max-shifted), the sigmoid of one score, or Z itself, by the output code."""
    if code == OUTPUT_SOFTMAX:
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    return _activation(Z, ACTIVATION_SIGMOID) if code == OUTPUT_SIGMOID else Z


def mlp_forward(theta, X, spec):
    """The network's output for every row of X (n, n_0) -> (n, n_L): softmax probabilities,
    sigmoid probabilities (one column) or the identity, by spec's output code."""
    sizes = [int(size) for size in spec[2:]]
    layers, start = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers.append((theta[start:start + n_in * n_out].reshape(n_in, n_out),
                       theta[start + n_in * n_out:start + n_in * n_out + n_out]))
        start += n_in * n_out + n_out
    out = np.empty((X.shape[0], sizes[-1]))
    for first in range(0, X.shape[0], FORWARD_ROWS):
        A = X[first:first + FORWARD_ROWS]
        for l, (W, b) in enumerate(layers):
            A = A @ W + b  # (rows, n_{l+1})
            if l < len(layers) - 1:
                A = _activation(A, spec[0])
        out[first:first + FORWARD_ROWS] = _output(A, spec[1])
    return out
