"""Successive halving, Hyperband and ASHA: who survives each rung, how many epochs are trained, what is recorded."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.multifidelity.halving import ASHA, Hyperband, SuccessiveHalving
from tunelab.searchers.space import Real
from tunelab.searchers.study import Study
from tunelab.searchers.trial import TrialPruned, TrialState


class Recorder:
    """A resumable objective over one real `x`: loss(x, e) = (x - 0.3)^2 + c(x)/e after e epochs, so the
    ranking changes between rungs; the state is (epochs so far, x). Logs every call."""

    def __init__(self, fail_above=None, sign=1.0):
        self.calls = []  # (trial number, epochs asked, epochs before)
        self.fail_above, self.sign = fail_above, sign

    def __call__(self, trial, state, epochs):
        x = trial.params["x"]
        before = 0 if state is None else state[0]
        if state is not None:
            assert state[1] == x  # training continues the same configuration
        self.calls.append((trial.number, epochs, before))
        if self.fail_above is not None and x > self.fail_above:
            raise FloatingPointError("diverged")
        e = before + epochs
        loss = (x - 0.3) ** 2 + 0.05 * math.cos(40 * x) / e
        return self.sign * loss, (e, x)

    def epochs(self):
        return sum(e for _, e, _ in self.calls)


def study(seed=0, direction="minimize", searcher=None):
    return Study({"x": Real(0.0, 1.0)}, searcher, direction=direction, seed=seed)


def rung_members(trials, rung):
    return {t.number: t.intermediate_values[rung] for t in trials if rung in t.intermediate_values}


# ---- rungs --------------------------------------------------------------------------------------

def test_rungs_are_powers_of_eta_below_max_resource():
    assert SuccessiveHalving(1, 27, eta=3).rungs() == [1, 3, 9, 27]
    assert SuccessiveHalving(1, 100, eta=3).rungs() == [1, 4, 11, 33, 100]
    assert SuccessiveHalving(2, 16, eta=2).rungs() == [2, 4, 8, 16]
    assert SuccessiveHalving(5, 5).rungs() == [5]


@given(r=st.integers(1, 20), ratio=st.integers(1, 400), eta=st.sampled_from([2, 3, 4, 2.5]))
@settings(max_examples=30, deadline=None)
def test_rungs_increase_from_min_to_max_resource(r, ratio, eta):
    R = r * ratio
    rungs = SuccessiveHalving(r, R, eta).rungs()
    assert rungs[-1] == R and rungs[0] >= r
    assert all(a < b for a, b in zip(rungs, rungs[1:]))
    assert len(rungs) == 1 + math.floor(math.log(R / r) / math.log(eta) + 1e-9) or len(rungs) < 4


# ---- synchronous successive halving --------------------------------------------------------------

@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_successive_halving_keeps_the_top_third_at_each_rung(direction):
    sign = 1.0 if direction == "minimize" else -1.0
    s = study(direction=direction)
    sh = SuccessiveHalving(1, 27, eta=3)
    sh.optimize(s, Recorder(sign=sign))
    trials = s.trials
    assert len(trials) == 27
    rungs = sh.rungs()
    for k, r in enumerate(rungs[:-1]):
        members = rung_members(trials, r)
        ranked = sorted(members, key=lambda n: (sign * members[n], n))
        assert set(rung_members(trials, rungs[k + 1])) == set(ranked[:len(members) // 3])
    states = [t.state for t in trials]
    assert states.count(TrialState.COMPLETE) == 1 and states.count(TrialState.PRUNED) == 26
    for t in trials:  # a pruned trial keeps the value of the last rung it reached
        assert t.value == t.intermediate_values[max(t.intermediate_values)]
        assert t.attrs["epochs"] == max(t.intermediate_values)


@given(r=st.integers(1, 4), ratio=st.integers(1, 30), eta=st.sampled_from([2, 3, 4]),
       n_trials=st.one_of(st.none(), st.integers(1, 30)), hyperband=st.booleans())
@settings(max_examples=30, deadline=None)
def test_successive_halving_and_hyperband_train_exactly_the_stated_resource(r, ratio, eta, n_trials, hyperband):
    recorder = Recorder()
    pruner = (Hyperband if hyperband else SuccessiveHalving)(r, r * ratio, eta)
    s = study()
    pruner.optimize(s, recorder, n_trials=n_trials)
    assert recorder.epochs() == pruner.total_resource(n_trials) == pruner.total_epochs_
    if n_trials is not None:
        assert len(s.trials) == n_trials


def test_a_pruned_trial_is_never_trained_again_and_training_continues():
    recorder = Recorder()
    s = study()
    Hyperband(1, 27, eta=3).optimize(s, recorder)
    finished_at = {t.number: max(t.intermediate_values) for t in s.trials}
    trained = {}
    for number, epochs, before in recorder.calls:
        assert before == trained.get(number, 0)  # continues from where it stopped, never from zero again
        trained[number] = before + epochs
    assert trained == finished_at  # nobody trained past the rung where it was stopped


def test_hyperband_runs_each_bracket_with_its_stated_budget():
    hb = Hyperband(1, 27, eta=3)
    assert [(n, rungs[0]) for n, rungs in hb.brackets()] == [(27, 1), (12, 3), (6, 9), (4, 27)]
    recorder = Recorder()
    s = study()
    hb.optimize(s, recorder)
    assert len(s.trials) == 27 + 12 + 6 + 4
    by_bracket = [27 * 1 + 9 * 2 + 3 * 6 + 1 * 18, 12 * 3 + 4 * 6 + 1 * 18, 6 * 9 + 2 * 18, 4 * 27]
    assert recorder.epochs() == hb.total_resource() == sum(by_bracket)
    complete = [t for t in s.trials if t.state is TrialState.COMPLETE]
    assert len(complete) == 1 + 1 + 2 + 4 and all(t.attrs["epochs"] == 27 for t in complete)


def test_failed_and_pruned_trials_are_recorded_and_the_search_goes_on():
    recorder = Recorder(fail_above=0.5)
    s = study(seed=1)
    sh = SuccessiveHalving(1, 9, eta=3)
    sh.optimize(s, recorder)
    failed = [t for t in s.trials if t.state is TrialState.FAILED]
    assert failed and all(t.params["x"] > 0.5 and "diverged" in t.error for t in failed)
    assert all(n not in {t.number for t in failed} for n, e, before in recorder.calls if before > 0)
    assert sum(t.state is TrialState.COMPLETE for t in s.trials) == 1
    assert all(t.params["x"] <= 0.5 for t in s.trials if t.state is not TrialState.FAILED)


def test_configurations_come_from_the_study_searcher():
    s = study(searcher=GridSearch(n_points=9))
    SuccessiveHalving(1, 9, eta=3).optimize(s, Recorder())
    assert sorted(t.params["x"] for t in s.trials) == pytest.approx(np.linspace(0, 1, 9))


@pytest.mark.parametrize("make", [lambda: SuccessiveHalving(1, 27), lambda: Hyperband(1, 9),
                                  lambda: ASHA(1, 27)])
def test_same_seed_same_trials(make):
    def run(seed):
        s = study(seed=seed)
        make().optimize(s, Recorder(), n_trials=20)
        return [(t.params["x"], t.state, t.value) for t in s.trials]
    assert run(5) == run(5)
    assert run(5) != run(6)


def test_parallel_rungs_give_the_serial_result():
    def run(n_jobs):
        s = study(seed=2)
        SuccessiveHalving(1, 27).optimize(s, Recorder(), n_jobs=n_jobs)
        return [(t.params["x"], t.state, t.value) for t in s.trials]
    assert run(3) == run(1) == run(-1)


def test_the_loops_leave_their_stop_reason():
    s = study()
    SuccessiveHalving(1, 9).optimize(s, Recorder(), n_trials=9)
    assert s.stop_reason == "n_trials"
    s = study(searcher=GridSearch(n_points=4))
    SuccessiveHalving(1, 9).optimize(s, Recorder(), n_trials=9)
    assert s.stop_reason == "exhausted" and len(s.trials) == 4


@pytest.mark.parametrize("make", [lambda: ASHA(1, 9), lambda: Hyperband(1, 9)])
def test_study_stop_starts_no_new_configuration(make):
    s = study()
    recorder = Recorder()

    def objective(trial, state, epochs):
        if trial.number == 3:
            s.stop()
        return recorder(trial, state, epochs)

    make().optimize(s, objective, n_trials=30)
    assert s.stop_reason == "stopped" and len(s.trials) < 30
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in s.trials)


def test_an_interrupt_records_the_trials_in_training_as_lost():
    s = study()
    recorder = Recorder()

    def objective(trial, state, epochs):
        if len(recorder.calls) == 5:
            raise KeyboardInterrupt
        return recorder(trial, state, epochs)

    with pytest.raises(KeyboardInterrupt):
        SuccessiveHalving(1, 9).optimize(s, objective, n_trials=9)
    assert s.stop_reason == "interrupted" and len(s.trials) == 9
    assert all(t.state is TrialState.FAILED and t.lost and "interrupted" in t.error for t in s.trials)


# ---- ASHA ---------------------------------------------------------------------------------------

def test_asha_promotes_only_from_the_top_of_each_rung():
    recorder = Recorder()
    s = study(seed=3)
    asha = ASHA(1, 9, eta=3)
    asha.optimize(s, recorder, n_trials=30)
    trials = s.trials
    assert len(trials) == 30 and recorder.epochs() == asha.total_epochs_
    rungs = asha.rungs()
    value = {t.number: t.intermediate_values for t in trials}
    seen = {r: {} for r in rungs}  # rung -> trial -> loss, as the serial run saw them
    for number, epochs, before in recorder.calls:  # each promotion picks one of the top m // 3 at that time
        if before > 0:
            members = seen[before]
            ranked = sorted(members, key=lambda n: (members[n], n))
            assert number in ranked[:len(members) // 3]
        seen[before + epochs][number] = value[number][before + epochs]
    for k, r in enumerate(rungs[:-1]):  # at the end nothing promotable is left behind
        members = rung_members(trials, r)
        ranked = sorted(members, key=lambda n: (members[n], n))
        promoted = set(rung_members(trials, rungs[k + 1]))
        assert set(ranked[:len(members) // 3]) <= promoted
    assert {t.state for t in trials} == {TrialState.COMPLETE, TrialState.PRUNED}
    assert all(t.attrs["epochs"] == 9 for t in trials if t.state is TrialState.COMPLETE)


def test_asha_with_threads_trains_every_trial_once_per_rung():
    recorder = Recorder()
    s = study(seed=4)
    ASHA(1, 9).optimize(s, recorder, n_trials=18, n_jobs=3)
    steps = [(n, before) for n, _, before in recorder.calls]
    assert len(steps) == len(set(steps))
    assert all(t.state is not TrialState.RUNNING for t in s.trials)


# ---- the study's pruner hook ----------------------------------------------------------------------

def epoch_objective(trial):
    """Ordinary objective for the hook: trains epoch by epoch, reports, stops when told."""
    x = trial.params["x"]
    loss = None
    for epoch in range(1, 10):
        loss = (x - 0.3) ** 2 + 0.05 * math.cos(40 * x) / epoch
        trial.report(loss, epoch)
        if trial.should_prune():
            raise TrialPruned()
    return loss


@pytest.mark.parametrize("pruner", [SuccessiveHalving(1, 9), ASHA(1, 9), Hyperband(1, 9)])
def test_the_hook_stops_trials_outside_the_top_of_their_rung(pruner):
    s = Study({"x": Real(0.0, 1.0)}, seed=0, pruner=pruner)
    s.optimize(epoch_objective, n_trials=25, progress=False)
    trials = s.trials
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert pruned and any(t.state is TrialState.COMPLETE for t in trials)
    for t in pruned:  # pruned at a rung, ranked outside the top max(1, m // 3) of the trials before it
        last = max(t.intermediate_values)
        assert t.value == t.intermediate_values[last]
        rungs, key = pruner._hook_group(t)
        assert last in rungs[:-1]
        earlier = [o.intermediate_values[last] for o in trials[:t.number]
                   if last in o.intermediate_values and pruner._hook_group(o)[1] == key]
        rank = sum(v < t.value for v in earlier)
        assert rank >= max(1, (len(earlier) + 1) // 3)
    for t in trials:
        if t.state is TrialState.COMPLETE:
            assert max(t.intermediate_values) == 9


# ---- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"min_resource": 0}, "`min_resource` must be >= 1"),
    ({"min_resource": 1.5}, "min_resource"),
    ({"max_resource": 0}, "`max_resource` must be >= 1"),
    ({"min_resource": 9, "max_resource": 3}, "`max_resource` must be >= `min_resource`=9; got 3"),
    ({"eta": 1}, "`eta` must be > 1"),
    ({"eta": "3"}, "eta"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SuccessiveHalving(**kwargs).optimize(study(), Recorder())


def test_bad_arguments_of_optimize_are_named():
    with pytest.raises(ValueError, match="`n_trials` must be >= 1"):
        SuccessiveHalving(1, 9).optimize(study(), Recorder(), n_trials=0)
    with pytest.raises(ValueError, match="`n_trials` must be >= 1"):
        Hyperband(1, 9).optimize(study(), Recorder(), n_trials=0)
    with pytest.raises(ValueError, match="`n_jobs` must be an integer >= 1, or -1 for one per CPU; got 0"):
        SuccessiveHalving(1, 9).optimize(study(), Recorder(), n_jobs=0)
    with pytest.raises(TypeError, match="`n_jobs` must be an integer; got '2'"):
        ASHA(1, 9).optimize(study(), Recorder(), n_jobs="2")
    with pytest.raises(TypeError, match=r"objective\(trial, state, epochs\)"):
        Hyperband(1, 9).optimize(study(), "not callable")
    with pytest.raises(ValueError, match="`n_trials` must be >= 1"):
        ASHA(1, 9).optimize(study(), Recorder(), n_trials=0)


# ---- EpochCV: the resumable objective for estimators trained by epochs ------------------------------

from tunelab.core.base import BaseEstimator, RegressorMixin  # noqa: E402
from tunelab.searchers.multifidelity.epoch_cv import EpochCV  # noqa: E402


class GDRegressor(RegressorMixin, BaseEstimator):
    """Least squares by full-batch gradient descent, one step per epoch; continues with warm_start."""

    def __init__(self, lr=0.1, max_epochs=10, warm_start=False):
        self.lr, self.max_epochs, self.warm_start = lr, max_epochs, warm_start

    def fit(self, X, y):
        if not (self.warm_start and hasattr(self, "coef_")):
            self.coef_, self.n_epochs_ = np.zeros(X.shape[1]), 0
        for _ in range(self.max_epochs):
            self.coef_ = self.coef_ - self.lr * X.T @ (X @ self.coef_ - y) / len(y)
            self.n_epochs_ += 1
        return self

    def predict(self, X):
        return X @ self.coef_


class PartialGDRegressor(GDRegressor):
    def partial_fit(self, X, y, epochs=1):
        saved = self.warm_start, self.max_epochs
        self.warm_start, self.max_epochs = True, epochs
        self.fit(X, y)
        self.warm_start, self.max_epochs = saved
        return self


def regression_data(seed=0, n=90, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("estimator", [GDRegressor(), PartialGDRegressor()])
def test_epoch_cv_continues_each_fold_model(estimator):
    X, y = regression_data()
    objective = EpochCV(estimator, X, y, cv=3)
    s = Study({"lr": Real(0.01, 0.5, log=True)}, direction="maximize", seed=0)
    sh = SuccessiveHalving(1, 9)
    sh.optimize(s, objective)
    best = s.best_trial
    assert best.attrs["epochs"] == 9 and len(best.attrs["split_test_scores"]) == 3
    # the completed trial's score is that of models trained 9 epochs from zero on each fold
    reference = []
    for train, test in objective.splits:
        model = GDRegressor(lr=best.params["lr"], max_epochs=9).fit(X[train], y[train])
        reference.append(model.score(X[test], y[test]))
    assert best.value == pytest.approx(np.mean(reference), rel=1e-12)


def test_epoch_cv_refuses_the_resource_in_the_space_and_unknown_resources():
    X, y = regression_data()
    with pytest.raises(ValueError, match="`resource` must name a parameter of GDRegressor"):
        EpochCV(GDRegressor(), X, y, resource="n_estimators")
    s = Study({"max_epochs": Real(1.0, 5.0)}, direction="maximize", seed=0)
    SuccessiveHalving(1, 3).optimize(s, EpochCV(GDRegressor(), X, y, cv=3))
    assert all(t.state is TrialState.FAILED and "leave it out of the space" in t.error for t in s.trials)


# ---- SearchCV(..., resource="max_epochs") ---------------------------------------------------------

from tunelab.searchers.search_cv import SearchCV  # noqa: E402


@pytest.mark.parametrize("pruner", [None, SuccessiveHalving(1, 9), ASHA(1, 9)])
def test_search_cv_trains_by_epochs_with_a_pruner(pruner):
    X, y = regression_data(1)
    search = SearchCV(PartialGDRegressor(max_epochs=27), {"lr": Real(0.005, 0.5, log=True)}, cv=3,
                      random_state=0, resource="max_epochs", pruner=pruner)
    search.fit(X, y)
    used = search.pruner_
    assert used.max_resource == (27 if pruner is None else 9)
    states = list(search.cv_results_["state"])
    assert "pruned" in states and "complete" in states
    assert search.total_epochs_ == 3 * used.total_epochs_
    if not isinstance(used, ASHA):
        assert used.total_epochs_ == used.total_resource()
    best = search.study_.best_trial
    assert search.best_score_ == best.value and best.attrs["epochs"] == used.max_resource
    assert search.best_estimator_.max_epochs == used.max_resource and search.best_estimator_.n_epochs_ == used.max_resource


def test_search_cv_names_a_wrong_pruner():
    X, y = regression_data(1)
    search = SearchCV(PartialGDRegressor(), {"lr": Real(0.005, 0.5, log=True)}, cv=3, resource="max_epochs",
                      pruner="hyperband")
    with pytest.raises(TypeError, match="`pruner` must be SuccessiveHalving, Hyperband or ASHA"):
        search.fit(X, y)


def test_epoch_cv_continues_tunelab_mlps_without_retraining():
    from tunelab.core.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    objective = EpochCV(MLPClassifier(hidden_layer_sizes=(6,), random_state=0), X, y, cv=3)

    class Probe:
        params, attrs = {"alpha": 1e-3}, {}

        def set_attr(self, key, value):
            self.attrs[key] = value
    _, state = objective(Probe(), None, 2)
    first = [model.loss_curve_[:] for model in state]
    _, state = objective(Probe(), state, 3)
    for model, curve in zip(state, first):
        assert model.n_epochs_ == 5 and model.loss_curve_[:2] == curve  # the first 2 epochs were not redone
    fresh = [MLPClassifier(hidden_layer_sizes=(6,), random_state=0, alpha=1e-3).partial_fit(
        X[train], y[train], classes=["no", "yes"], epochs=5) for train, _ in objective.splits]
    for model, reference in zip(state, fresh):  # 2 + 3 epochs continued = 5 epochs at once
        np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-12)


def test_searchcv_says_when_too_few_trials_reach_the_last_rung():
    from tunelab.core import LogisticRegression, make_classification
    from tunelab.optimizers import SGD
    from tunelab.searchers import ASHA, Real, SearchCV

    X, y = make_classification(n_samples=90, n_features=4, random_state=0)
    model = LogisticRegression(optimizer=SGD(lr=0.05), max_epochs=9, random_state=0)
    search = SearchCV(model, {"alpha": Real(1e-4, 1.0, log=True)}, n_trials=4, cv=3, resource="max_epochs",
                      pruner=ASHA(1, 9), random_state=0)
    with pytest.raises(ValueError, match="no trial reached max_epochs=9.*give n_trials >= 9"):
        search.fit(X, y)
