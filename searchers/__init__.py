"""tunelab.searchers: hyperparameter search over a `Space` by ask/tell studies, and SearchCV.

    from tunelab.searchers import Real, Integer, Categorical, RandomSearch, minimize
    study = minimize(lambda p: (p["x"] - 2) ** 2, {"x": Real(-5, 5)}, RandomSearch(), n_trials=50, seed=0)

The study machinery and the model-free searchers load with the package; each other family (the GP of
BayesSearch and ParEGO, TPE, CMA-ES, NSGA-II and the genetic search, hypergradients, multi-fidelity), SearchCV,
the Pareto tools, importance, the report and the worker processes load when one of their names is first used (`from tunelab.searchers import BayesSearch`
works as usual), so that `import tunelab.searchers` stays light.
"""

import importlib

from tunelab.searchers.base import History, Searcher
from tunelab.searchers.sampling import GridSearch, RandomSearch
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.storage import StorageError
from tunelab.searchers.study import SearchExhausted, Study, maximize, minimize
from tunelab.searchers.trial import Trial, TrialPruned, TrialState

_LAZY = {  # public name -> the module that defines it, imported on first use
    "BayesSearch": "tunelab.searchers.bayes",
    "ParEGOSearch": "tunelab.searchers.bayes",
    "TPESearch": "tunelab.searchers.tpe",
    "NSGA2Search": "tunelab.searchers.evolutionary",
    "EvolutionSearch": "tunelab.searchers.evolutionary",
    "CMAES": "tunelab.searchers.evolutionary",
    "feasible_front": "tunelab.searchers.evolutionary",
    "HypergradientSearch": "tunelab.searchers.gradient",
    "HypergradientCV": "tunelab.searchers.gradient",
    "SuccessiveHalving": "tunelab.searchers.multifidelity",
    "Hyperband": "tunelab.searchers.multifidelity",
    "ASHA": "tunelab.searchers.multifidelity",
    "EpochCV": "tunelab.searchers.multifidelity",
    "SearchCV": "tunelab.searchers.search_cv",
    "importance": "tunelab.searchers.fanova",
    "write_report": "tunelab.searchers.report",
    "hypervolume": "tunelab.searchers.pareto",
    "non_dominated_sort": "tunelab.searchers.pareto",
    "crowding_distance": "tunelab.searchers.pareto",
    "is_pareto_efficient": "tunelab.searchers.pareto",
    "WorkerStartError": "tunelab.searchers.process_pool",
}

__all__ = [
    "Real", "Integer", "Categorical", "Space",
    "Study", "minimize", "maximize", "SearchExhausted",
    "Trial", "TrialState", "TrialPruned",
    "Searcher", "History",
    "GridSearch", "RandomSearch", "BayesSearch", "TPESearch", "ParEGOSearch", "EvolutionSearch", "CMAES",
    "NSGA2Search", "feasible_front", "HypergradientSearch", "HypergradientCV",
    "SuccessiveHalving", "Hyperband", "ASHA", "EpochCV",
    "SearchCV", "StorageError", "WorkerStartError",
    "importance", "write_report",
    "hypervolume", "non_dominated_sort", "crowding_distance", "is_pareto_efficient",
]


def __getattr__(name):
    """A name of `_LAZY`, imported from its module the first time it is used (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later uses find it here
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})
