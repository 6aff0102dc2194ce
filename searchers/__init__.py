"""tunelab.searchers: hyperparameter search over a `Space` by ask/tell studies, and SearchCV.

    from tunelab.searchers import Real, Integer, Categorical, RandomSearch, minimize
    study = minimize(lambda p: (p["x"] - 2) ** 2, {"x": Real(-5, 5)}, RandomSearch(), n_trials=50, seed=0)

The study machinery and the model-free searchers load with the package; each other family (the GP of
BayesSearch, CMA-ES and the genetic search, hypergradients, multi-fidelity), SearchCV and the worker
processes load when one of their names is first used (`from tunelab.searchers import BayesSearch`
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
    "EvolutionSearch": "tunelab.searchers.evolutionary",
    "CMAES": "tunelab.searchers.evolutionary",
    "HypergradientSearch": "tunelab.searchers.gradient",
    "HypergradientCV": "tunelab.searchers.gradient",
    "SuccessiveHalving": "tunelab.searchers.multifidelity",
    "Hyperband": "tunelab.searchers.multifidelity",
    "ASHA": "tunelab.searchers.multifidelity",
    "EpochCV": "tunelab.searchers.multifidelity",
    "SearchCV": "tunelab.searchers.search_cv",
    "WorkerStartError": "tunelab.searchers.process_pool",
}

__all__ = [
    "Real", "Integer", "Categorical", "Space",
    "Study", "minimize", "maximize", "SearchExhausted",
    "Trial", "TrialState", "TrialPruned",
    "Searcher", "History",
    "GridSearch", "RandomSearch", "BayesSearch", "EvolutionSearch", "CMAES",
    "HypergradientSearch", "HypergradientCV",
    "SuccessiveHalving", "Hyperband", "ASHA", "EpochCV",
    "SearchCV", "StorageError", "WorkerStartError",
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
