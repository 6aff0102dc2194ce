"""SQLite storage: resume, JSON rows, lost trials, a study killed with SIGKILL, several processes at once."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.storage import worker_id, worker_is_dead
from tunelab.searchers.study import Study
from tunelab.searchers.trial import TrialPruned, TrialState

SPACE = {"x": Real(0.0, 1.0), "n": Integer(1, 5), "kind": ["a", "b"]}


def objective(trial):
    trial.report(trial.params["x"], 0)
    if trial.params["kind"] == "b" and trial.params["n"] == 5:
        raise ValueError("no b5")
    if trial.params["n"] == 4:
        raise TrialPruned()
    trial.set_attr("twice", 2 * trial.params["x"])
    return trial.params["x"] * trial.params["n"]


def test_a_stored_study_reopens_with_every_trial_and_continues(tmp_path):
    path = tmp_path / "study.db"
    first = Study(SPACE, RandomSearch(sampler="sobol"), direction="maximize", storage=path, seed=3)
    first.optimize(objective, n_trials=20, progress=False)
    before = [t.to_dict() for t in first.trials]
    first.close()
    again = Study.load(path)
    assert [t.to_dict() for t in again.trials] == before
    assert again.direction == "maximize" and again.space == Space(SPACE) and again.seed == first.seed
    assert again.searcher.get_params() == {"sampler": "sobol", "lhs_size": None}
    states = {t.state for t in again.trials}
    assert states == {TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED}
    again.optimize(objective, n_trials=5, progress=False)
    assert [t.number for t in again.trials] == list(range(25))
    reference = Study(SPACE, RandomSearch(sampler="sobol"), seed=3).optimize(objective, n_trials=25, progress=False)
    assert [t.params for t in again.trials] == [t.params for t in reference.trials]
    same_call = Study(SPACE, RandomSearch(sampler="sobol"), direction="maximize", storage=f"sqlite:///{path}")
    assert len(same_call.trials) == 25 and same_call.seed == first.seed


def test_a_conditional_study_is_stored_with_its_conditions_and_exported_with_empty_cells(tmp_path):
    space = {"x": Real(0.0, 1.0), "kind": Categorical({"a": {"y": Real(0.0, 1.0)}, "b": {"n": Integer(1, 3)}})}
    path = tmp_path / "conditional.db"
    first = Study(space, storage=path, seed=1).optimize(lambda p: p["x"] + p.get("y", 0.0), n_trials=8,
                                                        progress=False)
    before = [t.to_dict() for t in first.trials]
    first.close()
    with sqlite3.connect(path) as db:
        stored = [json.loads(row[0]) for row in db.execute("SELECT params FROM trials ORDER BY number")]
        meta = json.loads(dict(db.execute("SELECT key, value FROM meta"))["space"])
    assert [set(p) for p in stored] == [{"x", "kind", "y"} if p["kind"] == "a" else {"x", "kind", "n"} for p in stored]
    assert meta[2] == {"name": "y", "type": "real", "low": 0.0, "high": 1.0, "log": False, "parent": "kind",
                       "when": [0]}
    again = Study.load(path)
    assert again.space == Space(space) and [t.to_dict() for t in again.trials] == before
    rows = again.trials_table()
    assert all((row["params_y"] is None) == (row["params_kind"] == "b") for row in rows)
    assert all((row["params_n"] is None) == (row["params_kind"] == "a") for row in rows)
    lines = again.to_csv().splitlines()
    assert lines[0].startswith("number,state,value,params_x,params_kind,params_y,params_n,")
    assert all(",," in line for line in lines[1:])  # the inactive dimension's cell is empty


def test_choices_that_are_objects_come_back_from_the_file(tmp_path):
    choices = [len, max]
    space = {"f": Categorical({len: {"k": Integer(1, 3)}, max: None})}
    path = tmp_path / "objects.db"
    Study(space, storage=path, seed=0).optimize(lambda p: p.get("k", 0), n_trials=6, progress=False).close()
    again = Study(space, storage=path)
    assert all(t.params["f"] in choices and (("k" in t.params) == (t.params["f"] is len)) for t in again.trials)


def test_rows_are_json_never_pickles(tmp_path):
    path = tmp_path / "study.db"
    Study(SPACE, storage=path, seed=0).optimize(objective, n_trials=6, progress=False).close()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT params, intermediate_values, attrs, system_attrs FROM trials").fetchall()
        meta = dict(db.execute("SELECT key, value FROM meta"))
    for row in rows:
        params, steps, attrs, system = (json.loads(text) for text in row)
        assert set(params) == {"x", "n", "kind"} and isinstance(system["worker"], str)
    assert json.loads(meta["space"])[0] == {"name": "x", "type": "real", "low": 0.0, "high": 1.0, "log": False}
    assert json.loads(meta["searcher"]) == {"class": "RandomSearch", "params": {"sampler": "uniform", "lhs_size": None}}


def test_object_choices_are_stored_by_index(tmp_path):
    space = {"f": Categorical([min, max]), "x": Real(-1.0, 1.0)}
    path = tmp_path / "study.db"
    Study(space, GridSearch(n_points=3), storage=path).optimize(lambda p: p["f"](p["x"], 0.0), progress=False)
    with sqlite3.connect(path) as db:
        stored = [json.loads(p)["f"] for (p,) in db.execute("SELECT params FROM trials ORDER BY number")]
    assert stored == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="not JSON values; pass the `space`"):
        Study.load(path)
    again = Study(space, storage=path)
    assert [t.params["f"] for t in again.trials] == [min] * 3 + [max] * 3
    assert again.best_value == -1.0


def test_a_different_space_or_direction_is_refused(tmp_path):
    path = tmp_path / "study.db"
    Study(SPACE, storage=path).close()
    with pytest.raises(ValueError, match=r"holds a study over another space: stored Space\(\{'x': Real\(0.0, 1.0\)"):
        Study({"x": Real(0.0, 2.0)}, storage=path)
    with pytest.raises(ValueError, match="the stored study has direction='minimize'; got direction='maximize'"):
        Study(SPACE, direction="maximize", storage=path)
    with pytest.raises(FileNotFoundError, match="no study at .*empty.db: the file does not exist"):
        Study.load(tmp_path / "empty.db")
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(ValueError, match="empty.db holds no study"):
        Study.load(tmp_path / "empty.db")
    with pytest.raises(TypeError, match="`storage` must be None, a file path"):
        Study(SPACE, storage=3)


def _dead_worker():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = worker_id().rsplit(":", 2)[0]
    return f"{host}:{int(done.stdout)}:1"


def test_running_trials_of_a_dead_process_are_marked_lost_and_regridded(tmp_path):
    path = tmp_path / "study.db"
    study = Study({"n": Integer(0, 3)}, GridSearch(), storage=path)
    mine, theirs = study.ask(), study.ask()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE trials SET system_attrs = ? WHERE number = ?", (json.dumps({"worker": _dead_worker()}),
                                                                           theirs.number))
    reopened = Study.load(path)
    trials = reopened.trials
    assert trials[mine.number].state is TrialState.RUNNING  # its process (this one) is alive
    assert trials[theirs.number].state is TrialState.FAILED and trials[theirs.number].lost
    assert "ended while the trial was running" in trials[theirs.number].error
    reopened.optimize(lambda p: float(p["n"]), progress=False)
    assert [t.params["n"] for t in reopened.trials] == [0, 1, 1, 2, 3]  # the lost point is tried again, first
    assert not worker_is_dead("otherhost:1:1") and not worker_is_dead(None) and not worker_is_dead(worker_id())


KILLED_STUDY = textwrap.dedent("""
    import sys, time
    from tunelab.searchers.sampling.random import RandomSearch
    from tunelab.searchers.space import Integer, Real
    from tunelab.searchers.study import Study

    def objective(params):
        time.sleep(0.02)
        return params["x"] * params["n"]

    study = Study({"x": Real(0.0, 1.0), "n": Integer(1, 5)}, RandomSearch(), storage=sys.argv[1], seed=7)
    study.optimize(objective, n_trials=100_000, progress=False)
""")


def _count(path, state):
    try:
        with sqlite3.connect(path, timeout=10) as db:
            return db.execute("SELECT COUNT(*) FROM trials WHERE state = ?", (state,)).fetchone()[0]
    except sqlite3.OperationalError:  # the table does not exist yet
        return 0


def test_a_study_killed_with_sigkill_resumes_without_losing_a_finished_trial(tmp_path):
    path = tmp_path / "killed.db"
    script = tmp_path / "run.py"
    script.write_text(KILLED_STUDY)
    process = subprocess.Popen([sys.executable, str(script), str(path)])
    try:
        deadline = time.monotonic() + 60
        while _count(path, "complete") < 10:
            assert process.poll() is None and time.monotonic() < deadline, "the study did not start"
            time.sleep(0.05)
        with sqlite3.connect(path) as db:
            seen = dict(db.execute("SELECT number, value FROM trials WHERE state = 'complete'").fetchall())
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    study = Study.load(path)
    trials = study.trials
    n = len(trials)
    complete = {t.number: t.value for t in trials if t.state is TrialState.COMPLETE}
    assert all(complete.get(number) == value for number, value in seen.items())  # no finished trial lost
    assert set(complete) | {t.number for t in trials if t.lost} == set(range(n))  # the running one is lost
    assert sum(t.lost for t in trials) <= 1
    study.optimize(lambda p: p["x"] * p["n"], n_trials=5, progress=False)
    assert [t.number for t in study.trials] == list(range(n + 5))  # numbering continues
    reference = Study(study.space, RandomSearch(), seed=7).optimize(lambda p: 0.0, n_trials=n + 5, progress=False)
    assert [t.params for t in study.trials] == [t.params for t in reference.trials]


CONCURRENT_STUDY = textwrap.dedent("""
    import os, sys, time
    from tunelab.searchers.sampling.grid import GridSearch
    from tunelab.searchers.sampling.random import RandomSearch
    from tunelab.searchers.space import Integer, Real
    from tunelab.searchers.study import Study

    path, kind, me, n_processes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    searcher = GridSearch(n_points=3) if kind == "grid" else RandomSearch()
    study = Study({"a": Real(0.0, 1.0), "b": Integer(1, 4), "c": ["x", "y", "z"]}, searcher, storage=path, seed=5)
    open(path + ".ready" + me, "w").close()
    while sum(os.path.exists(path + ".ready" + str(i)) for i in range(n_processes)) < n_processes:
        time.sleep(0.01)  # start together
    study.optimize(lambda p: time.sleep(0.02) or p["a"], n_trials=None if kind == "grid" else 8, progress=False)
""")


@pytest.mark.parametrize("kind", ["grid", "random"])
def test_several_processes_write_one_study(tmp_path, kind):
    path = tmp_path / "shared.db"
    script = tmp_path / "run.py"
    script.write_text(CONCURRENT_STUDY)
    n_processes = 3
    processes = [subprocess.Popen([sys.executable, str(script), str(path), kind, str(i), str(n_processes)])
                 for i in range(n_processes)]
    assert [p.wait(timeout=120) for p in processes] == [0] * n_processes
    study = Study.load(path)
    trials = study.trials
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert len({t.system_attrs["worker"] for t in trials}) >= 2
    keys = [tuple(t.params.values()) for t in trials]
    assert len(set(keys)) == len(keys)  # no point taken twice
    if kind == "grid":
        assert sorted(keys) == sorted(tuple(p.values()) for p in study.space.grid(3))
    else:
        assert len(trials) == 8 * n_processes
        reference = Study(study.space, RandomSearch(), seed=5).optimize(lambda p: 0.0, n_trials=len(trials),
                                                                          progress=False)
        assert [t.params for t in trials] == [t.params for t in reference.trials]


class OwnSearcher(RandomSearch):
    """A searcher from outside tunelab: its class is not imported from a file's contents."""


def test_a_searcher_from_outside_tunelab_must_be_given_again(tmp_path):
    path = tmp_path / "study.db"
    Study(SPACE, OwnSearcher(), storage=path, seed=0).optimize(objective, n_trials=3, progress=False).close()
    with pytest.raises(ValueError, match=r"names the searcher 'test_storage.OwnSearcher', which is not one of "
                                         r"tunelab's searchers .*. If the study was run with a searcher of your own, "
                                         r"pass it again as `searcher=`"):
        Study.load(path)
    assert len(Study.load(path, searcher=OwnSearcher()).trials) == 3


def test_no_statement_of_a_trial_scans_the_table(tmp_path, monkeypatch):
    """Each trial's reads and writes search an index (O(log n)), so the cost of a trial does not grow
    with the number of trials stored."""
    statements, connect = [], sqlite3.connect

    def traced_connect(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    path = tmp_path / "study.db"
    study = Study(SPACE, RandomSearch(), storage=path, seed=0)
    study.optimize(objective, n_trials=5, progress=False)
    del statements[:]
    study.optimize(objective, n_trials=3, progress=False)
    queries = {s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))}
    assert {q.split()[0] for q in queries} == {"SELECT", "INSERT", "UPDATE"}
    with connect(path) as db:
        for query in queries:
            plan = [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + query)]
            assert not any(step.startswith("SCAN") for step in plan), (query, plan)


def test_two_studies_on_one_file_in_turn_see_each_others_trials(tmp_path):
    """A study skips re-reading the rows it wrote itself only when it had read every row before them."""
    path = tmp_path / "study.db"
    a = Study(SPACE, RandomSearch(), storage=path, seed=0)
    b = Study.load(path)
    first = a.ask()
    second = b.ask()  # b reads a's running trial first
    a.tell(first, 1.0)  # b wrote in between: a must still read b's trial
    third = a.ask()
    b.tell(second, 2.0)
    a.tell(third, 3.0)
    assert [t.number for t in (first, second, third)] == [0, 1, 2]
    for study in (a, b, Study.load(path)):
        assert [(t.number, t.state, t.value) for t in study.trials] == [
            (0, TrialState.COMPLETE, 1.0), (1, TrialState.COMPLETE, 2.0), (2, TrialState.COMPLETE, 3.0)]


def test_a_study_that_asked_in_vain_still_reads_the_next_write_of_another(tmp_path):
    """An ask that creates no trial (the grid is taken) writes nothing, so it must not count as a write."""
    path = tmp_path / "study.db"
    a = Study({"x": Real(0.0, 1.0)}, GridSearch(n_points=3), storage=path, seed=0)
    a.ask(), a.ask()
    b = Study.load(path)
    last = b.ask()
    assert a.ask_many(1) == []  # every grid point is taken
    b.tell(last, 5.0)
    assert (a.trials[2].state, a.trials[2].value) == (TrialState.COMPLETE, 5.0)
