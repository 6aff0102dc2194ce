"""The input transform of the GP searcher: unit-cube points -> the features the model sees.

Mixed spaces (Garrido-Merchan & Hernandez-Lobato, "Dealing with categorical and integer-valued
variables in Bayesian optimization with Gaussian processes", Neurocomputing 2020): each integer
dimension is rounded to its value and each categorical one is one-hot encoded, so the GP only ever
sees points that the space can hold: features(u) == features(encode(decode(u))) (up to the rounding
of real coordinates).

    Real          x = u                                       one feature
    Integer       x = to_unit(from_unit(u))                   one feature
    Categorical   x = e_k, k the level u decodes to           n_values features, one lengthscale

The acquisition is therefore flat between the values of a discrete dimension: its gradient moves
only the real coordinates.
"""

import numpy as np

from tunelab.searchers.space import Categorical, Real


class FeatureMap:
    """Unit-cube points U (c, d) -> model inputs X (c, p): reals as they are, integers snapped to the unit
    point of their value (`Dimension.snap`), categoricals one-hot at their level (`Dimension.level`).

    `groups` (p,) gives the lengthscale of each feature (the one-hot block of a categorical shares one);
    `continuous` (d,) marks the dimensions the acquisition's gradient may move, `columns` their features.
    """

    def __init__(self, space):
        self.blocks = []  # (dimension index j, first feature, dimension)
        groups = []
        for j, dim in enumerate(space.dims):
            self.blocks.append((j, len(groups), dim))
            groups += [j] * (dim.n_values if isinstance(dim, Categorical) else 1)
        self.groups = np.array(groups, dtype=np.int64)
        self.p = len(groups)
        self.continuous = np.array([isinstance(dim, Real) for dim in space.dims])
        self.columns = np.array([start for _, start, dim in self.blocks if isinstance(dim, Real)], dtype=np.int64)

    def __call__(self, U):
        U = np.clip(np.atleast_2d(U), 0.0, 1.0)
        X = np.zeros((U.shape[0], self.p))  # (c, p)
        for j, start, dim in self.blocks:
            if isinstance(dim, Categorical):
                X[np.arange(U.shape[0]), start + dim.level(U[:, j])] = 1.0
            else:
                X[:, start] = dim.snap(U[:, j])
        return X
