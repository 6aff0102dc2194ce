"""Bayesian optimisation with a Gaussian process: a surrogate of the loss chooses the next trials.

- search.py: `BayesSearch`, the searcher (initial design, refits, the model cache, batches by kriging
  believer or constant liar: Ginsbourger, Le Riche & Carraro 2010).
- parego.py: `ParEGOSearch`, several objectives by random augmented Chebyshev scalarisations, each
  fitted by BayesSearch's GP (Knowles 2006).
- features.py: the model's input transform for mixed spaces, integers at their values and categoricals
  one-hot (Garrido-Merchan & Hernandez-Lobato, Neurocomputing 2020).
- gp.py: the GP regression model (Rasmussen & Williams, Gaussian Processes for Machine Learning, 2006,
  chapters 2 and 5): posterior, log marginal likelihood and its gradient, the bordered Cholesky update.
- acquisition.py: EI (Jones et al. 1998), log-EI (Ament et al. 2023), PI (Kushner 1964), UCB (Srinivas
  et al. 2010), and their maximisation over the unit cube.
- _kernels.py: the Numba kernels behind them (correlations, triangular solves, Gaussian tails).
"""

from tunelab.searchers.bayes.parego import ParEGOSearch
from tunelab.searchers.bayes.search import BayesSearch

__all__ = ["BayesSearch", "ParEGOSearch"]
