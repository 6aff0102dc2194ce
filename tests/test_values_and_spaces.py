"""What counts as an objective's value, and spaces at the edges of the float range."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.study import Study
from tunelab.searchers.trial import TrialState, check_value, is_real_number

SPACE = {"x": Real(0.0, 1.0)}

NOT_NUMBERS = ["1.5", True, False, np.bool_(True), None, np.array(1.0), np.array([[1.0]]), b"1", 1 + 0j]
NUMBERS = [(3, 3.0), (1.5, 1.5), (np.float32(0.5), 0.5), (np.int64(-7), -7.0), (np.float64(2.25), 2.25),
           (Fraction(1, 4), 0.25), (2**1000, float(2**1000))]


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_only_real_numbers_complete_a_trial_in_optimize_and_tell(value):
    study = Study(SPACE, seed=0)
    with pytest.warns(RuntimeWarning, match="must return a real number"):
        study.optimize(lambda trial: value, n_trials=1, progress=False)
    told = study.tell(study.ask(), value)
    for trial in (study.trials[0], told):
        assert trial.state is TrialState.FAILED and trial.value is None
        assert f"of type {type(value).__name__}" in trial.error


@pytest.mark.parametrize("value, expected", NUMBERS, ids=repr)
def test_real_numbers_of_python_and_numpy_complete_a_trial(value, expected):
    study = Study(SPACE, seed=0)
    study.optimize(lambda trial: value, n_trials=1, progress=False)
    told = study.tell(study.ask(), value)
    assert [t.value for t in study.trials] == [expected, expected]
    assert all(type(t.value) is float for t in study.trials)


def test_the_objective_rule_is_the_rule_of_scorers():
    """SearchCV's scorers (tunelab.core.model_selection) take numbers.Real but not bool; so does check_value."""
    for value in NOT_NUMBERS:
        assert not is_real_number(value)
    for value, _ in NUMBERS:
        assert is_real_number(value)


@pytest.mark.parametrize("value", [10**400, -(10**400), 10**5000], ids=["1e400", "-1e400", "1e5000"])
def test_a_value_beyond_the_float_range_fails_the_trial_in_optimize_and_tell(value):
    study = Study(SPACE, seed=0)
    with pytest.warns(RuntimeWarning, match="beyond the range of a float"):
        study.optimize(lambda trial: value, n_trials=2, progress=False)  # no OverflowError escapes
    told = study.tell(study.ask(), value)
    assert [t.state for t in study.trials] == [TrialState.FAILED] * 3
    assert told.error.startswith("the objective returned an integer of about")
    assert len(told.error) < 200  # the 400 digits are not printed


def test_told_as_pruned_with_a_value_beyond_the_float_range_is_pruned_without_it():
    study = Study(SPACE, seed=0)
    trial = study.tell(study.ask(), 10**400, state="pruned")
    assert trial.state is TrialState.PRUNED and trial.value is None and "value dropped" in trial.error
    assert study.tell(study.ask(), np.float32(0.5), state="pruned").value == 0.5


@pytest.mark.parametrize("bad, message", [
    ((1.0, "2"), "component 1 of 2) must return a real number"),
    ((True, 2.0), "component 0 of 2) must return a real number"),
    ((1.0, 10**400), "component 1 of 2) returned an integer"),
    ((1.0, math.nan), "component 1 of 2) returned nan"),
])
def test_each_component_of_several_objectives_follows_the_same_rule(bad, message):
    study = Study(SPACE, directions=["minimize", "minimize"], seed=0)
    with pytest.warns(RuntimeWarning):
        study.optimize(lambda trial: bad, n_trials=1, progress=False)
    told = study.tell(study.ask(), bad)
    for trial in study.trials:
        assert trial.state is TrialState.FAILED and message in trial.error
    assert told.objective_values is None
    good = study.tell(study.ask(), (np.int64(1), np.float32(2.5)))
    assert good.state is TrialState.COMPLETE and good.objective_values == [1.0, 2.5]


def test_check_value_errors_say_what_came_back():
    with pytest.raises(TypeError, match=r"report\(value\) must return a real number; got '1.5' of type str"):
        check_value("1.5", "report(value)")
    with pytest.raises(ValueError, match="returned inf; a finite number is required"):
        check_value(np.float64(np.inf))


# ---- spaces at the edges of the float range ---------------------------------------------------------------

def test_a_real_whose_span_overflows_decodes_to_finite_points_in_order():
    dim = Real(-1e308, 1e308)
    assert math.isinf(dim.high - dim.low)
    us = np.linspace(0, 1, 101)
    xs = [dim.from_unit(u) for u in us]
    assert all(math.isfinite(x) for x in xs)
    assert xs[0] == -1e308 and xs[50] == 0.0 and xs[-1] == 1e308 and xs[25] == -5e307
    assert all(a < b for a, b in zip(xs, xs[1:]))
    assert dim.to_unit(0.0) == 0.5 and dim.to_unit(-1e308) == 0.0 and dim.to_unit(1e308) == 1.0
    assert dim.grid(5) == [-1e308, -5e307, 0.0, 5e307, 1e308]
    full = Real(-np.finfo(float).max, np.finfo(float).max)
    assert full.from_unit(0.75) == pytest.approx(np.finfo(float).max / 2, rel=1e-15)


def test_a_stepped_real_whose_span_overflows_keeps_its_levels():
    dim = Real(-1e308, 1e308, step=1e307)
    assert dim.n_values == 21
    assert dim.to_unit(1e308) == pytest.approx(20.5 / 21) and dim.from_unit(0.999) == 1e308
    assert dim.contains(5e307) and not dim.contains(5.5e307)
    assert [dim.from_unit(dim.to_unit(x)) for x in (-1e308, 0.0, 1e308)] == [-1e308, 0.0, 1e308]


@settings(max_examples=60, deadline=None)
@given(st.floats(-1.7e308, 1.7e308), st.floats(-1.7e308, 1.7e308), st.floats(0.0, 1.0))
def test_any_finite_real_span_round_trips(low, high, u):
    if not low < high:
        return
    dim = Real(low, high)
    x = dim.from_unit(u)
    assert low <= x <= high and math.isfinite(x)
    assert 0.0 <= dim.to_unit(x) <= 1.0
    assert dim.from_unit(dim.to_unit(x)) == pytest.approx(x, rel=1e-12, abs=1e-12 * (abs(low) + abs(high)))


def test_a_study_over_a_real_whose_span_overflows_runs_and_reopens(tmp_path):
    path = tmp_path / "wide.db"
    study = Study({"x": Real(-1e308, 1e308)}, storage=str(path), seed=3)
    study.optimize(lambda t: abs(t["x"]) / 1e308, n_trials=5, progress=False)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
    assert len(Study.load(str(path)).trials) == 5


@pytest.mark.parametrize("low, high, name", [(0, 10**400, "high"), (-(2**63) - 1, 0, "low"), (0, 2**63, "high")],
                         ids=["1e400", "below-int64", "2**63"])
def test_an_integer_beyond_64_bits_is_refused_naming_the_bound(low, high, name):
    with pytest.raises(ValueError, match=rf"Integer needs `{name}` within the 64-bit integers"):
        Integer(low, high)


def test_the_widest_64_bit_integer_decodes():
    dim = Integer(-(2**63), 2**63 - 1)
    assert dim.from_unit(0.0) == -(2**63) and dim.from_unit(1.0) == 2**63 - 1


@pytest.mark.parametrize("choices", [[math.nan, 1.0], [np.nan], [np.float32("nan"), "a"], {math.nan: None, 2: None}],
                         ids=repr)
def test_a_nan_choice_is_refused(choices):
    with pytest.raises(ValueError, match="`choices` must not hold NaN"):
        Categorical(choices)


def test_a_nan_choice_is_refused_in_spaces_and_suggestions():
    with pytest.raises(ValueError, match="must not hold NaN"):
        Space({"c": [1.0, float("nan")]})
    study = Study(seed=0)
    with pytest.warns(RuntimeWarning, match="must not hold NaN"):
        study.optimize(lambda t: t.suggest_categorical("c", [float("nan"), 1.0]) or 0.0, n_trials=1, progress=False)
    assert study.trials[0].state is TrialState.FAILED


def test_choices_with_none_and_strings_reopen(tmp_path):
    path = str(tmp_path / "c.db")
    Study({"c": [None, "nan", 1.0]}, storage=path, seed=0).optimize(lambda t: 0.0, n_trials=2, progress=False)
    assert len(Study({"c": [None, "nan", 1.0]}, storage=path).trials) == 2


@pytest.mark.parametrize("timeout", [float("nan"), np.nan, -1.0, 0])
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout):
    with pytest.raises(ValueError, match="`timeout`"):
        Study(SPACE, seed=0).optimize(lambda t: 0.0, n_trials=1, timeout=timeout, progress=False)
