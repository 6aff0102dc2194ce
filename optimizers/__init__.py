"""tunelab.optimizers: gradient methods that fit parameters, given a loss-and-gradient kernel.

Kernel contract. A model hands the optimizers an `@njit(cache=True, nogil=True)` function

    loss_grad(theta, X, Y, rows, alpha, spec, grad) -> L

theta (p,) flat parameters; X (n, d) and Y (n, k) float64 C-contiguous; rows (m,) int64 row indices of
the mini-batch; alpha the L2 strength; spec (s,) int64 model structure; grad (p,) written with dL/dtheta;
L = (1/m) sum_{i in rows} loss_i + (alpha/2)|weights|^2. The optimizers know nothing else of the model.

Specialised epochs. A model may also register, by `register_epoch(kernel, choose)`, an epoch of its own that
gives the iterates of the compiled generic epoch to rounding where it applies (the linear models' per-row SGD
path); `choose(X, Y, batch_size, rule, hyper)` returns it, or None. `rule` is one of SGD_RULE, MOMENTUM_RULE,
NESTEROV_RULE, ADAM_RULE (an optimizer's `.rule`), hyper = [momentum or beta1, beta2, eps, clip_norm].
"""

from tunelab.optimizers.validation import ConvergenceError, ConvergenceWarning
from tunelab.optimizers._loop import register_epoch
from tunelab.optimizers.first_order import ADAM_RULE, MOMENTUM_RULE, NESTEROV_RULE, SGD_RULE
from tunelab.optimizers.first_order import GD, SGD, Adam, FirstOrderOptimizer, Momentum
from tunelab.optimizers.lbfgs import LBFGS, MinimizeResult, minimize
from tunelab.optimizers.schedules import Constant, Cosine, InverseScaling, StepDecay
from tunelab.optimizers.train import KernelProblem, TrainResult, TrainState, train

__all__ = [
    "GD", "SGD", "Momentum", "Adam", "LBFGS", "FirstOrderOptimizer",
    "Constant", "InverseScaling", "StepDecay", "Cosine",
    "KernelProblem", "TrainResult", "TrainState", "train",
    "minimize", "MinimizeResult", "ConvergenceError", "ConvergenceWarning",
    "register_epoch", "SGD_RULE", "MOMENTUM_RULE", "NESTEROV_RULE", "ADAM_RULE",
]
