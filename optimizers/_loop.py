"""One training epoch: in compiled code, specialised for a model's loss-and-gradient kernel; or, where a model
has registered one, a specialised epoch of its own (the linear models' per-row SGD path).

    for each mini-batch B of the permutation `order`:  L_B, g = loss_grad(theta, B);  theta <- rule(theta, g)

A Numba function that takes another jitted function as an argument cannot be cached, so instead the epoch
is compiled once per kernel, with the kernel bound as a global (`LOSS_GRAD`) of a copy of the template below;
the update rule is an argument (`apply_rule`, all four rules in one small function). The copy's name carries a
hash of the kernel's and the rules' source, so Numba's on-disk cache (`cache=True`) keeps one entry per kernel
and is renewed when either changes.

Compile time: Numba generates the machine code of a called kernel again inside every compiled function that
calls it (the callee's module is linked into the caller's and optimised with it), so an epoch per kernel and
rule would pay for the kernel once per rule (about 2 s for the MLP); the rules' code is small next to it.

A specialised epoch takes the arguments of the compiled one and gives its iterates, to rounding, by other
means (fewer passes over theta, say); the compiled epoch stays the reference it is tested against.
"""

import hashlib
import inspect
import sys
import types

import numpy as np
from numba import njit


def _epoch_template(theta, X, Y, alpha, spec, order, batch_size, lr, rule, hyper, state, t0):
    """Run one epoch over `order` (a permutation of rows) in batches of `batch_size`; returns the mean
    mini-batch loss (each batch's loss at the point before its update, weighted by its size)."""
    n = order.shape[0]
    grad = np.empty_like(theta)
    total = 0.0
    t = t0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        rows = order[start:stop]
        loss = LOSS_GRAD(theta, X, Y, rows, alpha, spec, grad)  # noqa: F821  (bound per kernel)
        total += loss * (stop - start)
        if not np.isfinite(loss):
            return total / n
        t += 1
        apply_rule(rule, theta, state, grad, lr, hyper, t)  # noqa: F821  (bound in compiled_epoch)
    return total / n


_compiled = {}
_specialised = {}


def _source_digest(*functions):
    digest = hashlib.sha1()
    for function in functions:
        digest.update(inspect.getsource(sys.modules[function.__module__]).encode())
    return digest.hexdigest()[:12]


def compiled_epoch(kernel, rule):
    """The compiled epoch loop for `kernel` (a Numba dispatcher following the kernel contract); it runs any update
    rule, given by the epoch's own `rule` argument (`rule` here is accepted for the signature of `epoch_for`'s
    choice and does not change the function returned)."""
    from tunelab.optimizers import _rules  # Numba code: loaded with the first epoch, not on import

    key = (kernel.py_func.__module__, kernel.py_func.__qualname__)
    if key not in _compiled:
        namespace = dict(_epoch_template.__globals__, LOSS_GRAD=kernel, apply_rule=_rules.apply_rule)
        function = types.FunctionType(_epoch_template.__code__, namespace, "epoch")
        tag = f"{key[0]}.{key[1]}".replace(".", "_")
        function.__qualname__ = f"epoch__{tag}__{_source_digest(kernel.py_func, _rules.apply_rule.py_func)}"
        function.__module__ = __name__
        function.__doc__ = _epoch_template.__doc__
        _compiled[key] = njit(cache=True, nogil=True, error_model="numpy")(function)
    return _compiled[key]


def register_epoch(kernel, choose):
    """Train with a specialised epoch wherever it applies: `choose(X, Y, batch_size, rule, hyper)` returns a callable
    epoch(theta, X, Y, alpha, spec, order, batch_size, lr, rule, hyper, state, t0) -> mean loss that gives the
    iterates of compiled_epoch(kernel, rule) to rounding, or None where the compiled epoch is to be used."""
    _specialised[kernel] = choose


def epoch_for(kernel, X, Y, batch_size, rule, hyper):
    """The epoch that trains `kernel`'s model on X (n, d) and targets Y (n, k) in batches of `batch_size` by update
    rule `rule` with hyper = [momentum or beta1, beta2, eps, clip_norm]: a registered specialised epoch where it
    applies, else the compiled epoch."""
    choose = _specialised.get(kernel)
    epoch = None if choose is None else choose(X, Y, batch_size, rule, hyper)
    return compiled_epoch(kernel, rule) if epoch is None else epoch
