"""A storage holds one study: the context its values depend on is recorded, and a study continued in
another context is refused with a message that names what differs."""

import json
import math
import sqlite3

import numpy as np
import pytest

from tunelab.core.model_selection import KFold
from tunelab.searchers.context import describe, fingerprint
from tunelab.searchers.search_cv import SearchCV
from tunelab.searchers.space import Real
from tunelab.searchers.study import Study, minimize
from test_search_cv import GradientRidge, regression_data

SPACE = {"x": Real(0.0, 1.0)}


def test_a_study_refuses_another_context_and_names_what_differs(tmp_path):
    path = tmp_path / "study.db"
    study = Study(SPACE, storage=path, seed=0, context={"data": "a.csv", "folds": 5, "metric": "accuracy"})
    study.optimize(lambda p: p["x"], n_trials=3, progress=False)
    study.close()
    with pytest.raises(ValueError) as caught:
        Study(SPACE, storage=path, context={"data": "b.csv", "folds": 5, "metric": "log_loss"})
    message = str(caught.value)
    assert message.startswith(f"the study in {path} was run in another context (2 entries differ): "
                              "data: stored 'a.csv', given 'b.csv'; metric: stored 'accuracy', given 'log_loss'.")
    assert "folds" not in message
    assert f"Its 3 trials do not compare with new ones; to start a new study, give another storage file (or delete " \
           f"{path})" in message
    same = Study(SPACE, storage=path, context={"folds": 5, "data": "a.csv", "metric": "accuracy"})
    assert len(same) == 3 and same.context == {"data": "a.csv", "folds": 5, "metric": "accuracy"}
    same.optimize(lambda p: p["x"], n_trials=2, progress=False)
    assert len(Study.load(path)) == 5  # no context given: reopened as before, for reading


def test_check_context_compares_given_keys_and_records_new_ones(tmp_path):
    study = Study(SPACE, storage=tmp_path / "s.db", context={"a": 1})
    study.check_context({"a": 1, "b": [1, 2]})
    assert study.context == {"a": 1, "b": [1, 2]}
    study.check_context({"b": (1, 2)})  # compared as JSON values: a tuple is a list
    with pytest.raises(ValueError, match=r"^the study in .* was run in another context \(1 entry differs\): "
                                         r"b: stored \[1, 2\], given \[1, 3\]\."):
        study.check_context({"b": [1, 3]})
    assert study.context == {"a": 1, "b": [1, 2]}  # a refused context changes nothing
    nested = Study(SPACE, context={"estimator": {"alpha": 1.0, "tol": 1e-4}})
    with pytest.raises(ValueError, match=r"this study was run in another context \(1 entry differs\): "
                                         r"estimator\['alpha'\]: stored 1.0, given 2.0\."):
        nested.check_context({"estimator": {"alpha": 2.0, "tol": 1e-4}})


@pytest.mark.parametrize("context, error, match", [
    ("data.csv", TypeError, "`context` must be a dict of name -> JSON value; got 'data.csv'"),
    ({1: "a"}, TypeError, r"`context` keys must be strings; got 1"),
    ({"f": print}, TypeError, r"`context\['f'\]` must be a JSON value \(number, string, list, dict\); got <built-in"),
    ({"x": math.nan}, ValueError, r"`context\['x'\]` must be finite; got nan"),
    ({"x": [1, {"y": math.inf}]}, ValueError, r"`context\['x'\]` must be finite; got inf"),
])
def test_bad_contexts_are_refused(context, error, match):
    with pytest.raises(error, match=match):
        Study(SPACE, context=context)


def test_a_study_stored_without_context_adopts_one_with_a_warning(tmp_path):
    path = tmp_path / "old.db"
    minimize(lambda p: p["x"], SPACE, n_trials=2, storage=path, progress=False).close()
    with pytest.warns(UserWarning, match=r"records no context for 'data'; its 2 earlier trials are taken to "
                                         r"belong to data='a.csv'"):
        Study(SPACE, storage=path, context={"data": "a.csv"}).close()
    with pytest.raises(ValueError, match="data: stored 'a.csv', given 'b.csv'"):
        Study(SPACE, storage=path, context={"data": "b.csv"})
    with pytest.raises(ValueError, match="data: stored 'a.csv', given 'c.csv'"):
        minimize(lambda p: p["x"], SPACE, n_trials=1, storage=path, context={"data": "c.csv"}, progress=False)
    assert len(minimize(lambda p: p["x"], SPACE, n_trials=1, storage=path, context={"data": "a.csv"},
                        progress=False)) == 3


def test_a_new_study_records_its_context_in_the_meta_table(tmp_path):
    path = tmp_path / "s.db"
    Study(SPACE, storage=path, context={"data": "sha256:00ff", "cv": 3}).close()
    with sqlite3.connect(path) as db:
        stored = json.loads(db.execute("SELECT value FROM meta WHERE key = 'context'").fetchone()[0])
    assert stored == {"data": "sha256:00ff", "cv": 3}


def test_fingerprints_and_descriptions_are_stable_and_sensitive():
    X = np.arange(12.0).reshape(4, 3)
    assert fingerprint(X) == fingerprint(X.copy()) == fingerprint(np.asfortranarray(X))
    assert fingerprint(X).startswith("(4, 3) float64 sha256:")
    changed = X.copy()
    changed[2, 1] = np.nextafter(changed[2, 1], 10)
    assert fingerprint(changed) != fingerprint(X)
    assert fingerprint(X.reshape(3, 4)) != fingerprint(X) and fingerprint(X.astype(np.float32)) != fingerprint(X)
    assert fingerprint(X.tolist()) == fingerprint(X)
    labels = np.array(["a", "b", None], dtype=object)
    assert fingerprint(labels) == fingerprint(labels.copy()) != fingerprint(np.array(["a", "b", "c"], dtype=object))
    assert fingerprint(None) is None
    assert fingerprint([[1, 2], [3]]) == fingerprint([[1, 2], [3]]) != fingerprint([[1, 2], [4]])  # ragged rows
    assert describe(GradientRidge(alpha=0.5)) == "test_search_cv.GradientRidge"
    assert describe(np.float64(2.5)) == 2.5 and describe((1, "a")) == [1, "a"] and describe(math.nan) == "nan"
    assert describe(lambda x: x) == "test_study_context.test_fingerprints_and_descriptions_are_stable_and_sensitive" \
                                    ".<locals>.<lambda>"
    assert " at 0x" not in describe(object())
    assert describe(np.ones(3)) == fingerprint(np.ones(3))


def search(**kwargs):
    settings = {"n_trials": 3, "cv": 3, "random_state": 0, **kwargs}
    return SearchCV(settings.pop("estimator", GradientRidge()), {"alpha": Real(1e-4, 1.0, log=True)}, **settings)


def test_search_cv_resumes_in_the_same_context_and_refuses_another(tmp_path):
    X, y = regression_data()
    path = tmp_path / "search.db"
    first = search(storage=path).fit(X, y)
    again = search(storage=path).fit(X, y)
    assert len(again.cv_results_["params"]) == 6 and again.cv_results_["params"][:3] == first.cv_results_["params"]
    assert again.study_.context["X"] == fingerprint(X) and again.study_.context["y"] == fingerprint(y)
    X_other, y_other = regression_data(seed=1)
    cases = [
        (dict(), (X_other, y), "X: stored '(120, 4) float64 sha256:"),
        (dict(), (X, y_other), "y: stored '(120,) float64 sha256:"),
        (dict(estimator=GradientRidge(n_steps=50)), (X, y), "estimator_params['n_steps']: stored 200, given 50"),
        (dict(scoring="neg_mean_squared_error"), (X, y), "scoring: stored None, given 'neg_mean_squared_error'"),
        (dict(cv=4), (X, y), "folds: stored '3 folds sha256:"),
        (dict(cv=KFold(3, shuffle=True, random_state=1)), (X, y), "folds: stored '3 folds sha256:"),
    ]
    for kwargs, data, words in cases:
        with pytest.raises(ValueError) as caught:
            search(storage=path, **kwargs).fit(*data)
        assert f"the study in {path} was run in another context" in str(caught.value)
        assert words in str(caught.value) and "give another storage file" in str(caught.value)
    assert len(search(storage=path).fit(X, y).cv_results_["params"]) == 9  # nothing was added by the refusals


class OtherRidge(GradientRidge):
    """The same parameters under another class name."""


def test_search_cv_names_another_estimator_class(tmp_path):
    X, y = regression_data()
    path = tmp_path / "search.db"
    search(storage=path).fit(X, y)
    with pytest.raises(ValueError, match=r"estimator: stored 'test_search_cv.GradientRidge', given "
                                         r"'test_study_context.OtherRidge'"):
        search(storage=path, estimator=OtherRidge()).fit(X, y)


def test_the_searched_parameters_are_not_part_of_the_context(tmp_path):
    X, y = regression_data()
    path = tmp_path / "search.db"
    search(storage=path, estimator=GradientRidge(alpha=0.3)).fit(X, y)
    resumed = search(storage=path, estimator=GradientRidge(alpha=0.9)).fit(X, y)  # alpha is searched
    assert len(resumed.cv_results_["params"]) == 6
    assert "alpha" not in resumed.study_.context["estimator_params"]
    assert resumed.study_.context["estimator_params"] == {"lr": 0.1, "n_steps": 200}
