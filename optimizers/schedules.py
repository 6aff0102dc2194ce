"""Learning-rate schedules, evaluated once per epoch: lr_e = schedule(lr0, e) for epoch e = 0, 1, ...

A schedule is handed to any first-order optimizer (`SGD(lr=0.1, schedule=Cosine(t_max=50))`).
"""

import math
import numbers

from tunelab.optimizers.validation import check_scalar
from tunelab.optimizers.params import ParamsMixin


class Constant(ParamsMixin):
    """lr_e = lr0."""

    def __call__(self, lr0, epoch):
        return lr0


class InverseScaling(ParamsMixin):
    """lr_e = lr0 / (1 + e)^power  (the `invscaling` schedule of scikit-learn, counted in epochs)."""

    def __init__(self, power=0.5):
        self.power = power

    def __call__(self, lr0, epoch):
        power = check_scalar(self.power, "power", low=0.0)
        return lr0 / (1.0 + epoch) ** power


class StepDecay(ParamsMixin):
    """lr_e = lr0 * gamma^floor(e / step_size)."""

    def __init__(self, step_size=10, gamma=0.5):
        self.step_size = step_size
        self.gamma = gamma

    def __call__(self, lr0, epoch):
        step_size = check_scalar(self.step_size, "step_size", numbers.Integral, low=1)
        gamma = check_scalar(self.gamma, "gamma", low=0.0, high=1.0, low_inclusive=False)
        return lr0 * gamma ** (epoch // step_size)


class Cosine(ParamsMixin):
    """lr_e = lr_min + (lr0 - lr_min) (1 + cos(pi min(e, t_max) / t_max)) / 2  (Loshchilov and Hutter, 2017, no restarts)."""

    def __init__(self, t_max=100, lr_min=0.0):
        self.t_max = t_max
        self.lr_min = lr_min

    def __call__(self, lr0, epoch):
        t_max = check_scalar(self.t_max, "t_max", numbers.Integral, low=1)
        lr_min = check_scalar(self.lr_min, "lr_min", low=0.0)
        progress = min(epoch, t_max) / t_max
        return lr_min + (lr0 - lr_min) * 0.5 * (1.0 + math.cos(math.pi * progress))


def check_schedule(schedule):
    """None means constant; anything else must be callable as schedule(lr0, epoch)."""
    if schedule is None:
        return Constant()
    if not callable(schedule):
        raise TypeError(
            "`schedule` must be None or a schedule such as Constant(), InverseScaling(), StepDecay(), "
            f"Cosine(); got {schedule!r}."
        )
    return schedule
