"""Studies: ask/tell, failed and pruned trials, interrupts, timeouts, callbacks, trial objectives, export."""

import csv
import io
import json
import math
import time
import warnings
from collections.abc import Mapping

import pytest

from tunelab.searchers.base import Searcher
from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.progress import ProgressBar
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Integer, Real, Space
from tunelab.searchers.study import Study, maximize, minimize
from tunelab.searchers.trial import Outcome, Trial, TrialPruned, TrialState, wants_trial

SPACE = {"x": Real(-3.0, 3.0), "n": Integer(0, 4)}


def quadratic(params):
    return (params["x"] - 1.0) ** 2 + params["n"]


def test_ask_tell_records_numbers_values_states_and_times():
    study = Study(SPACE, seed=0)
    first, second, third, fourth = (study.ask() for _ in range(4))
    assert [first.number, second.number, third.number, fourth.number] == [0, 1, 2, 3]
    assert all(t.state is TrialState.RUNNING for t in study.trials)
    before = time.time()
    study.tell(first, 2.5)
    study.tell(1, error=ZeroDivisionError("division by zero"))
    study.tell(third, float("inf"))
    study.tell(fourth, 0.7, state="pruned")
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAILED, TrialState.FAILED,
                                         TrialState.PRUNED]
    assert trials[0].value == 2.5 and trials[3].value == 0.7
    assert trials[1].error == "ZeroDivisionError: division by zero"
    assert "returned inf" in trials[2].error and trials[2].value is None
    assert trials[0].start_time <= before <= trials[0].end_time and trials[0].duration >= 0
    assert study.best_trial is trials[0] and study.best_value == 2.5 and study.best_params == trials[0].params
    with pytest.raises(ValueError, match="trial 0 is already complete; each trial is told once"):
        study.tell(0, 1.0)
    with pytest.raises(ValueError, match="no trial number 9"):
        study.tell(9, 1.0)
    with pytest.raises(TypeError, match="`trial` must be a Trial or a trial number"):
        study.tell("0", 1.0)


def test_best_trial_follows_the_direction():
    low = minimize(quadratic, SPACE, n_trials=30, seed=1, progress=False)
    high = maximize(quadratic, SPACE, n_trials=30, seed=1, progress=False)
    values = [t.value for t in low.trials]
    assert low.best_value == min(values) and high.best_value == max(values)
    assert low.direction == "minimize" and high.direction == "maximize"
    with pytest.raises(ValueError, match=r"no trial is complete yet \(1 trials, 1 failed; first error: boom"):
        study = Study(SPACE)
        study.tell(study.ask(), error="boom")
        study.best_trial


def test_failures_nan_and_bad_returns_are_failed_trials_and_the_search_goes_on():
    returns = iter([1.0, float("nan"), None, "text", -float("inf"), 3.0])

    def objective(params):
        value = next(returns)
        if value == 3.0:
            raise RuntimeError("fit diverged")
        return value

    study = minimize(objective, SPACE, n_trials=6, progress=False)
    states = [t.state.value for t in study.trials]
    assert states == ["complete", "failed", "failed", "failed", "failed", "failed"]
    errors = [t.error for t in study.trials[1:]]
    assert "returned nan" in errors[0] and "must return a real number; got None" in errors[1]
    assert "got 'text'" in errors[2] and "returned -inf" in errors[3]
    assert errors[4] == "RuntimeError: fit diverged"


def test_catch_false_reraises_after_recording_and_a_tuple_catches_only_those():
    def objective(params):
        raise ZeroDivisionError("bad")

    study = Study(SPACE)
    with pytest.raises(ZeroDivisionError, match="bad"):
        study.optimize(objective, n_trials=5, catch=False, progress=False)
    assert [t.state for t in study.trials] == [TrialState.FAILED]
    with pytest.raises(ZeroDivisionError):
        study.optimize(objective, n_trials=5, catch=(ValueError,), progress=False)
    with pytest.warns(RuntimeWarning, match="all 2 trials of this optimize call failed"):
        study.optimize(objective, n_trials=2, catch=(ArithmeticError,), progress=False)
    assert len(study.trials) == 4
    with pytest.warns(RuntimeWarning, match="the one trial of this optimize call failed; the first, trial 4"):
        study.optimize(lambda p: float("nan"), n_trials=1, catch=False, progress=False)  # NaN is not an exception
    assert study.trials[-1].state is TrialState.FAILED


def test_an_optimize_call_whose_every_trial_failed_warns_with_the_first_error():
    def failing(params):
        raise ValueError(f"bad x={params['x']:.3f}")

    study = Study(SPACE, seed=0)
    with pytest.warns(RuntimeWarning, match=r"all 4 trials of this optimize call failed; the first, trial 0, "
                                            r"with: ValueError: bad x=") as record:
        study.optimize(failing, n_trials=4, progress=False)
    assert len(record) == 1 and record[0].filename == __file__  # points at the optimize call
    assert study.trials[0].error in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(lambda p: quadratic(p) if p["n"] == 0 else float("nan"), n_trials=20, progress=False)
        assert any(t.state is TrialState.COMPLETE for t in study.trials[4:])  # one success: no warning
        study.optimize(failing, n_trials=0, progress=False)  # nothing ran: nothing to say
    with pytest.warns(RuntimeWarning, match=r"all 3 trials .* the first, trial 24, with: .*returned nan"):
        study.optimize(lambda p: float("nan"), n_trials=3, n_jobs=2, progress=False)


def test_keyboard_interrupt_ends_optimize_cleanly_keeping_finished_trials():
    calls = []

    def objective(params):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return quadratic(params)

    study = Study(SPACE, seed=0).optimize(objective, n_trials=10, progress=False)
    assert study.stop_reason == "interrupted"
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3 + [TrialState.FAILED]
    assert trials[3].lost and "interrupted" in trials[3].error
    study.optimize(quadratic, n_trials=2, progress=False)  # the study goes on, numbering continues
    assert [t.number for t in study.trials] == list(range(6)) and study.stop_reason == "n_trials"


def test_timeout_is_honoured_between_trials():
    start = time.time()
    study = Study(SPACE).optimize(lambda p: time.sleep(0.03) or 0.0, timeout=0.2, progress=False)
    assert study.stop_reason == "timeout"
    assert 3 <= len(study.trials) <= 8
    assert all(t.start_time < start + 0.2 + 0.05 for t in study.trials)  # no trial starts after the deadline
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_callbacks_see_each_finished_trial_and_can_stop_the_study():
    seen = []

    def callback(study, trial):
        seen.append((trial.number, trial.state))
        if trial.number == 4:
            study.stop()

    study = Study(SPACE).optimize(quadratic, n_trials=50, callbacks=[callback], progress=False)
    assert seen == [(i, TrialState.COMPLETE) for i in range(5)] and study.stop_reason == "stopped"
    assert len(Study(SPACE).optimize(quadratic, n_trials=0, progress=False).trials) == 0


def test_a_loop_drives_the_study_through_its_public_methods():
    assert Study(SPACE).sign == 1.0
    study = Study(SPACE, direction="maximize", seed=0)
    assert study.sign == -1.0
    first, second = study.ask_many(2)
    assert len(study) == 2
    study.record(first, Outcome(TrialState.COMPLETE, 4.0, attrs={"fold": 1}))
    study.record(second, Outcome(TrialState.FAILED, error="lost: interrupted"), lost="interrupted")
    trials = study.trials
    assert trials[0].state is TrialState.COMPLETE and trials[0].value == 4.0 and trials[0].attrs == {"fold": 1}
    assert trials[1].state is TrialState.FAILED and trials[1].lost and not trials[0].lost
    assert study.history().loss(trials[0]) == -4.0
    assert not study.stop_requested
    study.stop()
    assert study.stop_requested
    study.clear_stop()
    assert not study.stop_requested
    study.optimize(quadratic, n_trials=3, timeout=float("inf"), progress=False)  # inf: no time limit
    assert study.stop_reason == "n_trials" and len(study) == 5


class ThresholdPruner:
    """Prunes a trial whose last reported value is above `threshold` (a stand-in for a real pruner)."""

    def __init__(self, threshold):
        self.threshold = threshold
        self.histories = []

    def should_prune(self, trial, history):
        self.histories.append(len(history))
        return trial.intermediate_values[max(trial.intermediate_values)] > self.threshold


def test_trial_objectives_report_prune_and_keep_attributes():
    def objective(trial):
        loss = 10.0
        for step in range(5):
            loss = loss / 2 + trial.params["n"]
            trial.report(loss, step)
            if trial.should_prune():
                raise TrialPruned(f"pruned at step {step}")
        trial.set_attr("final_step", step)
        return loss

    study = Study({"n": Integer(0, 3)}, GridSearch(), pruner=ThresholdPruner(threshold=6.0))
    study.optimize(objective, progress=False)
    by_n = {t.params["n"]: t for t in study.trials}
    assert by_n[0].state is TrialState.COMPLETE and by_n[0].attrs == {"final_step": 4}
    assert by_n[0].intermediate_values == {0: 5.0, 1: 2.5, 2: 1.25, 3: 0.625, 4: 0.3125}
    assert by_n[3].state is TrialState.PRUNED and by_n[3].error == "pruned at step 0" and by_n[3].value == 8.0
    assert by_n[3].intermediate_values == {0: 8.0}
    assert by_n[1].state is TrialState.COMPLETE and by_n[2].state is TrialState.PRUNED
    assert study.pruner.histories[0] == 1  # the pruner sees the study's history, the running trial included
    no_pruner = Study({"n": Integer(0, 3)}, GridSearch()).optimize(objective, progress=False)
    assert all(t.state is TrialState.COMPLETE for t in no_pruner.trials)


def test_trial_report_and_attrs_reject_bad_values():
    trial = Trial(0, {"x": 1.0})
    with pytest.raises(ValueError, match="returned nan"):
        trial.report(float("nan"), 0)
    with pytest.raises(ValueError, match="`step` must be >= 0; got -1"):
        trial.report(1.0, -1)
    with pytest.raises(TypeError, match="`step` must be an integer; got 1.5"):
        trial.report(1.0, 1.5)
    trial.report(1.0)
    trial.report(2.0)
    assert trial.intermediate_values == {0: 1.0, 1: 2.0}
    with pytest.raises(TypeError, match="attribute 'model' must be JSON-able"):
        trial.set_attr("model", object())
    assert not trial.should_prune()


def test_every_objective_receives_the_trial_which_reads_as_its_params():
    """Whatever its parameter is called, an objective gets the Trial; a Trial reads as the mapping of its
    params, so objective(params) code runs unchanged; pass_trial=False sends a plain dict."""
    def by_params(params):
        return 0.0

    assert wants_trial(by_params) and wants_trial(print) and not wants_trial(by_params, pass_trial=False)
    received, plain = [], []

    def params_style(p):
        received.append(p)
        return (p["x"] - 2) ** 2 + p.get("n") + sum(1 for _ in p) + len(p) + dict(p)["n"] + f(**p)

    def f(x, n):
        return x * n

    minimize(params_style, SPACE, n_trials=1, progress=False)
    minimize(lambda p: plain.append(p) or 0.0, SPACE, n_trials=1, pass_trial=False, progress=False)
    trial = received[0]
    assert isinstance(trial, Trial) and isinstance(trial, Mapping) and set(trial) == {"x", "n"}
    assert trial["x"] == trial.params["x"] and "n" in trial and list(trial.items()) == list(trial.params.items())
    assert type(plain[0]) is dict and set(plain[0]) == {"x", "n"}
    assert trial != dict(trial.params) and trial == trial  # trials compare by identity
    with pytest.raises(KeyError, match="trial 0 has no parameter 'y'; its params are"):
        trial["y"]


def test_csv_and_json_export_without_pandas(tmp_path):
    study = Study({"x": Real(0, 1), "kind": ["a", "b"]}, GridSearch(n_points=2))
    study.optimize(lambda p: 1.0 / 0.0 if p["kind"] == "b" and p["x"] == 1.0 else p["x"], progress=False)
    text = study.to_csv(tmp_path / "trials.csv")
    assert (tmp_path / "trials.csv").read_text() == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["number", "state", "value", "params_x", "params_kind", "start_time", "end_time",
                             "duration", "error"]
    assert [r["state"] for r in rows] == ["complete", "complete", "complete", "failed"]
    assert rows[1]["params_kind"] == "b" and float(rows[2]["value"]) == 1.0
    assert rows[3]["error"] == "ZeroDivisionError: float division by zero" and rows[3]["value"] == ""
    records = json.loads(study.to_json(tmp_path / "trials.json"))
    assert records == json.loads((tmp_path / "trials.json").read_text())
    assert records[2]["params"] == {"x": 1.0, "kind": "a"} and records[2]["value"] == 1.0
    assert records[3]["state"] == "failed" and records[3]["duration"] >= 0
    assert len(study.trials_table()) == 4


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_is_drawn_only_on_a_terminal(monkeypatch):
    tty = TTY()
    monkeypatch.setattr("sys.stderr", tty)
    minimize(quadratic, SPACE, n_trials=3, seed=0)
    out = tty.getvalue()
    assert "3/3" in out and "best " in out and out.endswith("\n") and "[####################]" in out
    tty.truncate(0)
    minimize(quadratic, SPACE, n_trials=3, progress=False)
    assert tty.getvalue() == ""
    plain = io.StringIO()
    monkeypatch.setattr("sys.stderr", plain)
    minimize(quadratic, SPACE, n_trials=3)
    assert plain.getvalue() == ""


def test_progress_bar_line_shows_count_best_elapsed_and_eta():
    bar = ProgressBar(total=10, stream=TTY())
    assert bar.line(5, 0.25, 10.0) == "[##########----------]  5/10  best 0.25  00:10 < 00:10"
    assert ProgressBar(total=None, timeout=60).line(3, None, 15.0) == "3 trials  best -  00:15 < 00:45"
    assert ProgressBar(total=None).line(3, -1.5, 3725.0) == "3 trials  best -1.5  1:02:05"


class OutsideSearcher(Searcher):
    def ask(self, n, history):
        return [{"x": 99.0, "n": 0}]


class GreedySearcher(Searcher):
    def ask(self, n, history):
        return [self.space.sample(self.rng(history.next_number)) for _ in range(n + 1)]


@pytest.mark.parametrize("call, error, match", [
    (lambda: Study(SPACE, direction="up"), ValueError, "`direction` must be one of 'minimize', 'maximize'; got 'up'"),
    (lambda: Study(SPACE, searcher="grid"), TypeError, "`searcher` must be a Searcher"),
    (lambda: Study(SPACE, seed="a"), TypeError, "`seed` must be None, an int seed"),
    (lambda: Study(SPACE).optimize(quadratic, n_trials=-1), ValueError, "`n_trials` must be >= 0; got -1"),
    (lambda: Study(SPACE).optimize(quadratic, n_trials=2.0), TypeError, "`n_trials` must be an integer; got 2.0"),
    (lambda: Study(SPACE).optimize(quadratic, timeout=0), ValueError, "`timeout` must be > 0; got 0"),
    (lambda: Study(SPACE).optimize(quadratic, timeout="1"), TypeError, "`timeout` must be a real number; got '1'"),
    (lambda: Study(SPACE).optimize(quadratic, n_jobs=0), ValueError, "`n_jobs` must be an integer >= 1, or -1"),
    (lambda: Study(SPACE).optimize(quadratic, n_jobs="2"), TypeError, "`n_jobs` must be an integer; got '2'"),
    (lambda: Study(SPACE).optimize(quadratic, backend="gpu"), ValueError, "`backend` must be 'threads' or 'processes'"),
    (lambda: Study(SPACE).optimize(quadratic, executor=4), TypeError, "`executor` must be a concurrent.futures.Exe"),
    (lambda: Study(SPACE).optimize(quadratic, callbacks=[1]), TypeError, "`callbacks` must be functions"),
    (lambda: Study(SPACE).optimize(quadratic, callbacks=print), TypeError,
     r"`callbacks` must be a list of functions callback\(study, trial\); got the function print itself: pass "
     r"callbacks=\[print\]"),
    (lambda: Study(SPACE).optimize(quadratic, callbacks=3), TypeError,
     r"`callbacks` must be a list of functions callback\(study, trial\); got 3"),
    (lambda: Study(SPACE).optimize(quadratic, catch="yes"), TypeError, "`catch` must be True, False or a tuple"),
    (lambda: Study(SPACE).optimize("f"), TypeError, "`objective` must be callable"),
    (lambda: Study(SPACE, OutsideSearcher()).ask(), ValueError,
     r"OutsideSearcher proposed params\['x'\] = 99.0 is not inside Real\(-3.0, 3.0\)"),
    (lambda: Study(SPACE, GreedySearcher()).ask(), TypeError, r"must return a list of at most 1 params dicts"),
])
def test_bad_arguments_get_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_minimize_one_call_and_repr():
    study = minimize(quadratic, SPACE, RandomSearch(sampler="sobol"), n_trials=64, seed=0, progress=False)
    assert len(study.trials) == 64 and math.isclose(study.best_params["x"], 1.0, abs_tol=0.3)
    assert study.best_params["n"] == 0
    assert repr(study).startswith("Study(64 trials, direction='minimize', searcher=RandomSearch(")
    assert Space(SPACE) == study.space


def test_ask_and_tell_from_several_threads():
    import threading

    study = Study(SPACE, seed=0)

    def work():
        for _ in range(25):
            trial = study.ask()
            study.tell(trial, quadratic(trial.params))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trials = study.trials
    assert [t.number for t in trials] == list(range(100))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    reference = Study(SPACE, seed=0).optimize(quadratic, n_trials=100, progress=False)
    assert [t.params for t in trials] == [t.params for t in reference.trials]  # point t depends on t only


def test_a_generator_seed_is_drawn_once():
    import numpy as np

    a = Study(SPACE, seed=np.random.default_rng(5))
    b = Study(SPACE, seed=np.random.default_rng(5))
    assert a.seed == b.seed == a.storage.read_meta()["seed"]
    assert [a.ask().params for _ in range(3)] == [b.ask().params for _ in range(3)]
