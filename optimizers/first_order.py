"""First-order optimizers: GD, SGD, Momentum (heavy ball and Nesterov) and Adam.

Each is an object that holds hyperparameters only (so searchers can set `optimizer__lr`); the update rule
is a Numba function in `_rules.py`, and the epochs are driven by `tunelab.optimizers.train`. This module
holds no Numba code, so that importing tunelab.optimizers sets up no compiler (`_rules` loads with the
first training run).
"""

import numbers

import numpy as np

from tunelab.optimizers.validation import check_bool, check_scalar
from tunelab.optimizers.params import ParamsMixin
from tunelab.optimizers.schedules import check_schedule

# the update rule of each optimizer, by code (the `rule` argument of `_rules.apply_rule`)
SGD_RULE, MOMENTUM_RULE, NESTEROV_RULE, ADAM_RULE = 0, 1, 2, 3


class FirstOrderOptimizer(ParamsMixin):
    """Shared by the mini-batch optimizers: learning rate, batch size, schedule and gradient clipping."""

    rule = SGD_RULE

    def _check(self):
        check_scalar(self.lr, "lr", low=0.0, low_inclusive=False)
        check_scalar(self.batch_size, "batch_size", numbers.Integral, low=1, allow_none=True)
        check_scalar(self.clip_norm, "clip_norm", low=0.0, low_inclusive=False, allow_none=True)
        check_schedule(self.schedule)

    def _hyper(self):
        """[momentum or beta1, beta2, eps, clip_norm] for `_rules.apply_rule` (clip_norm 0 = no clipping)."""
        return np.array([0.0, 0.0, 0.0, self.clip_norm or 0.0])

    def init_state(self, n_params):
        """Velocity / moment buffers, (2, p) zeros; rows unused by a rule stay zero."""
        return np.zeros((2, n_params))

    def learning_rate(self, epoch):
        return check_schedule(self.schedule)(self.lr, epoch)


class GD(FirstOrderOptimizer):
    """Full-batch gradient descent: theta <- theta - lr * grad L(theta) (Cauchy, 1847)."""

    def __init__(self, lr=0.1, schedule=None, clip_norm=None):
        self.lr = lr
        self.schedule = schedule
        self.clip_norm = clip_norm

    batch_size = None


class SGD(FirstOrderOptimizer):
    """Mini-batch stochastic gradient descent, rows reshuffled every epoch (Robbins and Monro, 1951)."""

    def __init__(self, lr=0.01, batch_size=32, schedule=None, clip_norm=None):
        self.lr = lr
        self.batch_size = batch_size
        self.schedule = schedule
        self.clip_norm = clip_norm


class Momentum(FirstOrderOptimizer):
    """Heavy-ball momentum v <- mu v + g, theta <- theta - lr v (Polyak, 1964); with `nesterov=True`,
    theta <- theta - lr (g + mu v) (Nesterov, 1983; Sutskever et al., 2013). batch_size None = full batch."""

    def __init__(self, lr=0.01, momentum=0.9, nesterov=False, batch_size=None, schedule=None, clip_norm=None):
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.schedule = schedule
        self.clip_norm = clip_norm

    @property
    def rule(self):
        return NESTEROV_RULE if self.nesterov else MOMENTUM_RULE

    def _check(self):
        super()._check()
        check_scalar(self.momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
        check_bool(self.nesterov, "nesterov")

    def _hyper(self):
        return np.array([self.momentum, 0.0, 0.0, self.clip_norm or 0.0])


class Adam(FirstOrderOptimizer):
    """Adam: bias-corrected first and second moment estimates scale each step (Kingma and Ba, 2015)."""

    rule = ADAM_RULE

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, batch_size=32, schedule=None, clip_norm=None):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.batch_size = batch_size
        self.schedule = schedule
        self.clip_norm = clip_norm

    def _check(self):
        super()._check()
        check_scalar(self.beta1, "beta1", low=0.0, high=1.0, high_inclusive=False)
        check_scalar(self.beta2, "beta2", low=0.0, high=1.0, high_inclusive=False)
        check_scalar(self.eps, "eps", low=0.0, low_inclusive=False)

    def _hyper(self):
        return np.array([self.beta1, self.beta2, self.eps, self.clip_norm or 0.0])
