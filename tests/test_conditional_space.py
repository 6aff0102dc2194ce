"""Conditional spaces and stepped dimensions: the tree decoded from the unit cube, the fixed value of an
inactive dimension, the grid of active combinations (against brute force), storage, and bad declarations."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers.space import Categorical, Grid, Integer, Real, Space

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def leaves(draw):
    kind = draw(st.sampled_from(["real", "log", "step", "int", "intstep", "intlog", "cat"]))
    if kind == "real":
        return Real(-1.0, draw(st.floats(0.5, 10.0)))
    if kind == "log":
        return Real(1e-4, draw(st.floats(1e-3, 10.0)), log=True)
    if kind == "step":
        return Real(0.0, 1.0, step=draw(st.sampled_from([0.5, 0.25, 0.1])))
    if kind == "int":
        return Integer(0, draw(st.integers(1, 9)))
    if kind == "intstep":
        return Integer(1, 13, step=draw(st.integers(2, 4)))
    if kind == "intlog":
        return Integer(1, draw(st.integers(2, 500)), log=True)
    return Categorical([f"v{i}" for i in range(draw(st.integers(1, 4)))])


@st.composite
def conditional_spaces(draw):
    """A root with 0-2 plain dimensions and a choice of 1-3 branches: each branch with 0-2 dimensions of its
    own, maybe a dimension shared by several branches, and in the first branch maybe a nested choice."""
    space = {f"r{i}": draw(leaves()) for i in range(draw(st.integers(0, 2)))}
    branches = {}
    for k in range(draw(st.integers(1, 3))):
        sub = {f"b{k}_{i}": draw(leaves()) for i in range(draw(st.integers(0, 2)))}
        if draw(st.booleans()):
            sub["shared"] = Real(0.0, 1.0)
        if k == 0 and draw(st.booleans()):
            sub["inner"] = Categorical({"p": {"deep": draw(leaves())}, "q": None})
        branches[f"choice{k}"] = sub or None
    space["root"] = Categorical(branches)
    return Space(space)


def close(a, b):
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) if isinstance(a[k], float) else a[k] == b[k] for k in a)


@SETTINGS
@given(space=conditional_spaces(), seed=st.integers(0, 2**32 - 1))
def test_decode_gives_exactly_the_active_dimensions_and_encode_fills_the_rest(space, seed):
    U = np.random.default_rng(seed).random((20, len(space)))  # (m, d)
    A = space.active_mask(U)
    for u, active in zip(U, A):
        params = space.decode(u)
        assert list(params) == [n for n, a in zip(space.names, active) if a]  # active ones only, in order
        assert space.validate(params) is params
        assert set(space.active_names(params)) == set(params)
        encoded = space.encode(params)
        assert np.array_equal(encoded[~active], space.inactive_units[~active])  # the fixed inactive value
        np.testing.assert_allclose(encoded, space.fill_inactive(space.snap(u)), atol=1e-9)
        assert close(space.decode(encoded), params)  # decode(encode(p)) == p
        assert space.decode(space.fill_inactive(u)) == params  # the inactive coordinates are ignored
        assert space.decode(space.snap(u)) == params
    np.testing.assert_allclose(space.inactive_units, space.snap(space.inactive_units))  # points the space holds


@SETTINGS
@given(space=conditional_spaces())
def test_config_round_trip_keeps_the_conditions(space):
    again = Space.from_config(space.config())
    assert again == space and again.is_conditional == space.is_conditional
    for name in space.names:
        assert again.condition(name) == space.condition(name)


def brute_force_grid(space, n_points):
    """The distinct active restrictions of every point of the full product of the axes."""
    points = set()
    for values in itertools.product(*space.grid_axes(n_points)):
        full = dict(zip(space.names, values))
        points.add(tuple((n, repr(full[n])) for n in space.active_names(full)))
    return points


@SETTINGS
@given(space=conditional_spaces(), n_points=st.integers(1, 3))
def test_the_grid_holds_every_active_combination_once(space, n_points):
    grid = Grid(space, n_points)
    if math.prod(len(a) for a in space.grid_axes(n_points)) > 3000:
        return  # the brute force would be slow
    points = [grid.point(i) for i in range(grid.size)]
    keys = [tuple((n, repr(v)) for n, v in p.items()) for p in points]
    assert len(set(keys)) == len(keys) == grid.size == space.grid_size(n_points)
    assert set(keys) == brute_force_grid(space, n_points)
    for i, p in enumerate(points):
        space.validate(p)
        assert grid.index(p) == i


def optimizer_space():
    return Space({"alpha": Real(1e-6, 1e-2, log=True),
                  "optimizer": Categorical({"momentum": {"lr": Real(1e-3, 0.3, log=True), "momentum": Real(0.5, 0.99)},
                                            "adam": {"lr": Real(1e-3, 0.3, log=True), "beta1": Real(0.8, 0.99)},
                                            "lbfgs": {"memory": Integer(3, 20)}})})


def test_a_conditional_space_flattens_parents_first_with_its_conditions():
    space = optimizer_space()
    assert space.names == ("alpha", "optimizer", "lr", "momentum", "beta1", "memory")
    assert space["optimizer"] == Categorical(["momentum", "adam", "lbfgs"]) and space.is_conditional
    assert space.condition("alpha") is None
    assert space.condition("lr") == ("optimizer", ("momentum", "adam"))  # one dimension under two choices
    assert space.condition("memory") == ("optimizer", ("lbfgs",))
    grid = space.grid(2)
    assert len(grid) == space.grid_size(2) == 2 * (2 * 2 + 2 * 2 + 18)
    assert grid[0] == {"alpha": 1e-6, "optimizer": "momentum", "lr": 1e-3, "momentum": 0.5}
    assert grid[-1] == {"alpha": 1e-2, "optimizer": "lbfgs", "memory": 20}
    config = space.config()
    assert config[2] == {"name": "lr", "type": "real", "low": 1e-3, "high": 0.3, "log": True,
                         "parent": "optimizer", "when": [0, 1]}


def test_sampling_the_tree_gives_each_branch_its_share():
    counts = {"momentum": 0, "adam": 0, "lbfgs": 0}
    for params in optimizer_space().sample(np.random.default_rng(0), 3000):
        counts[params["optimizer"]] += 1
    assert all(abs(c / 3000 - 1 / 3) < 0.03 for c in counts.values())


def test_active_mask_follows_the_parent_level():
    space = optimizer_space()
    U = np.full((3, 6), 0.5)
    U[:, 1] = [0.1, 0.5, 0.9]  # momentum, adam, lbfgs
    assert space.active_mask(U).tolist() == [[True, True, True, True, False, False],
                                            [True, True, True, False, True, False],
                                            [True, True, False, False, False, True]]
    assert space.active_mask(U[2]).tolist() == [True, True, False, False, False, True]


def test_params_of_another_branch_are_refused_by_name():
    space = optimizer_space()
    with pytest.raises(ValueError, match=r"exactly the active names \['alpha', 'optimizer', 'lr', 'beta1'\]; missing "
                                         r"\['beta1'\], unknown or inactive \['momentum'\] \('momentum' exists only "
                                         r"when optimizer is 'momentum'\)"):
        space.validate({"alpha": 1e-3, "optimizer": "adam", "lr": 0.01, "momentum": 0.9})
    with pytest.raises(ValueError, match=r"params\['optimizer'\] = 'sgd' is not inside"):
        space.validate({"alpha": 1e-3, "optimizer": "sgd"})


@pytest.mark.parametrize("dimensions, match", [
    (lambda: {"lr": Real(0, 1), "k": Categorical({"a": {"lr": Real(0, 1)}})},
     r"'lr' is declared twice: Real\(0.0, 1.0\) at the top level and Real\(0.0, 1.0\) under k='a'"),
    (lambda: {"k": Categorical({"a": {"lr": Real(0, 1)}, "b": {"lr": Real(0, 2)}})},
     r"'lr' is declared twice: Real\(0.0, 1.0\) under k='a' and Real\(0.0, 2.0\) under k='b'"),
    (lambda: {"k": Categorical({"a": {"lr": Real(0, 1)}}), "j": Categorical({"x": {"lr": Real(0, 1)}})},
     r"'lr' is declared twice: Real\(0.0, 1.0\) under k='a' and Real\(0.0, 1.0\) under j='x'"),
    (lambda: {"k": Categorical({"a": 3})}, r"the sub-space of choice 'a' must be a dict"),
    (lambda: {"k": Categorical({"a": {"lr": (0, 1)}})}, r"dimension 'lr' must be Real"),
])
def test_a_name_is_one_dimension(dimensions, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Space(dimensions())


def test_a_choice_with_sub_spaces_round_trips_alone():
    from tunelab.searchers.space import dimension_from_config

    dim = Categorical({"a": {"x": Real(0, 1)}, "b": None})
    assert dimension_from_config(dim.config()) == dim and dim != Categorical(["a", "b"])
    assert repr(dim) == "Categorical({'a': {'x': Real(0.0, 1.0)}, 'b': None})"


# ---- stepped dimensions -------------------------------------------------------------------------


def test_a_real_with_a_step_has_equal_cells_for_its_values():
    dim = Real(0.0, 1.0, step=0.25)
    assert dim.n_values == 5 and [dim.value(k) for k in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [dim.from_unit(u) for u in (0.0, 0.19, 0.21, 0.99, 1.0)] == [0.0, 0.0, 0.25, 1.0, 1.0]
    assert dim.to_unit(0.5) == 0.5 and dim.snap(0.33) == 0.3
    assert dim.contains(0.75) and not dim.contains(0.3) and not dim.contains(1.25)
    assert dim.grid(3) == [0.0, 0.5, 1.0] and dim.grid(10) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert dim == Real(0, 1, step=0.25) != Real(0, 1) and repr(dim) == "Real(0.0, 1.0, step=0.25)"
    np.testing.assert_allclose(dim.cell_edges(), np.linspace(0, 1, 6))


def test_an_integer_with_a_step_keeps_every_step_th_value():
    dim = Integer(2, 11, step=3)
    assert dim.n_values == 4 and [dim.from_unit(u) for u in (0.0, 0.3, 0.6, 1.0)] == [2, 5, 8, 11]
    assert dim.grid() == [2, 5, 8, 11] and dim.contains(8) and not dim.contains(7)
    assert dim.to_unit(8) == 0.625 and dim.config() == {"type": "integer", "low": 2, "high": 11, "log": False,
                                                        "step": 3}


def test_a_step_that_does_not_divide_the_range_moves_high_down_with_a_warning():
    with pytest.warns(UserWarning, match=r"high=10 is replaced by 9"):
        assert Integer(0, 10, step=3).high == 9
    with pytest.warns(UserWarning, match=r"high=1.0 is replaced by 0.9"):
        assert Real(0.0, 1.0, step=0.3).n_values == 4


@pytest.mark.parametrize("make, error, match", [
    (lambda: Real(1e-3, 1.0, log=True, step=0.1), ValueError, r"`step` or log=True, not both"),
    (lambda: Real(0.0, 1.0, step=0), ValueError, r"`step` must be > 0.0; got 0"),
    (lambda: Real(0.0, 1.0, step=2.0), ValueError, r"needs `step` <= high - low"),
    (lambda: Integer(1, 10, log=True, step=2), ValueError, r"log=True needs step=1; got step=2"),
    (lambda: Integer(1, 10, step=1.5), TypeError, r"`step` must be an integer; got 1.5"),
    (lambda: Real(0.0, 1.0, log="yes"), TypeError, r"`log` must be True or False"),
])
def test_bad_steps_fail_with_clear_messages(make, error, match):
    with pytest.raises(error, match=match):
        make()
