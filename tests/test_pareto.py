"""Pareto dominance (tunelab.searchers.pareto) against brute-force definitions, and multi-objective studies."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers import RandomSearch, NSGA2Search, Real, Study, minimize, maximize
from tunelab.searchers.pareto import crowding_distance, hypervolume, is_pareto_efficient, non_dominated_sort

from _brute_pareto import brute_hypervolume as _brute_hypervolume


def _dominates(a, b):
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def _brute_fronts(F):
    """Front k: the points left after removing fronts < k that no other point left dominates."""
    left, fronts = list(range(len(F))), []
    while left:
        front = [i for i in left if not any(_dominates(F[j], F[i]) for j in left)]
        fronts.append(front)
        left = [i for i in left if i not in front]
    return fronts


points = st.integers(1, 4).flatmap(lambda m: st.lists(
    st.lists(st.integers(0, 4), min_size=m, max_size=m), min_size=0, max_size=14))  # small ints: ties, copies


@settings(max_examples=150, deadline=None)
@given(points)
def test_non_dominated_sort_matches_the_definition(P):
    F = np.array(P, dtype=float).reshape(len(P), -1 if P else 1)
    fronts = [f.tolist() for f in non_dominated_sort(F)]
    assert fronts == _brute_fronts(P)
    assert is_pareto_efficient(F).tolist() == [i in (fronts[0] if fronts else []) for i in range(len(P))]


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 4).flatmap(lambda m: st.lists(
    st.lists(st.integers(0, 5), min_size=m, max_size=m), min_size=1, max_size=7)))
def test_hypervolume_is_exact_on_integer_grids(P):
    ref = [5.0] * len(P[0])
    assert hypervolume(np.array(P, dtype=float), ref) == pytest.approx(_brute_hypervolume(P, ref), abs=1e-9)


def test_hypervolume_small_cases():
    assert hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0]) == pytest.approx(3.0)
    assert hypervolume([[1.0, 1.0, 1.0]], [2.0, 3.0, 4.0]) == pytest.approx(6.0)
    assert hypervolume([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], [2, 2, 2]) == pytest.approx(8 - 1)
    assert hypervolume([[3.0, 0.0]], [3.0, 3.0]) == 0.0  # on the reference: nothing
    assert hypervolume(np.zeros((0, 2)), [1.0, 1.0]) == 0.0
    assert hypervolume([[0.25]], [1.0]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="one entry per objective"):
        hypervolume([[1.0, 2.0]], [3.0, 3.0, 3.0])


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_agrees_with_monte_carlo(m):
    rng = np.random.default_rng(m)
    F = rng.random((25, m)) ** 0.5  # many points, several fronts
    exact = hypervolume(F, np.ones(m))
    X = rng.random((200_000, m))
    covered = np.zeros(len(X), dtype=bool)
    for p in F:
        covered |= (X >= p).all(axis=1)
    estimate, se = covered.mean(), covered.std() / np.sqrt(len(X))
    assert abs(exact - estimate) < 4 * se + 1e-12


def test_crowding_distance_on_known_fronts():
    F = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])  # a line, uneven spacing
    d = crowding_distance(F)
    assert np.isinf(d[[0, 3]]).all()
    assert d[1] == pytest.approx(3 / 4 + 3 / 4) and d[2] == pytest.approx(3 / 4 + 3 / 4)
    F = np.array([[0.0, 2.0], [0.5, 1.5], [1.0, 1.0], [2.0, 0.0]])
    assert crowding_distance(F)[1:3] == pytest.approx([1 / 2 + 1 / 2, 1.5 / 2 + 1.5 / 2])
    assert np.isinf(crowding_distance(F[:2])).all()
    assert crowding_distance(np.array([[1.0, 1.0]] * 3))[1] == 0.0  # constant objectives add nothing


def _two(p):
    return p["x"], 1.0 - p["x"] ** 2 + p["y"]


SPACE = {"x": Real(0, 1), "y": Real(0, 1)}


def test_best_trials_and_hypervolume_of_a_study_with_mixed_directions():
    study = Study(SPACE, RandomSearch(), directions=["minimize", "maximize"], seed=0)
    study.optimize(lambda p: (p["x"], -(1.0 - p["x"] ** 2 + p["y"])), n_trials=40, progress=False)
    values = np.array([t.objective_values for t in study.trials])
    losses = values * [1, -1]
    front = [t.number for t in study.best_trials]
    assert front == sorted(front)
    assert front == [i for i, keep in enumerate(is_pareto_efficient(losses)) if keep]
    assert study.hypervolume([2.0, -1.0]) == pytest.approx(hypervolume(losses, [2.0, 1.0]))
    with pytest.raises(ValueError, match="best_trials"):
        study.best_trial


def test_a_resumed_study_equals_an_uninterrupted_one(tmp_path):
    space = SPACE
    straight = Study(space, NSGA2Search(population_size=6), directions=["minimize"] * 2, seed=3,
                     storage=tmp_path / "a.db").optimize(_two, n_trials=20, progress=False)
    first = Study(space, NSGA2Search(population_size=6), directions=["minimize"] * 2, seed=3,
                  storage=tmp_path / "b.db").optimize(_two, n_trials=9, progress=False)
    first.close()
    resumed = Study.load(tmp_path / "b.db")
    assert resumed.directions == ["minimize", "minimize"] and type(resumed.searcher) is NSGA2Search
    resumed.optimize(_two, n_trials=11, progress=False)
    assert [t.params for t in resumed.trials] == [t.params for t in straight.trials]
    assert [t.objective_values for t in resumed.trials] == [t.objective_values for t in straight.trials]


def test_same_seed_same_study_for_any_n_jobs():
    runs = [minimize(_two, SPACE, NSGA2Search(population_size=6), n_trials=18, seed=1, directions=["minimize"] * 2,
                     n_jobs=n_jobs, progress=False) for n_jobs in (1, 1, 3)]
    key = lambda study: sorted(repr(sorted(t.params.items())) for t in study.trials)  # noqa: E731
    assert [t.params for t in runs[0].trials] == [t.params for t in runs[1].trials]
    assert key(runs[0]) == key(runs[2])


def test_export_has_one_column_per_objective(tmp_path):
    study = maximize(_two, SPACE, n_trials=3, seed=0, directions=["minimize", "maximize"], progress=False)
    header = study.to_csv(tmp_path / "t.csv").splitlines()[0].split(",")
    assert header[:4] == ["number", "state", "values_0", "values_1"]
    assert study.trials_table()[0]["values_1"] == study.trials[0].objective_values[1]


def test_wrong_directions_and_values_are_named():
    with pytest.raises(ValueError, match=r"directions\[1\]"):
        Study(SPACE, directions=["minimize", "up"])
    with pytest.raises(TypeError, match="directions"):
        Study(SPACE, directions="minimize")
    with pytest.raises(ValueError, match="not both"):
        Study(SPACE, direction="maximize", directions=["minimize", "minimize"])
    study = Study(SPACE, directions=["minimize", "minimize"], seed=0)
    trial = study.tell(study.ask(), (1.0, 2.0, 3.0))
    assert trial.state.value == "failed" and "returned 3 values" in trial.error
    trial = study.tell(study.ask(), (1.0, float("inf")))
    assert trial.state.value == "failed" and "component 1 of 2" in trial.error
    assert study.tell(study.ask(), np.array([1.0, 2.0])).objective_values == [1.0, 2.0]


def test_a_stored_study_keeps_its_directions(tmp_path):
    path = tmp_path / "s.db"
    Study(SPACE, directions=["minimize", "maximize"], storage=path, seed=0).optimize(
        lambda p: (p["x"], p["y"]), n_trials=3, progress=False).close()
    with pytest.raises(ValueError, match="directions"):
        Study(SPACE, directions=["maximize", "maximize"], storage=path)
    again = Study(SPACE, directions=["minimize", "maximize"], storage=path)
    assert [t.objective_values for t in again.trials] == [[t.params["x"], t.params["y"]] for t in again.trials]


def test_the_progress_bar_shows_the_front_size():
    import io

    from tunelab.searchers.parallel import _best_so_far
    from tunelab.searchers.progress import ProgressBar

    assert "front 2, hypervolume 1.5" in ProgressBar(total=5, stream=io.StringIO()).line(3, None, 1.0, front=(2, 1.5))
    study = Study(SPACE, directions=["minimize", "minimize"], seed=0)
    best = {}
    for values in [(1.0, 3.0), (2.0, 2.0), (3.0, 3.0), (0.5, 4.0)]:
        best = _best_so_far(study, study.tell(study.ask(), values), best, shown=True)
    size, volume = best["front"]
    assert size == 3  # (3, 3) is dominated by (2, 2)
    # reference: 10% of the ranges (2.5 and 2.0) beyond the worst (3, 4) -> (3.25, 4.2); the front
    # (0.5, 4), (1, 3), (2, 2) covers 0.5 x 0.2 + 1 x 1.2 + 1.25 x 2.2 by slices along the first objective
    assert volume == pytest.approx(0.5 * 0.2 + 1.0 * 1.2 + 1.25 * 2.2)


def test_the_progress_bar_shows_the_front_size_alone_from_four_objectives():
    import io

    from tunelab.searchers.parallel import _best_so_far
    from tunelab.searchers.progress import ProgressBar

    study = Study(SPACE, directions=["minimize"] * 4, seed=0)
    best = {}
    for values in [(1.0, 3.0, 0.0, 1.0), (2.0, 2.0, 1.0, 0.0), (3.0, 3.0, 1.0, 1.0)]:
        best = _best_so_far(study, study.tell(study.ask(), values), best, shown=True)
    assert best["front"] == (2, None)
    line = ProgressBar(total=5, stream=io.StringIO()).line(3, None, 1.0, front=best["front"])
    assert "front 2" in line and "hypervolume" not in line
