"""A Study (in memory or in SQLite) and a fitted SearchCV pickle and unpickle to an equal object; a Study
unpickled with SQLite storage goes on writing to its file."""

import copy
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tunelab.core import LogisticRegression
from tunelab.searchers import BayesSearch, EvolutionSearch, GridSearch, Hyperband, Integer, Real, SearchCV, Study
from tunelab.searchers.storage import StorageError
from tunelab.searchers.trial import TrialPruned
from test_search_cv import GradientRidge, regression_data

SPACE = {"x": Real(-2.0, 2.0), "n": Integer(0, 3), "kind": ["a", "b"]}


def objective(trial):
    trial.report(trial.params["x"] ** 2, 0)
    if trial.params["n"] == 3:
        raise TrialPruned()
    trial.set_attr("n2", trial.params["n"] * 2)
    return (trial.params["x"] - 0.5) ** 2 + trial.params["n"] + (trial.params["kind"] == "b")


def state(study, times=True):
    """Everything a user reads from a study (times=False: but the start and end times of its trials)."""
    def record(trial):
        d = trial.to_dict()
        return d if times else {k: v for k, v in d.items() if k not in ("start_time", "end_time")}

    return {"trials": [record(t) for t in study.trials], "space": study.space, "direction": study.direction,
            "seed": study.seed, "searcher": (type(study.searcher), study.searcher.get_params()),
            "best": record(study.best_trial), "storage": study.storage.path, "len": len(study),
            "stop_reason": study.stop_reason, "context": study.context}


@pytest.mark.parametrize("searcher", [EvolutionSearch(population_size=4), BayesSearch(n_initial=3), GridSearch()])
def test_an_in_memory_study_unpickles_equal_and_continues_like_the_original(searcher):
    study = Study(SPACE, searcher, direction="maximize", seed=4, context={"data": "a"})
    study.optimize(objective, n_trials=7, progress=False)
    running = study.ask()
    copied = pickle.loads(pickle.dumps(study))
    assert state(copied) == state(study)
    for s in (study, copied):
        s.tell(running, 1.0)
        s.optimize(objective, n_trials=4, progress=False)
    # the same next points: the copy is the study, not a snapshot of it
    assert state(copied, times=False) == state(study, times=False)


def test_a_stored_study_unpickles_and_goes_on_writing_to_its_file(tmp_path):
    path = tmp_path / "study.db"
    study = Study(SPACE, EvolutionSearch(population_size=4), storage=path, seed=2, context={"data": "a"})
    study.optimize(objective, n_trials=6, progress=False)
    copied = pickle.loads(pickle.dumps(study))
    assert state(copied) == state(study) and copied.storage.path == os.fspath(path)
    copied.optimize(objective, n_trials=3, progress=False)
    assert len(Study.load(path)) == 9 and len(study) == 6 and len(study.trials) == 9  # sync reads the copy's
    assert [t.to_dict() for t in Study.load(path).trials] == [t.to_dict() for t in copied.trials]
    deep = copy.deepcopy(copied)
    deep.optimize(objective, n_trials=1, progress=False)
    assert len(Study.load(path)) == 10


UNPICKLE = textwrap.dedent("""
    import pickle, sys
    sys.path.insert(0, sys.argv[2])
    with open(sys.argv[1], "rb") as f:
        study = pickle.load(f)
    import test_pickling
    study.optimize(test_pickling.objective, n_trials=2, progress=False)
    print(len(study))
""")


def test_a_stored_study_unpickled_in_another_process_writes_to_the_file(tmp_path):
    path = tmp_path / "study.db"
    study = Study(SPACE, GridSearch(), storage=path, seed=0).optimize(objective, n_trials=3, progress=False)
    (tmp_path / "study.pkl").write_bytes(pickle.dumps(study))
    done = subprocess.run([sys.executable, "-c", UNPICKLE, str(tmp_path / "study.pkl"), os.path.dirname(__file__)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5"]
    assert [t.params for t in study.trials] == [t.params for t in Study(SPACE, GridSearch()).optimize(
        objective, n_trials=5, progress=False).trials]  # the grid went on where it was, in the same file


def test_an_unpickled_study_whose_file_is_gone_or_replaced_says_so(tmp_path):
    path = tmp_path / "study.db"
    study = Study(SPACE, storage=path, seed=0).optimize(objective, n_trials=3, progress=False)
    pickled = pickle.dumps(study)
    study.close()
    os.remove(path)
    copied = pickle.loads(pickled)  # unpickling does not need the file
    assert copied.space == study.space and copied.seed == study.seed
    with pytest.raises(FileNotFoundError, match=f"the study file {path} does not exist"):
        copied.trials
    assert not path.exists()
    Study({"y": Real(0.0, 1.0)}, storage=path).close()
    with pytest.raises(StorageError, match=f"{path} now holds another study"):
        pickle.loads(pickled).ask()


def fitted_searches(tmp_path):
    X, y = regression_data()
    labels = (X[:, 0] > 0).astype(int)
    space = {"alpha": Real(1e-4, 1.0, log=True)}
    yield SearchCV(GradientRidge(), space, n_trials=4, cv=3, random_state=0).fit(X, y), X
    yield SearchCV(GradientRidge(), space, n_trials=4, cv=3, random_state=0, storage=tmp_path / "s.db").fit(X, y), X
    yield SearchCV(LogisticRegression(max_epochs=5), space, n_trials=4, cv=3, random_state=0,
                   scoring="neg_log_loss").fit(X, labels), X
    yield SearchCV(LogisticRegression(max_epochs=9), space, cv=3, random_state=0, resource="max_epochs",
                   pruner=Hyperband(1, 9), n_trials=6).fit(X, labels), X


def test_a_fitted_search_cv_unpickles_equal(tmp_path):
    for search, X in fitted_searches(tmp_path):
        copied = pickle.loads(pickle.dumps(search))
        assert copied.get_params().keys() == search.get_params().keys()
        assert type(copied.estimator) is type(search.estimator)
        assert copied.cv_results_.keys() == search.cv_results_.keys()
        for key, column in search.cv_results_.items():
            np.testing.assert_array_equal(copied.cv_results_[key], column, err_msg=key)
        assert (copied.best_params_, copied.best_score_, copied.best_index_) == \
               (search.best_params_, search.best_score_, search.best_index_)
        np.testing.assert_array_equal(copied.predict(X), search.predict(X))
        assert copied.score(X[:30], search.predict(X[:30])) == search.score(X[:30], search.predict(X[:30]))
        assert state(copied.study_) == state(search.study_)
