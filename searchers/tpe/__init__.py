"""Tree-structured Parzen Estimators: a density of the good trials over one of the bad ones chooses the next.

TPE models p(u | loss) instead of p(loss | u): the finished trials are split by a quantile of the loss into a
good group and a bad one, each gives a kernel density estimate over the unit cube, l(u) and g(u), and the
next trial is the candidate drawn from l of largest l(u) / g(u), which maximises expected improvement
under that model.

- search.py: `TPESearch`, the searcher (startup trials, candidates, groups of dimensions, constant liar).
- groups.py: group decomposition, the groups of dimensions that always occur together (conditional and
  define-by-run spaces).
- split.py: the good/bad split by gamma and the weights of the trials (Optuna's decay of older trials).
- motpe.py: the split and weights with several objectives (MOTPE): non-dominated rank, hypervolume subset
  selection and hypervolume contributions (Ozaki et al., GECCO 2020 / JAIR 2022).
- parzen.py: the Parzen estimator: truncated-normal kernels with their bandwidths and magic clip, the
  categorical kernel, the prior, product kernels over a group (multivariate).
- _kernels.py: the Numba kernel behind it (the log of a Gaussian's mass over an interval).

Sources: Bergstra, Bardenet, Bengio & Kegl, "Algorithms for hyper-parameter optimization", NeurIPS 2011
(TPE); Falkner, Klein & Hutter, "BOHB: robust and efficient hyperparameter optimization at scale", ICML
2018 (the multivariate kernel); Watanabe, "Tree-structured Parzen estimator: understanding its algorithm
components and their roles for better empirical performance", arXiv:2304.11127, 2023 (the components and
their defaults); Akiba et al., "Optuna", KDD 2019, and Optuna's TPESampler (the defaults used here).
"""

from tunelab.searchers.tpe.search import TPESearch

__all__ = ["TPESearch"]
