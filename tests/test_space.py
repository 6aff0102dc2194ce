"""Search spaces: bounds, round trips through the unit cube, log-uniform spread, integer and choice shares."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers.space import Categorical, Integer, Real, Space, dimension_from_config

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def reals(draw):
    log = draw(st.booleans())
    low = draw(st.floats(1e-6 if log else -1e6, 1e5, allow_nan=False))
    width = draw(st.floats(1e-3, 1e6))
    return Real(low, low + width * (abs(low) + 1), log=log)


@st.composite
def integers(draw):
    log = draw(st.booleans())
    low = draw(st.integers(1 if log else -1000, 1000))
    return Integer(low, low + draw(st.integers(1, 5000)), log=log)


@st.composite
def categoricals(draw):
    n = draw(st.integers(1, 8))
    return Categorical([f"c{i}" for i in range(n)] if draw(st.booleans()) else list(range(n)))


dimensions = st.one_of(reals(), integers(), categoricals())


@SETTINGS
@given(dim=dimensions, seed=st.integers(0, 2**32 - 1))
def test_samples_lie_inside_the_dimension(dim, seed):
    rng = np.random.default_rng(seed)
    for value in dim.sample(rng, 50) + [dim.from_unit(0.0), dim.from_unit(1.0), dim.from_unit(-3), dim.from_unit(7)]:
        assert dim.contains(value), (dim, value)
        if isinstance(dim, Real):
            assert type(value) is float
        if isinstance(dim, Integer):
            assert type(value) is int


@SETTINGS
@given(dim=dimensions, seed=st.integers(0, 2**32 - 1))
def test_decode_encode_decode_is_the_identity(dim, seed):
    """from_unit(to_unit(x)) == x for every value x the dimension can produce; to_unit stays in [0, 1]."""
    for value in dim.sample(np.random.default_rng(seed), 30):
        u = dim.to_unit(value)
        assert 0.0 <= u <= 1.0
        back = dim.from_unit(u)
        if isinstance(dim, Real):
            assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-9 * (dim.high - dim.low))
        else:
            assert back == value


@SETTINGS
@given(dim=reals(), u=st.floats(0.0, 1.0))
def test_real_encode_inverts_decode(dim, u):
    assert math.isclose(dim.to_unit(dim.from_unit(u)), u, abs_tol=1e-9)


@SETTINGS
@given(dim=integers())
def test_every_integer_round_trips_through_its_bin(dim):
    values = range(dim.low, dim.high + 1) if dim.n_values < 200 else [dim.low, dim.low + 1, dim.high - 1, dim.high]
    for v in values:
        assert dim.from_unit(dim.to_unit(v)) == v


@SETTINGS
@given(low=st.integers(-50, 50), m=st.integers(1, 30))
def test_each_integer_owns_an_equal_share_of_the_unit_interval(low, m):
    """On a fine regular grid of u, every integer of a linear Integer gets the same count (to one point)."""
    dim = Integer(low, low + m)
    n = 1000 * (m + 1)
    counts = np.bincount([dim.from_unit((i + 0.5) / n) - low for i in range(n)], minlength=m + 1)
    assert counts.min() >= 1000 - 1 and counts.max() <= 1000 + 1


def test_log_real_is_uniform_in_log_space():
    """Real(1e-4, 1, log=True): each decade holds about a quarter of the samples."""
    dim = Real(1e-4, 1.0, log=True)
    x = np.array(dim.sample(np.random.default_rng(0), 20_000))
    decades = np.floor(np.log10(x)).clip(-4, -1)
    fractions = np.bincount((decades + 4).astype(int), minlength=4) / x.size
    np.testing.assert_allclose(fractions, 0.25, atol=0.015)
    linear = np.array(Real(1e-4, 1.0).sample(np.random.default_rng(0), 20_000))
    assert np.mean(linear < 1e-2) < 0.02  # without log, the small decades are almost never tried


def test_log_integer_shares_follow_log_widths():
    """Integer(1, 100, log=True): value v owns log((v + 1/2)/(v - 1/2)) / log(100.5/0.5) of the interval."""
    dim = Integer(1, 100, log=True)
    n = 200_000
    counts = np.bincount([dim.from_unit((i + 0.5) / n) for i in range(n)], minlength=101)[1:]
    v = np.arange(1, 101)
    expected = np.log((v + 0.5) / (v - 0.5)) / np.log(100.5 / 0.5)
    np.testing.assert_allclose(counts / n, expected, atol=2e-5)


@SETTINGS
@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_categorical_sampling_covers_every_choice_evenly(n, seed):
    dim = Categorical([f"c{i}" for i in range(n)])
    draws = dim.sample(np.random.default_rng(seed), 600 * n)
    counts = np.array([draws.count(c) for c in dim.choices])
    assert counts.min() > 0
    assert np.all(np.abs(counts / len(draws) - 1 / n) < 0.06)


def test_categorical_keeps_types_apart_and_allows_objects():
    dim = Categorical([1, 1.0, True, None, (1, 2), "1"])
    assert [dim.index(c) for c in dim.choices] == list(range(6))
    assert dim.index(np.int64(1)) == 0
    assert not dim.contains(2) and not dim.json_native
    assert dim.from_unit(dim.to_unit((1, 2))) == (1, 2)


@SETTINGS
@given(dim=dimensions, seed=st.integers(0, 2**32 - 1))
def test_snap_moves_u_to_the_point_of_its_value(dim, seed):
    """snap(u) = to_unit(from_unit(u)) for a discrete dimension, u for a real one (clipped), elementwise."""
    u = np.r_[np.random.default_rng(seed).random(40), 0.0, 1.0, -0.5, 1.5]
    snapped = dim.snap(u)
    assert snapped.shape == u.shape
    if isinstance(dim, Real):
        np.testing.assert_array_equal(snapped, np.clip(u, 0.0, 1.0))
        assert dim.n_values is None
        return
    np.testing.assert_array_equal(snapped, [dim.to_unit(dim.from_unit(x)) for x in u])
    np.testing.assert_array_equal(dim.snap(snapped), snapped)  # a point the dimension holds stays put
    assert [dim.from_unit(x) for x in snapped] == [dim.from_unit(x) for x in u]


@SETTINGS
@given(dim=st.one_of(integers(), categoricals()), seed=st.integers(0, 2**32 - 1))
def test_levels_are_the_values_in_order(dim, seed):
    """level(u) is the index of from_unit(u) among the values; level_units() holds to_unit of each value."""
    u = np.r_[np.random.default_rng(seed).random(40), 0.0, 1.0]
    values = [dim.from_unit(x) for x in u]
    if isinstance(dim, Integer):
        index = [v - dim.low for v in values]
        all_values = range(dim.low, dim.high + 1)
    else:
        index = [dim.index(v) for v in values]
        all_values = dim.choices
    levels = dim.level(u)
    assert levels.dtype == np.int64 and list(levels) == index
    units = dim.level_units()
    assert units.shape == (dim.n_values,) == (len(all_values),)
    np.testing.assert_array_equal(units, [dim.to_unit(v) for v in all_values])
    np.testing.assert_array_equal(dim.snap(u), units[levels])


@SETTINGS
@given(dim=st.one_of(integers(), categoricals()))
def test_level_k_is_decoded_from_its_cell(dim):
    """cell_edges e (m + 1,) rise from 0 to 1; points just inside [e_k, e_k+1) decode to level k."""
    e = dim.cell_edges()
    m = dim.n_values
    assert e.shape == (m + 1,) and e[0] == 0.0 and e[-1] == 1.0 and np.all(np.diff(e) > 0)
    units = dim.level_units()
    for k in range(m) if m <= 300 else [0, 1, m // 2, m - 2, m - 1]:
        width = e[k + 1] - e[k]
        inside = [e[k] + 1e-6 * width, (e[k] + e[k + 1]) / 2, e[k + 1] - 1e-6 * width]
        assert list(dim.level(inside)) == [k, k, k]
        assert e[k] < units[k] < e[k + 1]  # a value is encoded inside its cell


def test_integer_cells():
    np.testing.assert_array_equal(Integer(3, 6).cell_edges(), [0.0, 0.25, 0.5, 0.75, 1.0])
    e = Integer(1, 4, log=True).cell_edges()
    np.testing.assert_allclose(e, np.log([0.5, 1.5, 2.5, 3.5, 4.5] / np.float64(0.5)) / np.log(9.0), rtol=1e-12)
    # edges log(1, 3, 5, 7, 9) / log 9 = 0, 0.5, 0.73, 0.89, 1: the cells shrink as the values grow
    assert Integer(1, 4, log=True).level([0.25, 0.6, 0.8, 0.95]).tolist() == [0, 1, 2, 3]


def test_space_snap_snaps_each_column():
    space = make_space()
    rng = np.random.default_rng(5)
    U = rng.random((30, 4))
    snapped = space.snap(U)
    assert snapped.shape == U.shape and snapped is not U
    for u, s in zip(U, snapped):
        assert space.decode(s) == space.decode(u)
        for j, dim in enumerate(space.dims):
            assert s[j] == dim.snap(u[j])
    np.testing.assert_array_equal(space.snap(U[0]), snapped[0])  # one point, (d,)
    encoded = space.encode_many(space.sample(rng, 10))
    np.testing.assert_array_equal(space.snap(encoded)[:, 1:3], encoded[:, 1:3])  # the discrete columns stay
    with pytest.raises(ValueError, match=r"`U` must have shape \(4,\) or \(c, 4\); got \(3,\)"):
        space.snap([0.5, 0.5, 0.5])


def test_grid_points_of_each_dimension():
    assert Real(0, 1).grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_allclose(Real(1e-3, 1, log=True).grid(4), [1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    assert Real(0, 2).grid(1) == [1.0]
    assert Integer(-2, 2).grid(3) == [-2, -1, 0, 1, 2]  # every integer, n_points does not apply
    assert Categorical(["a", "b"]).grid(7) == ["a", "b"]


def make_space():
    return Space({"lr": Real(1e-4, 1.0, log=True), "depth": Integer(1, 6), "optimizer__kind": ["sgd", "adam"],
                  "alpha": Real(-1.0, 1.0)})


def test_space_encode_decode_and_sample():
    space = make_space()
    rng = np.random.default_rng(3)
    for params in space.sample(rng, 40):
        u = space.encode(params)
        assert u.shape == (4,) and u.dtype == np.float64 and np.all((0 <= u) & (u <= 1))
        back = space.decode(u)
        assert back["depth"] == params["depth"] and back["optimizer__kind"] == params["optimizer__kind"]
        assert math.isclose(back["lr"], params["lr"], rel_tol=1e-12)
    U = space.encode_many(space.sample(rng, 5))
    assert U.shape == (5, 4)
    assert set(space.sample(np.random.default_rng(0))) == set(space.names)
    assert space.sample(np.random.default_rng(7), 6) == space.sample(np.random.default_rng(7), 6)  # seeded


def test_space_grid_is_the_full_product_in_itertools_order():
    space = Space({"a": Real(0, 1), "b": Integer(1, 3), "c": ["x", "y"]})
    grid = space.grid(n_points=2)
    assert len(grid) == space.grid_size(2) == 2 * 3 * 2
    assert grid[0] == {"a": 0.0, "b": 1, "c": "x"}
    assert grid[1] == {"a": 0.0, "b": 1, "c": "y"}  # the last dimension varies fastest
    assert grid[-1] == {"a": 1.0, "b": 3, "c": "y"}
    assert len({tuple(p.values()) for p in grid}) == len(grid)
    assert space.grid_size({"a": 4}) == 4 * 3 * 2


def test_space_config_round_trip_and_json_params():
    space = make_space()
    assert Space.from_config(space.config()) == space
    objects = Space({"f": Categorical([len, max]), "x": Real(0, 1)})
    stored = objects.params_to_json({"f": max, "x": 0.5})
    assert stored == {"f": 1, "x": 0.5}
    assert objects.params_from_json(stored) == {"f": max, "x": 0.5}
    with pytest.raises(ValueError, match="not JSON values; pass the `space`"):
        Space.from_config(objects.config())


@pytest.mark.parametrize("make, error, match", [
    (lambda: Real(1, 1), ValueError, r"`low` < `high`; got low=1, high=1"),
    (lambda: Real(2, 1), ValueError, r"`low` < `high`"),
    (lambda: Real(0, 1, log=True), ValueError, r"log=True needs `low` > 0; got low=0"),
    (lambda: Real("a", 1), TypeError, r"`low` must be a real number; got 'a'"),
    (lambda: Real(0, float("inf")), ValueError, r"`high` must be finite"),
    (lambda: Real(True, 2), TypeError, r"`low` must be a real number"),
    (lambda: Integer(1.5, 3), TypeError, r"`low` must be an integer; got 1.5"),
    (lambda: Integer(3, 3), ValueError, r"`low` < `high`"),
    (lambda: Integer(0, 10, log=True), ValueError, r"log=True needs `low` >= 1; got low=0"),
    (lambda: Categorical([]), ValueError, r"`choices` must not be empty"),
    (lambda: Categorical(["a", "b", "a"]), ValueError, r"distinct; 'a' appears more than once"),
    (lambda: Categorical("abc"), TypeError, r"`choices` must be a list or tuple"),
    (lambda: Space({}), ValueError, r"at least one dimension"),
    (lambda: Space([("a", Real(0, 1))]), TypeError, r"`space` must be a dict"),
    (lambda: Space({"a": (0, 1)}), TypeError, r"dimension 'a' must be Real\(...\)"),
    (lambda: Space({"": Real(0, 1)}), TypeError, r"non-empty strings"),
    (lambda: Real(0, 1).grid(0), ValueError, r"`n_points` must be >= 1; got 0"),
    (lambda: Real(0, 1).grid(2.5), TypeError, r"`n_points` must be an integer; got 2.5"),
    (lambda: make_space().grid_axes({"alpha": 0}), ValueError, r"`n_points\['alpha'\]` must be >= 1; got 0"),
    (lambda: make_space().grid_axes({"nope": 3}), ValueError, r"`n_points` names \['nope'\]"),
])
def test_invalid_spaces_fail_with_clear_messages(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_params_outside_the_space_are_refused():
    space = make_space()
    good = {"lr": 0.1, "depth": 2, "optimizer__kind": "sgd", "alpha": 0.0}
    assert space.validate(dict(good)) == good
    with pytest.raises(ValueError, match=r"missing \['alpha'\], unknown \['beta'\]"):
        space.encode({"lr": 0.1, "depth": 2, "optimizer__kind": "sgd", "beta": 0})
    with pytest.raises(ValueError, match=r"params\['depth'\] = 9 is not inside Integer\(1, 6\)"):
        space.encode({**good, "depth": 9})
    with pytest.raises(ValueError, match=r"not inside Categorical"):
        space.encode({**good, "optimizer__kind": "rmsprop"})
    with pytest.raises(ValueError, match=r"`u` must have shape \(4,\)"):
        space.decode([0.5, 0.5])


def test_dimension_from_config_rejects_unknown_types():
    with pytest.raises(ValueError, match="unknown dimension type 'float'"):
        dimension_from_config({"type": "float"})
