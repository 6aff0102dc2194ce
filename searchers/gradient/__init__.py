"""Gradient-based hyperparameter search: follow the derivative of the validation loss in a hyperparameter.

- implicit.py: the hypergradient at a fitted optimum by implicit differentiation (Pedregosa,
  "Hyperparameter optimization with approximate gradient", ICML 2016), its linear systems solved by
  conjugate gradients (Nocedal & Wright, Numerical Optimization, algorithm 5.2) and its optimum made
  stationary by Newton steps (ibid., algorithm 7.1).
- search.py: `HypergradientSearch`, a searcher that steps along the hypergradient, by a safeguarded line
  search (Nocedal & Wright, section 3.5; More & Thuente 1994) or Adam (Kingma & Ba 2015).
- cv.py: `HypergradientCV`, the objective that computes it for tunelab's models by cross-validation,
  through their public `training_problem(y)` and `set_weights(theta)`.
"""

from tunelab.searchers.gradient.cv import HypergradientCV
from tunelab.searchers.gradient.search import HypergradientSearch

__all__ = ["HypergradientSearch", "HypergradientCV"]
