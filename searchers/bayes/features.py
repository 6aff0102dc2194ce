"""The input transform of the GP searcher: unit-cube points -> the features the model sees.

Mixed spaces (Garrido-Merchan & Hernandez-Lobato, "Dealing with categorical and integer-valued
variables in Bayesian optimization with Gaussian processes", Neurocomputing 2020): each integer
dimension is rounded to its value and each categorical one is one-hot encoded, so the GP only ever
sees points that the space can hold: features(u) == features(encode(decode(u))) (up to the rounding
of real coordinates).

    Real          x = u                                       one feature
    Integer       x = to_unit(from_unit(u))                   one feature (a Real with a step likewise)
    Categorical   x = e_k, k the level u decodes to           n_values features, one lengthscale

The acquisition is therefore flat between the values of a discrete dimension: its gradient moves
only the continuous real coordinates.

Conditional spaces: one GP over an embedding where an inactive dimension takes a fixed value (the
imputation of Levesque, Durand, Gagne & Sabourin, "Bayesian optimization for conditional hyperparameter
spaces", IJCNN 2017; Swersky et al. 2013 discuss such embeddings): a real or integer feature the centre
point `Space.inactive_units`, a categorical block the zero vector (no choice). So two trials of one branch
are compared on the dimensions they share and by the one-hot of their choice, a trial's features do not
depend on the coordinates that `decode` ignores, and the acquisition is flat along them.
"""

import numpy as np

from tunelab.searchers.space import Categorical


class FeatureMap:
    """Unit-cube points U (c, d) -> model inputs X (c, p): reals as they are, integers snapped to the unit
    point of their value (`Dimension.snap`), categoricals one-hot at their level (`Dimension.level`).

    `groups` (p,) gives the lengthscale of each feature (the one-hot block of a categorical shares one);
    `continuous` (d,) marks the dimensions the acquisition's gradient may move, `columns` their features.
    In a conditional space an inactive dimension gets a fixed feature (see the module docstring).
    """

    def __init__(self, space):
        self.space = space
        self.blocks = []  # (dimension index j, first feature, dimension)
        groups = []
        for j, dim in enumerate(space.dims):
            self.blocks.append((j, len(groups), dim))
            groups += [j] * (dim.n_values if isinstance(dim, Categorical) else 1)
        self.groups = np.array(groups, dtype=np.int64)
        self.p = len(groups)
        self.continuous = np.array([dim.n_values is None for dim in space.dims], dtype=bool)
        self.columns = np.array([start for _, start, dim in self.blocks if dim.n_values is None], dtype=np.int64)

    def active(self, U):
        """(c, d) bool: the coordinates of U (c, d) that are active (all of them in a flat space)."""
        return self.space.active_mask(np.atleast_2d(U))

    def __call__(self, U):
        U = np.clip(np.atleast_2d(U), 0.0, 1.0)
        X = np.zeros((U.shape[0], self.p))  # (c, p)
        A = self.active(U) if self.space.is_conditional else None  # (c, d)
        rows = np.arange(U.shape[0])
        for j, start, dim in self.blocks:
            if isinstance(dim, Categorical):
                on = rows if A is None else rows[A[:, j]]
                X[on, start + dim.level(U[on, j])] = 1.0  # an inactive block stays zero
            else:
                x = dim.snap(U[:, j])
                X[:, start] = x if A is None else np.where(A[:, j], x, self.space.inactive_units[j])
        return X
