"""Group decomposition of TPE: which dimensions share one Parzen estimator, and which trials fit it.

A group G is a set of dimensions that always occur together, so that every trial either holds all of G or
none of it; l_G and g_G are fitted on the trials that hold G (Optuna's `group=True`; Watanabe 2023, sec.
2.3 and app. B.1, "group decomposition"). With one estimator per group, a conditional space never asks a
kernel for the value of a dimension a trial does not have.

    flat space, multivariate            one group of every dimension
    declared conditional, multivariate  one group per condition: the unconditional dimensions (the root
                                        choice among them), then, in column order, the dimensions that hang
                                        under the same parent and the same set of its choices
    define-by-run, multivariate         the partition of the names seen in the finished trials into sets that
                                        are all in, or all out of, each trial's params: start from no group,
                                        and for each trial's names S replace every group G by G & S and
                                        G - S (the empty ones dropped), then add S minus every group (Optuna's
                                        `_GroupDecomposedSearchSpace`); the names no finished trial holds
                                        form one last group, fitted on no trial (so drawn from the prior)
    multivariate=False                  one group per dimension (the independent TPE of Hyperopt)
"""

import numpy as np


def declared_groups(space, multivariate=True):
    """Lists of column indices of a declared (flat or conditional) space, in the order described above."""
    if not multivariate:
        return [[j] for j in range(len(space))]
    groups = {}
    for j, name in enumerate(space.names):
        groups.setdefault(space.condition(name), []).append(j)
    return list(groups.values())


def observed_groups(names, name_sets, multivariate=True):
    """The groups (lists of indices into `names`) of a define-by-run space whose finished trials hold the
    names `name_sets` (an iterable of sets, in trial order)."""
    if not multivariate:
        return [[j] for j in range(len(names))]
    groups = []
    for present in name_sets:
        split = []
        for group in groups:
            split += [part for part in (group & present, group - present) if part]
        seen = set().union(*split) if split else set()
        new = present - seen
        groups = split + ([new] if new else [])
    index = {name: j for j, name in enumerate(names)}
    out = [sorted(index[name] for name in group if name in index) for group in groups]
    rest = sorted(set(range(len(names))) - {j for group in out for j in group})
    return [group for group in out if group] + ([rest] if rest else [])


def group_rows(active, index):
    """(n,) bool: the rows of `active` (n, d) that hold every dimension of the group `index`."""
    return np.all(active[:, index], axis=1)
