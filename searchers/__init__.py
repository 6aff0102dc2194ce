"""tunelab.searchers: hyperparameter search over a `Space` by ask/tell studies, and SearchCV.

    from tunelab.searchers import Real, Integer, Categorical, RandomSearch, minimize
    study = minimize(lambda p: (p["x"] - 2) ** 2, {"x": Real(-5, 5)}, RandomSearch(), n_trials=50, seed=0)
"""

from tunelab.searchers.base import History, Searcher
from tunelab.searchers.bayes import BayesSearch, ParEGOSearch
from tunelab.searchers.evolutionary import CMAES, EvolutionSearch, NSGA2Search
from tunelab.searchers.gradient import HypergradientCV, HypergradientSearch
from tunelab.searchers.importance import importance
from tunelab.searchers.pareto import crowding_distance, hypervolume, is_pareto_efficient, non_dominated_sort
from tunelab.searchers.multifidelity import ASHA, EpochCV, Hyperband, SuccessiveHalving
from tunelab.searchers.sampling import GridSearch, RandomSearch
from tunelab.searchers.search_cv import SearchCV
from tunelab.searchers.storage import StorageError
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.report import write_report
from tunelab.searchers.study import SearchExhausted, Study, maximize, minimize
from tunelab.searchers.tpe import TPESearch
from tunelab.searchers.trial import Trial, TrialPruned, TrialState

__all__ = [
    "Real", "Integer", "Categorical", "Space",
    "Study", "minimize", "maximize", "SearchExhausted",
    "Trial", "TrialState", "TrialPruned",
    "Searcher", "History",
    "GridSearch", "RandomSearch", "BayesSearch", "TPESearch", "ParEGOSearch", "EvolutionSearch", "CMAES",
    "NSGA2Search", "HypergradientSearch", "HypergradientCV",
    "SuccessiveHalving", "Hyperband", "ASHA", "EpochCV",
    "SearchCV", "StorageError",
    "importance", "write_report",
    "hypervolume", "non_dominated_sort", "crowding_distance", "is_pareto_efficient",
]
