"""Gradient-based hyperparameter search: follow the derivative of the validation loss in a hyperparameter.

- hypergradient.py: the hypergradient at a fitted optimum by implicit differentiation (Pedregosa,
  "Hyperparameter optimization with approximate gradient", ICML 2016), solved by conjugate gradients
  (Nocedal & Wright, algorithm 5.2); `HypergradientSearch`, a searcher that steps along it; and
  `HypergradientCV`, the objective that computes it for tunelab's models by cross-validation.
"""

from tunelab.searchers.gradient.hypergradient import HypergradientCV, HypergradientSearch

__all__ = ["HypergradientSearch", "HypergradientCV"]
