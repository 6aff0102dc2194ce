"""Multi-fidelity search: spend few training epochs on many configurations, more on the promising ones.

- halving.py: successive halving (Jamieson & Talwalkar 2016), Hyperband (Li et al., JMLR 2018) and
  ASHA (Li et al., MLSys 2020), as loops over a study and as the study's pruner hook; `EpochCV`, the
  resumable cross-validation objective they train tunelab's estimators with.
"""

from tunelab.searchers.multifidelity.halving import ASHA, EpochCV, Hyperband, SuccessiveHalving

__all__ = ["SuccessiveHalving", "Hyperband", "ASHA", "EpochCV"]
