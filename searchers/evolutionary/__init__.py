"""Evolutionary searchers: populations bred generation by generation from the losses of the last.

- generational.py: the framework every evolutionary searcher shares: a generation is a block of trial
  numbers, bred only when the last one has finished, and the state is replayed from the history, so
  serial, parallel and resumed studies propose the same points.
- genetic.py: `EvolutionSearch`, a real-coded genetic algorithm for mixed spaces (Deb & Agrawal 1995,
  simulated binary crossover; Deb & Goyal 1996, polynomial mutation; elitism and tournaments).
- nsga2.py: `NSGA2Search`, NSGA-II for several objectives (Deb et al. 2002): non-dominated sorting and
  crowding distance over the variation of genetic.py.
- constraints.py: Deb's feasibility rules (Deb et al. 2002, section VI): constraint values and violations,
  the fronts of constrained domination NSGA2Search sorts by, and `feasible_front` of a study.
- cmaes.py: `CMAES`, the covariance matrix adaptation evolution strategy (Hansen, "The CMA Evolution
  Strategy: A Tutorial", 2016), with margins for integers (Hamano et al. 2022) and IPOP restarts
  (Auger & Hansen 2005).
"""

from tunelab.searchers.evolutionary.cmaes import CMAES
from tunelab.searchers.evolutionary.constraints import feasible_front
from tunelab.searchers.evolutionary.genetic import EvolutionSearch
from tunelab.searchers.evolutionary.nsga2 import NSGA2Search

__all__ = ["EvolutionSearch", "CMAES", "NSGA2Search", "feasible_front"]
