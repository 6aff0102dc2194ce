"""The benchmark test functions take their stated minimum at their stated minimiser, and nowhere lower."""

import numpy as np
import pytest

from tunelab.benchmarks.functions import get_function

NAMES = ["branin", "hartmann3", "hartmann6", "ackley5", "rosenbrock4", "levy10", "rastrigin5", "styblinski_tang3"]


@pytest.mark.parametrize("name", NAMES)
def test_known_minimum_is_attained_and_not_beaten(name):
    function = get_function(name)
    assert function(function.x_min) == pytest.approx(function.f_min, abs=1e-4)
    rng = np.random.default_rng(0)
    low, high = np.array(function.bounds).T
    values = [function(low + (high - low) * rng.random(function.dim)) for _ in range(2000)]
    assert min(values) >= function.f_min - 1e-9


def test_branin_has_three_global_minima():
    branin = get_function("branin")
    for x in [(-np.pi, 12.275), (np.pi, 2.275), (9.42478, 2.475)]:
        assert branin(x) == pytest.approx(branin.f_min, abs=1e-5)


def test_unknown_name_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="`name` must be one of branin"):
        get_function("sphere")
