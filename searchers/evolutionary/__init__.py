"""Evolutionary searchers: populations bred generation by generation from the losses of the last.

- genetic.py: the generational framework every evolutionary searcher shares (a generation is a block
  of trial numbers; the state is replayed from the history), and `EvolutionSearch`, a real-coded
  genetic algorithm for mixed spaces (Deb & Agrawal 1995, SBX; Deb & Goyal 1996, polynomial mutation).
- cmaes.py: `CMAES`, the covariance matrix adaptation evolution strategy (Hansen, "The CMA Evolution
  Strategy: A Tutorial", 2016), with margins for integers (Hamano et al. 2022) and IPOP restarts
  (Auger & Hansen 2005).
"""

from tunelab.searchers.evolutionary.cmaes import CMAES
from tunelab.searchers.evolutionary.genetic import EvolutionSearch

__all__ = ["EvolutionSearch", "CMAES"]
