"""Define-by-run studies, as Optuna's: the space grows as names are first suggested, a name keeps one
distribution, objectives branch, trials hold what they suggested, new names are drawn from the searcher's
stream, storage and resume work (in one file shared by several studies too), and declared studies answer
suggest_* with their own values."""

import csv
import io
import json
import math
import zlib

import numpy as np
import pytest

from tunelab.searchers.bayes.search import BayesSearch
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.study import Study, maximize, minimize
from tunelab.searchers.trial import INDEPENDENT_KEY, Trial, TrialState, independent_value


def branching(trial):
    """Module level, so that worker processes can unpickle it."""
    optimizer = trial.suggest_categorical("optimizer", ["momentum", "adam"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    loss = (math.log10(lr) + 2.0) ** 2
    if optimizer == "momentum":
        loss += (trial.suggest_float("momentum", 0.5, 0.99) - 0.9) ** 2
    else:
        loss += 0.1 * trial.suggest_int("warmup", 0, 10, step=2)
    return loss


def test_the_space_grows_in_the_order_names_are_first_suggested():
    study = Study(seed=0)
    assert len(study.space) == 0 and study.space.define_by_run
    study.optimize(branching, n_trials=20, progress=False)
    assert study.space.names[:2] == ("optimizer", "lr")
    assert set(study.space.names) == {"optimizer", "lr", "momentum", "warmup"}
    assert study.space["warmup"] == Integer(0, 10, step=2) and study.space["lr"] == Real(1e-4, 1e-1, log=True)
    for trial in study.trials:
        assert trial.state is TrialState.COMPLETE
        own = {"momentum"} if trial.params["optimizer"] == "momentum" else {"warmup"}
        assert set(trial.params) == {"optimizer", "lr"} | own  # only what the trial suggested
        assert trial.params["warmup"] % 2 == 0 if "warmup" in trial.params else True
    assert {t.params["optimizer"] for t in study.trials} == {"momentum", "adam"}


def test_an_optuna_style_objective_runs_whatever_its_parameter_is_called():
    def objective(t):
        x = t.suggest_float("x", -10, 10)
        return (x - 2) ** 2

    study = minimize(objective, searcher=BayesSearch(n_initial=5), n_trials=20, seed=1, progress=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert abs(study.best_params["x"] - 2) < 0.2
    best = maximize(lambda trial: -abs(trial.suggest_int("n", 0, 20) - 7), searcher=BayesSearch(n_initial=5),
                    n_trials=15, seed=0, progress=False)
    assert best.best_params == {"n": 7}


def test_a_name_keeps_one_distribution():
    def drifting(trial):
        return trial.suggest_float("x", 0.0, 1.0 + trial.number)  # another range from trial 1 on

    study = Study(seed=0).optimize(drifting, n_trials=3, progress=False)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAILED, TrialState.FAILED]
    assert study.trials[1].error == (
        "ValueError: 'x' is suggested as Real(0.0, 2.0), but the study has it as Real(0.0, 1.0): a name keeps one "
        "distribution in a study; give another name to another range or list of choices.")
    assert study.trials[1].params == {}

    def twice(trial):
        trial.suggest_int("k", 1, 4)
        return trial.suggest_float("k", 1.0, 4.0)

    study = Study(seed=0).optimize(twice, n_trials=1, progress=False)
    assert "'k' is suggested as Real(1.0, 4.0), but trial 0 has it as Integer(1, 4)" in study.trials[0].error


def test_a_name_suggested_twice_in_a_trial_keeps_its_value():
    values = []

    def objective(trial):
        values.append((trial.suggest_float("x", 0, 1), trial.suggest_float("x", 0, 1), trial["x"]))
        return 0.0

    Study(seed=0).optimize(objective, n_trials=3, progress=False)
    assert all(a == b == c for a, b, c in values)


def test_names_new_to_the_study_are_drawn_from_the_searchers_stream():
    study = Study(seed=42)
    trial = study.ask()
    x = trial.suggest_float("x", -1.0, 1.0)
    stream = study.searcher.rng(INDEPENDENT_KEY, 0, zlib.crc32(b"x"))  # the searcher's stream for (trial 0, "x")
    assert x == Real(-1.0, 1.0).from_unit(stream.random()) == independent_value(study.seed, 0, "x", Real(-1.0, 1.0))
    study.tell(trial, x**2)
    later = study.ask()  # the searcher now proposes x; a new name is still drawn independently
    assert later.suggest_float("x", -1.0, 1.0) != independent_value(study.seed, 1, "x", Real(-1.0, 1.0))
    assert later.suggest_int("n", 0, 9) == independent_value(study.seed, 1, "n", Integer(0, 9))


def test_ask_and_tell_by_hand_and_the_exports():
    study = Study(direction="maximize", seed=3)
    for _ in range(4):
        trial = study.ask()
        kind = trial.suggest_categorical("kind", ["a", "b"])
        value = trial.suggest_float("a_x", 0, 1) if kind == "a" else trial.suggest_int("b_n", 1, 3)
        study.tell(trial, value)
    rows = list(csv.DictReader(io.StringIO(study.to_csv())))
    assert [k for k in rows[0] if k.startswith("params_")] == [f"params_{n}" for n in study.space.names]
    for row, trial in zip(rows, study.trials):
        for name in study.space.names:
            assert (row[f"params_{name}"] == "") == (name not in trial.params)  # an empty cell: not suggested
    records = json.loads(study.to_json())
    assert [set(r["params"]) for r in records] == [set(t.params) for t in study.trials]


def test_a_define_by_run_study_is_stored_and_resumed(tmp_path):
    path = tmp_path / "dbr.db"
    first = Study(storage=path, seed=5).optimize(branching, n_trials=6, progress=False)
    names, stored = first.space.names, [t.params for t in first.trials]
    first.close()
    again = Study.load(path)
    assert again.space.define_by_run and again.space.names == names
    assert [t.params for t in again.trials] == stored
    again.optimize(branching, n_trials=4, progress=False)
    assert len(again.trials) == 10 and all(t.state is TrialState.COMPLETE for t in again.trials)
    with pytest.raises(ValueError, match="holds a define-by-run study: open it without a space"):
        Study({"lr": Real(1e-4, 1e-1, log=True)}, storage=path)
    declared = tmp_path / "declared.db"
    Study({"lr": Real(1e-4, 1e-1, log=True)}, storage=declared).close()
    with pytest.raises(ValueError, match="holds a study over a declared space"):
        Study(Space.empty_define_by_run(), storage=declared)


def test_studies_sharing_one_file_grow_one_space(tmp_path):
    path = tmp_path / "shared.db"
    a = Study(storage=path, seed=0)
    b = Study.load(path)
    a.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2, progress=False)
    b.optimize(lambda trial: trial.suggest_float("x", 0, 1) + trial.suggest_int("n", 0, 3), n_trials=2,
               progress=False)
    a.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1, progress=False)
    assert a.space.names == b.space.names == ("x", "n")  # a read the name that b added
    assert Study.load(path).space.names == ("x", "n")
    b.optimize(lambda trial: trial.suggest_float("n", 0, 3), n_trials=1, progress=False)
    assert "'n' is suggested as Real(0.0, 3.0), but the study has it as Integer(0, 3)" in b.trials[-1].error


def test_trials_in_other_processes_bring_their_suggestions_back():
    study = Study(seed=0).optimize(branching, n_trials=6, n_jobs=2, backend="processes", progress=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert {"optimizer", "lr"} <= set(study.space.names)
    for trial in study.trials:
        assert {"optimizer", "lr"} <= set(trial.params)


def test_threads_share_the_growing_space():
    study = Study(searcher=RandomSearch(), seed=0).optimize(branching, n_trials=12, n_jobs=3, progress=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert set(study.space.names) == {"optimizer", "lr", "momentum", "warmup"}


def test_a_declared_study_answers_suggest_with_its_own_values():
    space = {"kind": Categorical({"a": {"x": Real(0.0, 1.0)}, "b": {"n": Integer(1, 3)}})}
    seen = []

    def objective(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        value = trial.suggest_float("x", 0.0, 1.0) if kind == "a" else trial.suggest_int("n", 1, 3)
        seen.append((dict(trial.params), kind, value))
        return float(value)

    study = Study(space, seed=0).optimize(objective, n_trials=8, progress=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    for params, kind, value in seen:
        assert params["kind"] == kind and value == params["x" if kind == "a" else "n"]
    trial = study.ask()
    with pytest.raises(ValueError, match=r"'x' is suggested as Real\(0.0, 2.0\), but the study's space has it as "
                                         r"Real\(0.0, 1.0\)"):
        trial.suggest_float("x", 0.0, 2.0)
    with pytest.raises(ValueError, match=r"'y' is not in the study's space \['kind', 'x', 'n'\]; a declared space "
                                         r"does not grow"):
        trial.suggest_float("y", 0.0, 1.0)
    other = "n" if trial["kind"] == "a" else "x"
    with pytest.raises(KeyError, match=rf"'{other}' is not active in trial 8: it exists only when kind is one of"):
        trial[other]


def test_define_by_run_misuse_fails_with_clear_messages():
    with pytest.raises(RuntimeError, match="trial 0 was not asked from a study"):
        Trial(0, {}).suggest_float("x", 0, 1)
    study = Study(seed=0)
    trial = study.ask()
    with pytest.raises(KeyError, match=r"trial 0 has no 'x': ask for it first with trial.suggest_float\('x'"):
        trial["x"]
    with pytest.raises(TypeError, match=r"takes None, bool, int, float and str choices; got \[1\] of type list"):
        trial.suggest_categorical("c", [[1], [2]])
    with pytest.raises(TypeError, match="a parameter name must be a non-empty string"):
        trial.suggest_float("", 0, 1)
    with pytest.raises(ValueError, match="Real needs `low` < `high`"):
        trial.suggest_float("x", 1, 0)
    with pytest.raises(ValueError, match="pass_trial=False gives the objective a dict of params"):
        study.optimize(lambda p: 0.0, n_trials=1, pass_trial=False)
    assert np.isfinite(trial.suggest_float("x", 0, 1))


def test_an_objective_written_for_optuna_runs_unchanged_with_the_same_distributions():
    optuna = pytest.importorskip("optuna")

    def objective(trial):  # Optuna's documented style: a branch per model, each with its own names
        model = trial.suggest_categorical("model", ["svc", "forest"])
        if model == "svc":
            return math.log10(trial.suggest_float("svc_c", 1e-10, 1e10, log=True)) ** 2
        depth = trial.suggest_int("rf_max_depth", 2, 32, log=True)
        return (depth - 8) ** 2 / 100 + trial.suggest_float("ratio", 0.0, 1.0, step=0.1) + trial.suggest_int(
            "n", 1, 9, step=2)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours = Study(seed=0).optimize(objective, n_trials=40, progress=False)
    theirs = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    theirs.optimize(objective, n_trials=40)
    assert {frozenset(t.params) for t in ours.trials} == {frozenset(t.params) for t in theirs.trials}
    distributions = {name: d for t in theirs.trials for name, d in t.distributions.items()}
    for name, dim in ours.space.items():
        theirs_dim = distributions[name]
        if isinstance(dim, Categorical):
            assert list(dim.choices) == list(theirs_dim.choices)
        else:
            assert (dim.low, dim.high, dim.log, dim.step) == (theirs_dim.low, theirs_dim.high, theirs_dim.log,
                                                              theirs_dim.step)
    for trials in (ours.trials, theirs.trials):
        for t in trials:
            if "ratio" in t.params:
                assert round(t.params["ratio"], 12) in {k / 10 for k in range(11)} and t.params["n"] % 2 == 1
