"""One training epoch: in compiled code, specialised for a model's loss-and-gradient kernel; or, where a model
has registered one, a specialised epoch of its own (the linear models' per-row SGD path).

    for each mini-batch B of the permutation `order`:  L_B, g = loss_grad(theta, B);  theta <- rule(theta, g)

A Numba function that takes another jitted function as an argument cannot be cached, so instead the epoch
is compiled once per kernel and update rule, with the kernel and the rule's step bound as globals (`LOSS_GRAD`,
`STEP`) of a copy of the template below: only the rule in use is compiled. The copy's name carries a hash of
the kernel's and the rules' source, so Numba's on-disk cache (`cache=True`) keeps one entry per kernel and
rule and is renewed when either changes.

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
        STEP(theta, state, grad, lr, hyper, t)  # noqa: F821  (the step of `rule`, bound per rule)
    return total / n


_compiled = {}
_specialised = {}


def _source_digest(*functions):
    digest = hashlib.sha1()
    for function in functions:
        digest.update(inspect.getsource(sys.modules[function.__module__]).encode())
    return digest.hexdigest()[:12]


def compiled_epoch(kernel, rule):
    """The compiled epoch loop for `kernel` (a Numba dispatcher following the kernel contract) and update rule
    `rule` (SGD_RULE, ...; the epoch's own `rule` argument is then not read)."""
    from tunelab.optimizers import _rules  # Numba code: loaded with the first epoch, not on import

    key = (kernel.py_func.__module__, kernel.py_func.__qualname__, int(rule))
    if key not in _compiled:
        step = _rules.STEPS[int(rule)]
        namespace = dict(_epoch_template.__globals__, LOSS_GRAD=kernel, STEP=step)
        function = types.FunctionType(_epoch_template.__code__, namespace, "epoch")
        tag = f"{key[0]}.{key[1]}.{step.py_func.__name__}".replace(".", "_")
        function.__qualname__ = f"epoch__{tag}__{_source_digest(kernel.py_func, step.py_func)}"
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
