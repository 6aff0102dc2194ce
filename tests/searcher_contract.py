"""The contract every searcher passes (see tunelab/searchers/base.py). Use it in a test file as

    from searcher_contract import SearcherContract

    class TestMySearcher(SearcherContract):
        def make_searcher(self):
            return MySearcher(n_initial=4)

and override `make_space` (e.g. for a searcher of real vectors only) or the class flags below.
`ConditionalSearcherContract` runs the same contract on a conditional space (a choice whose branches
have their own dimensions, one of them nested) and checks define-by-run studies.
"""

import math

import numpy as np
import pytest

from tunelab.optimizers.params import clone
from tunelab.searchers.base import History
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.study import Study
from tunelab.searchers.trial import Trial, TrialState


class SearcherContract:
    n_trials = 12
    stochastic = True  # another seed gives other points
    batch_invariant = False  # the set of trials for a seed does not depend on how many are asked at once

    def make_searcher(self):
        raise NotImplementedError

    def make_space(self):
        return Space({"x": Real(-2.0, 3.0), "lr": Real(1e-4, 1.0, log=True), "k": Integer(1, 4),
                      "kind": Categorical(["a", "b", "c"])})

    def objective(self, space):
        """A smooth loss of the encoded point with its minimum inside the cube."""
        target = np.linspace(0.2, 0.7, len(space))
        return lambda params: float(np.sum((space.encode(params) - target) ** 2))

    def run(self, seed=0, n_trials=None, direction="minimize", storage=None, **optimize_kwargs):
        space = self.make_space()
        study = Study(space, self.make_searcher(), direction=direction, storage=storage, seed=seed)
        f = self.objective(space)
        objective = f if direction == "minimize" else (lambda params: -f(params))
        return study.optimize(objective, n_trials=n_trials or self.n_trials, progress=False, **optimize_kwargs)

    # ---- the contract ----------------------------------------------------------------------------

    def test_points_lie_inside_the_space(self):
        study = self.run()
        space = study.space
        assert len(study.trials) == self.n_trials
        for trial in study.trials:
            assert trial.state is TrialState.COMPLETE
            assert set(trial.params) == set(space.active_names(trial.params))  # exactly the active dimensions
            for name, value in trial.params.items():
                assert space[name].contains(value), (name, value, space[name])
            space.validate(trial.params)

    def test_same_seed_gives_the_same_trials(self):
        first = [t.params for t in self.run(seed=3).trials]
        assert first == [t.params for t in self.run(seed=3).trials]
        if self.stochastic:
            assert first != [t.params for t in self.run(seed=4).trials]

    def test_ask_n_returns_distinct_points_apart_from_the_pending_ones(self):
        space = Space({"x": Real(0.0, 1.0), "y": Real(-5.0, 5.0), "z": Real(1e-3, 10.0, log=True)})
        searcher = self.make_searcher()
        searcher.setup(space, 11)
        first = searcher.ask(5, History(space, []))
        assert 1 <= len(first) <= 5
        running = [Trial(i, params) for i, params in enumerate(first)]
        second = searcher.ask(5, History(space, running))
        assert 1 <= len(second) <= 5
        keys = [tuple(p.values()) for p in first + second]
        assert len(set(keys)) == len(keys)
        for params in first + second:
            space.validate(params)

    def test_failures_are_recorded_and_the_search_goes_on(self):
        space = self.make_space()
        f = self.objective(space)
        calls = []

        def flaky(params):
            calls.append(params)
            if len(calls) % 3 == 1:
                raise ArithmeticError("diverged")
            if len(calls) % 3 == 2:
                return float("nan")
            return f(params)

        study = Study(space, self.make_searcher(), seed=0).optimize(flaky, n_trials=self.n_trials, progress=False)
        assert len(study.trials) == self.n_trials
        errors = [t.error or "" for t in study.trials if t.state is TrialState.FAILED]
        calls = range(1, self.n_trials + 1)
        assert sum("ArithmeticError: diverged" in e for e in errors) == sum(i % 3 == 1 for i in calls)
        assert sum("returned nan" in e for e in errors) == sum(i % 3 == 2 for i in calls)
        assert len(errors) == sum(i % 3 != 0 for i in calls)
        assert study.best_trial.state is TrialState.COMPLETE

    def test_state_is_rebuilt_from_the_history_on_resume(self, tmp_path):
        """A run of 12 stopped after 6, then a new process (a fresh Study on the same file) runs the other 6:
        the same 12 trials as one uninterrupted run."""
        straight = [t.params for t in self.run(seed=5, storage=tmp_path / "a.db").trials]
        half = self.n_trials // 2
        stop = lambda study, trial: study.stop() if len(study) >= half else None  # noqa: E731
        self.run(seed=5, storage=tmp_path / "b.db", callbacks=[stop]).close()
        resumed = Study.load(tmp_path / "b.db", searcher=self.make_searcher())
        resumed.optimize(self.objective(resumed.space), n_trials=self.n_trials - half, progress=False)
        assert [t.params for t in resumed.trials] == straight

    def test_maximize_is_minimize_of_the_negated_objective(self):
        low = [t.params for t in self.run(seed=2).trials]
        assert low == [t.params for t in self.run(seed=2, direction="maximize").trials]

    def test_the_study_works_on_a_clone(self):
        searcher = self.make_searcher()
        params = searcher.get_params(deep=False)
        study = Study(self.make_space(), searcher, seed=0)
        assert study.searcher is not searcher and searcher.space is None
        assert clone(searcher).get_params(deep=False) == params == study.searcher.get_params(deep=False)

    def test_ask_tell_by_hand_equals_optimize(self):
        space = self.make_space()
        f = self.objective(space)
        stop_after = lambda study, trial: study.stop() if len(study) >= self.n_trials else None  # noqa: E731
        looped = Study(space, self.make_searcher(), seed=1).optimize(f, callbacks=[stop_after], progress=False)
        by_hand = Study(space, self.make_searcher(), seed=1)
        for _ in range(self.n_trials):
            trial = by_hand.ask()
            by_hand.tell(trial, f(trial.params))
        assert [t.params for t in by_hand.trials] == [t.params for t in looped.trials]

    def test_parallel_trials_are_the_serial_ones(self):
        if not self.batch_invariant:
            pytest.skip("this searcher's trials may depend on the number asked at once")
        serial = [t.params for t in self.run(seed=8).trials]
        threaded = [t.params for t in self.run(seed=8, n_jobs=3).trials]
        key = lambda p: repr(sorted(p.items()))  # noqa: E731
        assert sorted(map(key, threaded)) == sorted(map(key, serial))


def define_by_run_objective(trial):
    """The conditional space of ConditionalSearcherContract, asked for by name; minimum 0 at x = 0.5,
    kind = "a", lr = 0.01, k = 2."""
    x = trial.suggest_float("x", -2.0, 3.0)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    loss = (x - 0.5) ** 2
    if kind == "c":
        return loss + 1.0
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    loss += (math.log10(lr) + 2.0) ** 2 / 4.0
    if kind == "a":
        return loss + 0.1 * abs(trial.suggest_int("k", 1, 4) - 2)
    if trial.suggest_categorical("depth", ["shallow", "deep"]) == "deep":
        loss += 0.1 * trial.suggest_int("width", 1, 3)
    return loss + 0.5


class ConditionalSearcherContract(SearcherContract):
    """The contract on a conditional space, and in define-by-run studies (`define_by_run = False` for a
    searcher that refuses them)."""

    define_by_run = True

    def make_space(self):
        return Space({
            "x": Real(-2.0, 3.0),
            "kind": Categorical({
                "a": {"lr": Real(1e-4, 1.0, log=True), "k": Integer(1, 4)},
                "b": {"lr": Real(1e-4, 1.0, log=True),
                      "depth": Categorical({"shallow": None, "deep": {"width": Integer(1, 3)}})},
                "c": None,
            }),
        })

    def test_several_branches_are_tried_with_their_own_dimensions(self):
        study = self.run(seed=1)
        kinds = {t.params["kind"] for t in study.trials}
        assert len(kinds) >= 2
        for trial in study.trials:
            expected = {"x", "kind"} | {"a": {"lr", "k"}, "b": {"lr", "depth"}, "c": set()}[trial.params["kind"]]
            if trial.params.get("depth") == "deep":
                expected.add("width")
            assert set(trial.params) == expected

    def run_define_by_run(self, seed=0, n_trials=None, storage=None, **optimize_kwargs):
        study = Study(None, self.make_searcher(), storage=storage, seed=seed)
        return study.optimize(define_by_run_objective, n_trials=n_trials or self.n_trials, progress=False,
                              **optimize_kwargs)

    def test_define_by_run_trials_are_seeded_and_hold_what_they_suggested(self):
        if not self.define_by_run:
            with pytest.raises(ValueError, match="define"):
                self.run_define_by_run()
            return
        study = self.run_define_by_run(seed=3)
        assert len(study.trials) == self.n_trials
        assert all(t.state is TrialState.COMPLETE for t in study.trials)
        reference = self.make_space()
        for trial in study.trials:
            reference.validate(trial.params)  # the names suggested are the active ones of the declared tree
        assert set(study.space.names) <= set(reference.names) and study.space.define_by_run
        first = [t.params for t in study.trials]
        assert first == [t.params for t in self.run_define_by_run(seed=3).trials]
        if self.stochastic:
            assert first != [t.params for t in self.run_define_by_run(seed=4).trials]

    def test_define_by_run_study_resumes_from_its_file(self, tmp_path):
        if not self.define_by_run:
            pytest.skip("this searcher refuses define-by-run studies")
        straight = [t.params for t in self.run_define_by_run(seed=5, storage=tmp_path / "a.db").trials]
        half = self.n_trials // 2
        stop = lambda study, trial: study.stop() if len(study) >= half else None  # noqa: E731
        self.run_define_by_run(seed=5, storage=tmp_path / "b.db", callbacks=[stop]).close()
        resumed = Study.load(tmp_path / "b.db", searcher=self.make_searcher())
        resumed.optimize(define_by_run_objective, n_trials=self.n_trials - half, progress=False)
        assert [t.params for t in resumed.trials] == straight


class MultiObjectiveSearcherContract(SearcherContract):
    """The contract in a study of two objectives (a maximised score and a minimised cost, of which the
    optima differ), for searchers with `multi_objective = True`."""

    directions = ["maximize", "minimize"]

    def objective(self, space):
        """(score, cost): -|u - a|^2 and |u - b|^2 of the encoded point, a != b, so a front between them."""
        a, b = np.linspace(0.2, 0.7, len(space)), np.linspace(0.8, 0.3, len(space))
        return lambda params: (-float(np.sum((space.encode(params) - a) ** 2)),
                               float(np.sum((space.encode(params) - b) ** 2)))

    def run(self, seed=0, n_trials=None, direction="minimize", storage=None, **optimize_kwargs):
        """direction="maximize" flips every direction and negates every value (the same losses)."""
        space = self.make_space()
        flip = direction == "maximize"
        directions = [{"minimize": "maximize", "maximize": "minimize"}[d] for d in self.directions] if flip \
            else self.directions
        study = Study(space, self.make_searcher(), directions=directions, storage=storage, seed=seed)
        f = self.objective(space)
        objective = f if not flip else (lambda params: tuple(-v for v in f(params)))
        return study.optimize(objective, n_trials=n_trials or self.n_trials, progress=False, **optimize_kwargs)

    def test_failures_are_recorded_and_the_search_goes_on(self):
        space = self.make_space()
        f = self.objective(space)
        calls = []

        def flaky(params):
            calls.append(params)
            if len(calls) % 3 == 1:
                raise ArithmeticError("diverged")
            if len(calls) % 3 == 2:
                return (f(params)[0], float("nan"))  # one bad component fails the trial
            return f(params)

        study = Study(space, self.make_searcher(), directions=self.directions, seed=0)
        study.optimize(flaky, n_trials=self.n_trials, progress=False)
        errors = [t.error or "" for t in study.trials if t.state is TrialState.FAILED]
        calls = range(1, self.n_trials + 1)
        assert sum("ArithmeticError: diverged" in e for e in errors) == sum(i % 3 == 1 for i in calls)
        assert sum("component 1 of 2" in e and "returned nan" in e for e in errors) == sum(i % 3 == 2 for i in calls)
        assert all(t.state is TrialState.COMPLETE for t in study.best_trials)

    def test_ask_tell_by_hand_equals_optimize(self):
        space = self.make_space()
        f = self.objective(space)
        looped = Study(space, self.make_searcher(), directions=self.directions, seed=1)
        looped.optimize(f, n_trials=self.n_trials, progress=False)
        by_hand = Study(space, self.make_searcher(), directions=self.directions, seed=1)
        for _ in range(self.n_trials):
            trial = by_hand.ask()
            by_hand.tell(trial, f(trial.params))
        assert [t.params for t in by_hand.trials] == [t.params for t in looped.trials]
        assert [t.objective_values for t in by_hand.trials] == [t.objective_values for t in looped.trials]

    def test_best_trials_are_the_non_dominated_ones(self):
        study = self.run(seed=6)
        losses = {t.number: (-t.objective_values[0], t.objective_values[1]) for t in study.trials}
        front = {t.number for t in study.best_trials}
        for number, f in losses.items():
            dominated = any(all(g_i <= f_i for g_i, f_i in zip(g, f)) and g != f for g in losses.values())
            assert (number not in front) == dominated
