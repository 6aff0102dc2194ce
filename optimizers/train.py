"""The training driver: epochs of an optimizer on a problem, with the stopping tests every model shares.

A problem is the data and the loss-and-gradient kernel a model hands over (`KernelProblem`); the
optimizers know nothing else of the model. Each epoch of a first-order optimizer runs in compiled code
(`_loop.epoch_for`); this module handles what happens between epochs: the learning-rate schedule, the
loss curve, divergence, and the stopping rules.

Stopping rules (`tol` None: none, every epoch asked for is run):
- full batch (every epoch is one step on the whole data: GD, or a batch_size of None or >= n): the gradient,
  max_j |g_j(theta)| <= tol * max(1, max_j |g_j(theta_first)|), g at the start of an epoch and theta_first
  the weights of the first epoch; a relative test, so tol means the same for targets in any unit, and an
  absolute one (max|g| <= tol) once the first gradient is below 1. The weights returned pass it.
- mini-batch: patience, as scikit-learn's SGD and MLP: the training loss (the mean mini-batch loss of the
  epoch) has not improved on its best by tol for `n_iter_no_change` epochs.
- with a validation score (early stopping), patience on that score (with the gradient test too for full batch).
- L-BFGS: max_j |g_j| <= gtol after an iteration, its own rule.
A run that ends at max_epochs (L-BFGS: its max_iter) before its rule fired has `converged` False.
"""

import numbers
from dataclasses import dataclass, field

import numpy as np

from tunelab.optimizers.validation import ConvergenceError, check_random_state, check_scalar
from tunelab.optimizers._loop import epoch_for
from tunelab.optimizers.first_order import FirstOrderOptimizer
from tunelab.optimizers.lbfgs import LBFGS, lbfgs_iterations


class KernelProblem:
    """f(theta) = (1/n) sum_i loss_i(theta) + alpha/2 |weights|^2, evaluated by a Numba `kernel` that follows
    the contract loss_grad(theta, X, Y, rows, alpha, spec, grad) -> L (see OPTIMIZERS contract in __init__)."""

    def __init__(self, kernel, X, Y, alpha=0.0, spec=None):
        self.kernel = kernel
        self.X = np.ascontiguousarray(X, dtype=np.float64)  # (n, d)
        Y = np.asarray(Y, dtype=np.float64)
        self.Y = np.ascontiguousarray(Y.reshape(-1, 1) if Y.ndim == 1 else Y)  # (n, k)
        self.alpha = float(alpha)
        self.spec = np.zeros(0, dtype=np.int64) if spec is None else np.ascontiguousarray(spec, dtype=np.int64)
        self.all_rows = np.arange(self.X.shape[0], dtype=np.int64)

    @property
    def n_samples(self):
        return self.X.shape[0]

    def loss_grad(self, theta, rows=None):
        """(L, dL/dtheta) over `rows` (all rows by default)."""
        grad = np.empty_like(theta)
        rows = self.all_rows if rows is None else rows
        loss = self.kernel(theta, self.X, self.Y, rows, self.alpha, self.spec, grad)
        return loss, grad

    def run_epoch(self, theta, order, batch_size, lr, rule, hyper, state, t0):
        """One compiled epoch over the permutation `order`; updates theta and state in place, returns mean loss."""
        epoch = epoch_for(self.kernel, self.X, self.Y, batch_size, rule, hyper)
        return epoch(theta, self.X, self.Y, self.alpha, self.spec, order, batch_size, lr, rule, hyper, state, t0)


@dataclass
class TrainState:
    """What training needs to continue where it stopped: optimizer buffers, step and epoch counts, the
    first epoch's loss (the yardstick of divergence) and, for full-batch training, the max-norm of the first
    epoch's gradient (the yardstick of the gradient test)."""
    buffers: np.ndarray
    step: int = 0
    epoch: int = 0
    first_loss: float | None = None
    first_grad: float | None = None


@dataclass
class TrainResult:
    """theta (p,) fitted; the loss of each epoch and the validation score after it (None without one);
    `converged`: the stopping rule fired (False when training ran out of epochs or iterations first, or had
    no rule); `stopping_rule`: that rule in words (None when there is none, tol None); `message`: why
    training stopped; `state`: what a further call continues from."""
    theta: np.ndarray
    loss_curve: list
    validation_scores: list | None
    n_epochs: int
    converged: bool
    state: TrainState = field(repr=False)
    stopping_rule: str | None = None
    message: str = ""


class _Patience:
    """The stopping test of scikit-learn's MLP and SGD: stop after `n_iter_no_change` epochs in which the
    monitored value did not improve on its best by at least `tol` (tol None: never stop early)."""

    def __init__(self, tol, n_iter_no_change, greater_is_better):
        self.tol, self.patience, self.sign = tol, n_iter_no_change, (1.0 if greater_is_better else -1.0)
        self.best, self.bad_epochs, self.improved = -np.inf, 0, False

    def update(self, value):
        """Record one epoch's value; returns True when training should stop."""
        value = self.sign * value
        tol = 0.0 if self.tol is None else self.tol
        self.bad_epochs = self.bad_epochs + 1 if value < self.best + tol else 0
        self.improved = value > self.best
        self.best = max(self.best, value)
        return self.tol is not None and self.bad_epochs >= self.patience


DIVERGENCE_FACTOR = 1e3  # a loss this many times the first epoch's counts as diverged, as a non-finite one does


def _check_diverged(loss, epoch, optimizer, state):
    """Raise ConvergenceError when the loss is not finite, or has grown DIVERGENCE_FACTOR times since the first
    epoch (an exploding loss that is still finite when the patience test would stop training, or a log-loss
    that grows only linearly with exploding weights)."""
    if state.first_loss is None and np.isfinite(loss):
        state.first_loss = float(loss)
    if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(state.first_loss, 1e-12):
        return
    lr = getattr(optimizer, "lr", None)
    hint = f"; lower the learning rate (lr={lr})" if lr is not None else ""
    grown = f" (from {state.first_loss:.3g} at the first epoch)" if state.first_loss is not None else ""
    raise ConvergenceError(f"training diverged: the loss became {loss:.3g} at epoch {epoch}{grown}{hint}.")


def train(optimizer, problem, theta0, *, max_epochs=200, tol=1e-4, n_iter_no_change=5,
          random_state=None, validation_score=None, state=None):
    """Fit theta by `optimizer` on `problem` for at most `max_epochs` epochs; returns a TrainResult.

    Stops by the rule the module docstring states: for a full batch when max|grad| <= tol * max(1, max|grad
    at the first epoch|); for mini-batches when the training loss has not improved by `tol` for
    `n_iter_no_change` epochs; given `validation_score(theta) -> float` (higher is better), also when that
    score has not, keeping the best theta seen; never early with tol None. L-BFGS stops on its gtol.
    Raises ConvergenceError as soon as the loss is not finite or has grown 1000-fold since the first epoch.
    `state` continues a previous run.
    """
    check_scalar(max_epochs, "max_epochs", numbers.Integral, low=1)
    check_scalar(tol, "tol", low=0.0, allow_none=True)
    check_scalar(n_iter_no_change, "n_iter_no_change", numbers.Integral, low=1)
    rng = check_random_state(random_state)
    theta = np.array(theta0, dtype=np.float64)
    if isinstance(optimizer, LBFGS):
        optimizer._check()
        return _train_lbfgs(optimizer, problem, theta, max_epochs, tol, n_iter_no_change, validation_score, state)
    if not isinstance(optimizer, FirstOrderOptimizer):
        raise TypeError(
            "`optimizer` must be one of GD, SGD, Momentum, Adam or LBFGS from tunelab.optimizers; "
            f"got {optimizer!r}."
        )
    optimizer._check()
    if state is None or state.buffers.shape != (2, theta.shape[0]):
        state = TrainState(optimizer.init_state(theta.shape[0]))
    n = problem.n_samples
    full_batch = optimizer.batch_size is None or optimizer.batch_size >= n
    hyper = optimizer._hyper()
    patience = tol if validation_score is not None or not full_batch else None  # full batch: the gradient test
    monitor = _Patience(patience, n_iter_no_change, greater_is_better=validation_score is not None)
    loss_curve, scores, best_theta = [], ([] if validation_score is not None else None), theta.copy()
    reason = None
    for _ in range(max_epochs):
        lr = optimizer.learning_rate(state.epoch)
        if full_batch:
            loss, small_gradient = _full_batch_epoch(optimizer, problem, theta, lr, hyper, state, tol)
        else:
            loss, small_gradient = _minibatch_epoch(optimizer, problem, theta, lr, hyper, state, rng), False
        loss_curve.append(float(loss))
        if small_gradient:
            reason = "the gradient test"
            break
        value = loss
        if validation_score is not None:
            value = float(validation_score(theta))
            scores.append(value)
        stop = monitor.update(value)
        if monitor.improved:
            best_theta[:] = theta
        if stop:
            reason = f"{'the validation score' if validation_score is not None else 'the training loss'} patience"
            break
    if not np.isfinite(theta).all():
        raise ConvergenceError(f"training diverged: the weights are not finite after epoch {state.epoch}.")
    if validation_score is not None:
        theta = best_theta
    rule = _first_order_rule(tol, n_iter_no_change, full_batch, validation_score is not None, state)
    message = _stop_message(reason, rule, len(loss_curve), f"max_epochs={max_epochs}")
    return TrainResult(theta, loss_curve, scores, len(loss_curve), reason is not None, state, rule, message)


def _full_batch_epoch(optimizer, problem, theta, lr, hyper, state, tol):
    """One epoch on the whole data: (L, g) at theta; if max|g| <= tol * max(1, max|g at the first epoch|)
    theta stays (it passed the gradient test), else theta <- rule(theta, g). Returns (L, passed)."""
    loss, grad = problem.loss_grad(theta)
    state.epoch += 1
    _check_diverged(loss, state.epoch, optimizer, state)
    g_max = float(np.abs(grad).max()) if grad.size else 0.0
    if state.first_grad is None:
        state.first_grad = g_max
    if tol is not None and g_max <= tol * max(1.0, state.first_grad):
        return loss, True
    state.step += 1
    from tunelab.optimizers._rules import apply_rule  # Numba code, loaded on first use (first_order.py)

    apply_rule(optimizer.rule, theta, state.buffers, grad, lr, hyper, state.step)
    return loss, False


def _minibatch_epoch(optimizer, problem, theta, lr, hyper, state, rng):
    """One compiled epoch over a fresh permutation of the rows, in mini-batches; returns the mean batch loss."""
    n = problem.n_samples
    batch_size = optimizer.batch_size
    loss = problem.run_epoch(theta, rng.permutation(n), batch_size, lr, optimizer.rule, hyper, state.buffers,
                             state.step)
    state.step += -(-n // batch_size)
    state.epoch += 1
    _check_diverged(loss, state.epoch, optimizer, state)
    return loss


def _patience_rule(tol, n_iter_no_change, what):
    return f"{what} improving by less than tol={tol:g} for n_iter_no_change={n_iter_no_change} epochs"


def _first_order_rule(tol, n_iter_no_change, full_batch, validation, state):
    """The stopping rule of a first-order run, in words (None without one: tol None)."""
    if tol is None:
        return None
    rules = []
    if full_batch:
        threshold = tol * max(1.0, state.first_grad or 0.0)
        rules.append(f"max|grad| <= tol * max(1, max|grad at the first epoch|) = {threshold:.3g}")
    if validation or not full_batch:
        what = "the validation score" if validation else "the training loss"
        rules.append(_patience_rule(tol, n_iter_no_change, what))
    return ", or ".join(rules)


def _stop_message(reason, rule, n_epochs, limit):
    """Why training stopped, in one sentence."""
    if reason is not None:
        return f"stopped by {reason} after {n_epochs} epochs ({rule})"
    if rule is None:
        return f"ran {n_epochs} epochs with no stopping rule (tol=None)"
    return f"reached {limit} before its stopping rule was met ({rule})"


def _train_lbfgs(optimizer, problem, theta, max_epochs, tol, n_iter_no_change, validation_score, state):
    """L-BFGS iterations until the gradient max-norm is below gtol (or the patience test stops it)."""
    max_iter = max_epochs if optimizer.max_iter is None else optimizer.max_iter
    monitor = _Patience(tol, n_iter_no_change, greater_is_better=True)
    loss_curve, scores, best_theta = [], ([] if validation_score is not None else None), theta.copy()
    reason = None
    state = state or TrainState(np.zeros((2, theta.shape[0])))
    iterations = lbfgs_iterations(problem.loss_grad, theta, memory=optimizer.memory)
    next(iterations)  # the starting point
    for iteration, (theta, loss, grad, _) in enumerate(iterations, start=1):
        _check_diverged(loss, state.epoch + iteration, optimizer, state)
        loss_curve.append(float(loss))
        if validation_score is not None:
            scores.append(float(validation_score(theta)))
            stop = monitor.update(scores[-1])
            if monitor.improved:
                best_theta = theta.copy()
            if stop:
                reason = "the validation score patience"
                break
        if np.abs(grad).max() <= optimizer.gtol:  # unbounded: the projected gradient is the gradient
            reason = "the gradient test"
            break
        if iteration >= max_iter:
            break
    else:
        reason = "a line search that found no lower loss (optimal to machine precision)"
    if validation_score is not None and scores and max(scores) > scores[-1]:
        theta = best_theta
    state.epoch += len(loss_curve)
    rule = f"max|grad| <= gtol={optimizer.gtol:g}"
    if validation_score is not None and tol is not None:
        rule += f", or {_patience_rule(tol, n_iter_no_change, 'the validation score')}"
    limit = f"max_epochs={max_epochs}" if optimizer.max_iter is None else f"max_iter={max_iter} of L-BFGS"
    message = _stop_message(reason, rule, len(loss_curve), limit)
    return TrainResult(np.array(theta), loss_curve, scores, len(loss_curve), reason is not None, state, rule,
                       message)
