"""Model-free searchers: the points do not depend on the losses seen so far.

- `GridSearch` (grid.py): every point of the product grid once, in a fixed order.
- `RandomSearch` (random.py): independent uniform points, or a space-filling design.
- lowdiscrepancy.py: the designs, written out: a scrambled Sobol sequence (Sobol 1967; Joe & Kuo 2008;
  Matousek 1998) and Latin hypercubes (McKay, Beckman & Conover 1979). The other families draw from
  here too: BayesSearch its initial design and candidates, EvolutionSearch its first generation.

Bergstra & Bengio, "Random search for hyper-parameter optimization", JMLR 2012, is the case for random
over grid search when few hyperparameters matter.
"""

from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.sampling.random import RandomSearch

__all__ = ["GridSearch", "RandomSearch"]
