"""Data for tunelab: seeded synthetic generators and three small real data sets shipped as files.

Generators: make_classification, make_regression, make_moons, make_xor (same seed -> same arrays).
Real data (offline, CC BY 4.0, see data/DATA_LICENSE.txt): load_digits, load_breast_cancer, load_wine.
"""

from tunelab.core.datasets._generators import make_classification, make_moons, make_regression, make_xor
from tunelab.core.datasets._loaders import load_breast_cancer, load_digits, load_wine

__all__ = [
    "load_breast_cancer",
    "load_digits",
    "load_wine",
    "make_classification",
    "make_moons",
    "make_regression",
    "make_xor",
]
