"""SearchCV with a scoring dict (several objectives), and `tunelab tune --objectives`."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from tunelab.core import LogisticRegression, MLPClassifier
from tunelab.core.datasets import load_breast_cancer
from tunelab.searchers import NSGA2Search, Categorical, Real, SearchCV
from tunelab.searchers.multi_metric import n_weights
from tunelab.searchers.pareto import is_pareto_efficient


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X[:240], y[:240]


SCORING = {"accuracy": "accuracy", "fit_time": "fit_time", "n_weights": "n_weights"}


def test_n_weights_counts_the_fitted_arrays(data):
    X, y = data
    model = MLPClassifier(hidden_layer_sizes=(5,), max_epochs=3, random_state=0).fit(X, y)
    assert n_weights(model) == X.shape[1] * 5 + 5 + 5 * 1 + 1  # weights and biases of both layers
    assert n_weights(LogisticRegression().fit(X, y)) == X.shape[1] + 1


def test_a_scoring_dict_gives_every_objective_and_the_front(data):
    X, y = data
    space = {"hidden_layer_sizes": Categorical([(2,), (8,), (32,)]), "alpha": Real(1e-5, 1.0, log=True)}
    search = SearchCV(MLPClassifier(max_epochs=5, random_state=0), space, NSGA2Search(population_size=4),
                      n_trials=8, cv=3, scoring=SCORING, refit="accuracy", random_state=0).fit(X, y)
    results = search.cv_results_
    assert search.study_.directions == ["maximize", "minimize", "minimize"]
    for name in SCORING:
        split = np.column_stack([results[f"split{k}_test_{name}"] for k in range(3)])
        assert np.allclose(results[f"mean_test_{name}"], split.mean(axis=1))
        assert results[f"rank_test_{name}"].min() == 1
    sizes = [p["hidden_layer_sizes"][0] for p in results["params"]]
    assert results["mean_test_n_weights"].tolist() == [X.shape[1] * h + h + h + 1 for h in sizes]
    losses = np.column_stack([-results["mean_test_accuracy"], results["mean_test_fit_time"],
                              results["mean_test_n_weights"]])
    assert search.pareto_front_ == np.flatnonzero(is_pareto_efficient(losses)).tolist()
    best = search.best_index_
    assert best in search.pareto_front_ and results["rank_test_accuracy"][best] == 1
    assert search.best_score_ == results["mean_test_accuracy"][best]
    assert 0.5 < search.score(X, y) <= 1.0
    assert "mean_test_score" not in results


def test_refit_callable_picks_from_the_front(data):
    X, y = data

    def smallest_on_front(results):
        front = np.flatnonzero(results["pareto_front"])
        return int(front[np.argmin(results["mean_test_n_weights"][front])])

    search = SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 10.0, log=True)}, n_trials=5, cv=3,
                      scoring={"accuracy": "accuracy", "n_weights": "n_weights"}, refit=smallest_on_front,
                      random_state=0).fit(X, y)
    assert search.best_index_ == smallest_on_front(search.cv_results_)
    assert not hasattr(search, "best_score_") and hasattr(search, "best_estimator_")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"refit": True}, ValueError, "refit"),
    ({"refit": "recall"}, ValueError, "names of `scoring`"),
    ({"refit": "accuracy", "directions": ["maximize"]}, ValueError, "one direction per entry"),
    ({"refit": "accuracy", "directions": {"speed": "minimize"}}, ValueError, "not in `scoring`"),
])
def test_bad_multi_metric_settings_are_named(data, kwargs, error, match):
    X, y = data
    search = SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 10.0, log=True)}, n_trials=2, cv=2,
                      scoring={"accuracy": "accuracy", "fit_time": "fit_time"}, **kwargs)
    with pytest.raises(error, match=match):
        search.fit(X, y)


def test_directions_need_a_scoring_dict(data):
    X, y = data
    with pytest.raises(ValueError, match="scoring dict"):
        SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 10.0, log=True)}, n_trials=2, cv=2,
                 directions=["maximize"]).fit(X, y)


def test_tune_with_objectives_prints_and_reports_the_front(tmp_path, data):
    X, y = data
    path = tmp_path / "data.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"f{i}" for i in range(X.shape[1])] + ["label"])
        writer.writerows([list(row) + [int(label)] for row, label in zip(X, y)])
    result = subprocess.run([sys.executable, "-m", "tunelab.benchmarks", "tune", str(path), "--target", "label",
                             "--searcher", "nsga2", "--trials", "6", "--cv", "2", "--objectives", "accuracy,fit_time",
                             "--no-progress", "--out", "out"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert "| trial | accuracy | fit_time | params |" in result.stdout
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Pareto front" in report and "accuracy (maximize), fit_time (minimize)" in report
    records = json.loads((tmp_path / "out" / "trials.json").read_text())
    assert len(records) == 6 and all(len(r["objective_values"]) == 2 for r in records if r["state"] == "complete")
