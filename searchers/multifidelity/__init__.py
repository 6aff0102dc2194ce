"""Multi-fidelity search: spend few training epochs on many configurations, more on the promising ones.

- halving.py: the rungs, successive halving (Jamieson & Talwalkar, "Non-stochastic best arm identification
  and hyperparameter optimization", AISTATS 2016), Hyperband (Li et al., JMLR 2018) and ASHA (Li et al.,
  "A system for massively parallel hyperparameter tuning", MLSys 2020), as loops over a study and as the
  study's pruner hook.
- runner.py: the epoch runner, which trains trials for more epochs, continuing each from its saved state,
  and records them in the study.
- epoch_cv.py: `EpochCV`, the resumable cross-validation objective they train tunelab's estimators with.
"""

from tunelab.searchers.multifidelity.epoch_cv import EpochCV
from tunelab.searchers.multifidelity.halving import ASHA, Hyperband, SuccessiveHalving

__all__ = ["SuccessiveHalving", "Hyperband", "ASHA", "EpochCV"]
