"""SearchCV: the same folds for every trial, failed fits as failed trials, agreement with GridSearchCV."""

import numpy as np
import pytest

from tunelab.core.base import BaseEstimator, RegressorMixin, clone
from tunelab.core.model_selection import KFold, cross_validate
from tunelab.core.validation import ConvergenceError, NotFittedError
from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.search_cv import SearchCV
from tunelab.searchers.space import Categorical, Integer, Real


class GradientRidge(BaseEstimator, RegressorMixin):
    """Ridge regression fitted by `n_steps` of gradient descent with step `lr`:
    w <- w - lr (X^T (X w - y) / n + alpha w). It diverges when lr exceeds 2 / L (L the largest Hessian
    eigenvalue) and then raises ConvergenceError, like tunelab's models."""

    def __init__(self, alpha=1.0, lr=0.1, n_steps=200):
        self.alpha = alpha
        self.lr = lr
        self.n_steps = n_steps

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        Xb = np.hstack([X, np.ones((len(X), 1))])  # (n, d + 1)
        w = np.zeros(Xb.shape[1])
        for _ in range(self.n_steps):
            w = w - self.lr * (Xb.T @ (Xb @ w - y) / len(y) + self.alpha * w)
            if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e12:
                raise ConvergenceError(f"gradient descent diverged with lr={self.lr}")
        self.coef_, self.intercept_ = w[:-1], w[-1]
        return self

    def predict(self, X):
        return np.asarray(X, dtype=float) @ self.coef_ + self.intercept_


class RecordingKFold(KFold):
    """KFold that remembers every split it yields."""

    def split(self, X, y=None, groups=None):
        self.yielded = getattr(self, "yielded", []) + [list(super().split(X, y))]
        return iter(self.yielded[-1])


def regression_data(n=120, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 + 0.3 * rng.normal(size=n)
    return X, y


def test_every_trial_uses_the_same_folds_computed_once():
    X, y = regression_data()
    cv = RecordingKFold(3, shuffle=True)  # no random_state: a second split() would give other folds
    search = SearchCV(GradientRidge(), {"alpha": Real(1e-4, 1.0, log=True)}, n_trials=6, cv=cv,
                      random_state=0).fit(X, y)
    assert len(cv.yielded) == 1 and search.n_splits_ == 3
    folds = cv.yielded[0]
    results = search.cv_results_
    assert len(results["params"]) == 6
    for i, params in enumerate(results["params"]):
        again = cross_validate(GradientRidge(**params), X, y, cv=folds)
        np.testing.assert_allclose([results[f"split{k}_test_score"][i] for k in range(3)], again["test_score"],
                                   rtol=1e-12)


def test_diverging_fits_are_failed_trials_and_best_is_the_best_complete_one():
    X, y = regression_data()
    space = {"lr": Real(1e-3, 10.0, log=True), "alpha": Real(1e-4, 1.0, log=True)}
    search = SearchCV(GradientRidge(), space, RandomSearch(sampler="sobol"), n_trials=16, cv=3,
                      random_state=1).fit(X, y)
    results = search.cv_results_
    failed = results["state"] == "failed"
    assert failed.any() and (~failed).any()
    assert all("ConvergenceError: gradient descent diverged" in e for e in results["error"][failed])
    assert np.all(np.isnan(results["mean_test_score"][failed]))
    assert np.all(results["rank_test_score"][failed] == (~failed).sum() + 1)
    best = np.nanargmax(results["mean_test_score"])
    assert search.best_index_ == best and results["rank_test_score"][best] == 1
    assert search.best_score_ == results["mean_test_score"][best]
    assert search.best_params_ == results["params"][best]
    assert search.best_estimator_.get_params() == {**GradientRidge().get_params(), **search.best_params_}
    assert search.best_estimator_.lr == results["param_lr"][best]
    assert np.all(results["mean_fit_time"][~failed] > 0) and results["std_test_score"].shape == (16,)
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))
    np.testing.assert_allclose(search.predict(X[:5]), search.best_estimator_.predict(X[:5]))


def test_grid_search_cv_tries_the_whole_grid_and_n_jobs_does_not_change_the_result():
    X, y = regression_data()
    space = {"alpha": [0.001, 0.01, 0.1, 1.0], "lr": [0.05, 0.2]}
    serial = SearchCV(GradientRidge(), space, GridSearch(), cv=4).fit(X, y)
    threaded = SearchCV(GradientRidge(), space, GridSearch(), cv=4, n_jobs=2).fit(X, y)
    assert len(serial.cv_results_["params"]) == 8
    key = lambda r: sorted(zip(map(repr, r["params"]), r["mean_test_score"]))  # noqa: E731
    assert key(threaded.cv_results_) == key(serial.cv_results_)
    assert threaded.best_params_ == serial.best_params_ == {"alpha": 0.001, "lr": 0.2}
    processes = SearchCV(GradientRidge(), space, GridSearch(), cv=4, n_jobs=2, backend="processes").fit(X, y)
    assert key(processes.cv_results_) == key(serial.cv_results_)


def test_agrees_with_scikit_learn_grid_search_cv():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import GridSearchCV

    X, y = regression_data(n=150)
    splits = list(KFold(5).split(X))
    ours = SearchCV(Ridge(), {"alpha": [0.01, 1.0, 30.0, 300.0]}, GridSearch(), cv=splits,
                    scoring="neg_mean_squared_error").fit(X, y)
    theirs = GridSearchCV(Ridge(), {"alpha": [0.01, 1.0, 30.0, 300.0]}, cv=splits,
                          scoring="neg_mean_squared_error").fit(X, y)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"])
    np.testing.assert_allclose(ours.cv_results_["std_test_score"], theirs.cv_results_["std_test_score"])
    np.testing.assert_array_equal(ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"])
    assert ours.best_params_ == theirs.best_params_ and ours.best_score_ == pytest.approx(theirs.best_score_)

    labels = (X[:, 0] + X[:, 1] > 0).astype(int)
    classifier = SearchCV(LogisticRegression(), {"C": Real(1e-3, 10.0, log=True)}, n_trials=5, cv=3,
                          scoring="accuracy", random_state=0).fit(X, labels)
    assert classifier.classes_.tolist() == [0, 1] and classifier.predict_proba(X).shape == (150, 2)
    assert 0.8 < classifier.best_score_ <= 1.0


def test_bad_settings_and_unfitted_use_are_explained():
    X, y = regression_data(n=30)
    with pytest.raises(ValueError, match=r"\['lrate'\] is not a parameter of GradientRidge; its parameters are alpha"):
        SearchCV(GradientRidge(), {"lrate": Real(0.1, 1.0)}).fit(X, y)
    with pytest.raises(TypeError, match="`estimator` must have get_params, set_params and fit"):
        SearchCV(object(), {"a": Real(0, 1)}).fit(X, y)
    with pytest.raises(ValueError, match="`n_trials` must be >= 1; got 0"):
        SearchCV(GradientRidge(), {"alpha": Real(0.1, 1.0)}, n_trials=0).fit(X, y)
    with pytest.raises(TypeError, match="`n_trials` must be an integer; got '3'"):
        SearchCV(GradientRidge(), {"alpha": Real(0.1, 1.0)}, n_trials="3").fit(X, y)
    with pytest.raises(ValueError, match="all 3 trials failed; the first error was: ConvergenceError"), \
            pytest.warns(RuntimeWarning, match="all 3 trials of this optimize call failed"):
        SearchCV(GradientRidge(), {"lr": Real(50.0, 100.0)}, n_trials=3, cv=2).fit(X, y)
    with pytest.raises(NotFittedError):
        SearchCV(GradientRidge(), {"alpha": Real(0.1, 1.0)}).predict(X)
    no_refit = SearchCV(GradientRidge(), {"alpha": Real(0.1, 1.0)}, n_trials=2, cv=2, refit=False).fit(X, y)
    assert not hasattr(no_refit, "best_estimator_")
    with pytest.raises(AttributeError, match="refit=False"):
        no_refit.predict(X)
    assert clone(no_refit).get_params()["n_trials"] == 2


class NegatedGrid(GridSearch):
    """A grid whose `cv_objective` scores each trial by minus the alpha it proposes, on the folds given."""

    def cv_objective(self, estimator, X, y, splits, scoring):
        self.folds_seen = [len(test) for _, test in splits]
        return NegatedAlpha()


class NegatedAlpha:
    def __call__(self, trial):
        return -trial.params["alpha"]


def test_a_searcher_cv_objective_replaces_the_cross_validated_score():
    X, y = regression_data()
    assert GridSearch().cv_objective(GradientRidge(), X, y, [], None) is None  # the default: SearchCV's own
    search = SearchCV(GradientRidge(), {"alpha": Real(0.1, 1.0)}, NegatedGrid(n_points=5), cv=3).fit(X, y)
    assert search.study_.searcher.folds_seen == [40, 40, 40]
    assert [t.value for t in search.study_.trials] == pytest.approx(-np.linspace(0.1, 1.0, 5))
    assert search.best_params_ == {"alpha": 0.1} and search.best_score_ == pytest.approx(-0.1)


# ---- conditional spaces: a choice among objects with their own hyperparameters ----------------------

def optimizer_space():
    from tunelab.optimizers import LBFGS, Adam, Momentum

    momentum, adam, lbfgs = Momentum(batch_size=32), Adam(batch_size=32), LBFGS()
    space = {
        "alpha": Real(1e-5, 1e-1, log=True),
        "optimizer": Categorical({
            momentum: {"optimizer__lr": Real(1e-3, 0.3, log=True), "optimizer__momentum": Real(0.5, 0.99),
                       "optimizer__nesterov": [False, True]},
            adam: {"optimizer__lr": Real(1e-3, 0.3, log=True), "optimizer__beta1": Real(0.8, 0.99),
                   "optimizer__beta2": Real(0.9, 0.9999)},
            lbfgs: {"optimizer__memory": Integer(3, 20)},
        }),
    }
    return space, (momentum, adam, lbfgs)


def test_search_cv_chooses_among_optimizers_each_with_its_own_hyperparameters():
    from tunelab.core import LogisticRegression, StandardScaler, load_breast_cancer

    X, y = load_breast_cancer()
    X = StandardScaler().fit_transform(X)[::3]
    y = y[::3]
    space, choices = optimizer_space()
    before = [c.get_params() for c in choices]
    search = SearchCV(LogisticRegression(max_epochs=5, random_state=0), space, searcher=GridSearch(n_points=2),
                      n_trials=40, cv=3, random_state=0).fit(X, y)
    trials = search.study_.trials
    assert all(t.state.value == "complete" for t in trials)
    own = {"Momentum": {"optimizer__lr", "optimizer__momentum", "optimizer__nesterov"},
           "Adam": {"optimizer__lr", "optimizer__beta1", "optimizer__beta2"}, "LBFGS": {"optimizer__memory"}}
    seen = set()
    for t in trials:
        kind = type(t.params["optimizer"]).__name__
        seen.add(kind)
        assert set(t.params) == {"alpha", "optimizer"} | own[kind]  # only the active hyperparameters
    assert seen == {"Momentum", "Adam", "LBFGS"}
    assert [c.get_params() for c in choices] == before  # the choices shared by every trial are never changed
    best = search.best_estimator_.optimizer
    assert type(best) is type(search.best_params_["optimizer"]) and best is not search.best_params_["optimizer"]
    for name, value in search.best_params_.items():
        if name.startswith("optimizer__"):
            assert getattr(best, name[len("optimizer__"):]) == value
    beta1 = search.cv_results_["param_optimizer__beta1"]
    is_adam = np.array([type(t.params["optimizer"]).__name__ == "Adam" for t in trials])
    assert np.array_equal(np.ma.getmaskarray(beta1), ~is_adam)
    model = clone(LogisticRegression(max_epochs=5, random_state=0)).set_params(**search.best_params_).fit(X, y)
    assert np.allclose(model.predict_proba(X), search.predict_proba(X))


def test_search_cv_names_a_hyperparameter_that_its_branch_does_not_have():
    from tunelab.core import LogisticRegression
    from tunelab.optimizers import SGD, Adam

    X, y = regression_data()
    y = (y > np.median(y)).astype(int)
    flat = {"optimizer": Categorical([SGD(), Adam()]), "optimizer__beta1": Real(0.8, 0.99)}
    with pytest.raises(ValueError, match=r"\['optimizer__beta1'\] is not a parameter of LogisticRegression; .*declare "
                                         r"it in the sub-space of the choices that have it"):
        SearchCV(LogisticRegression(), flat, n_trials=2, cv=2).fit(X, y)
    wrong = {"optimizer": Categorical({SGD(): {"optimizer__beta1": Real(0.8, 0.99)}, Adam(): None})}
    with pytest.raises(ValueError, match=r"'optimizer__beta1' is not a parameter of LogisticRegression with "
                                         r"optimizer=SGD\("):
        SearchCV(LogisticRegression(), wrong, n_trials=2, cv=2).fit(X, y)
