"""tunelab's estimators inside scikit-learn's tools, and scikit-learn's estimators inside tunelab's SearchCV.

Each comparison runs both tools on the same folds and asks for the same scores to rounding: the two
implementations of cross-validation, scoring and metrics check each other. Tests that need scikit-learn are
skipped without it; tunelab itself must import and fit without it (checked in a subprocess that blocks the
import).
"""

import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from tunelab.core import (
    KFold, LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor, StandardScaler, StratifiedKFold,
    clone, cross_val_score, load_breast_cancer, load_wine, make_regression,
)
from tunelab.optimizers import SGD, Adam
from tunelab.searchers import GridSearch, Real, SearchCV, SuccessiveHalving

try:
    import sklearn
except ImportError:  # the tests below that need it are skipped
    sklearn = None

needs_sklearn = pytest.mark.skipif(sklearn is None, reason="scikit-learn is not installed")
SKLEARN_VERSION = tuple(int(part) for part in sklearn.__version__.split(".")[:2]) if sklearn else (0, 0)


def breast_cancer(n=300):
    X, y = load_breast_cancer()
    return X[:n], y[:n]


def wine():
    X, y = load_wine()
    return StandardScaler().fit_transform(X), y


def split_scores(results, n_splits):
    return np.array([results[f"split{k}_test_score"] for k in range(n_splits)]).T  # (candidates, folds)


def by_params(results, n_splits):
    """{sorted params: split scores} so that two searches listing candidates in other orders compare."""
    scores = split_scores(results, n_splits)
    return {tuple(sorted(params.items())): scores[i] for i, params in enumerate(results["params"])}


# ------------------------------------------------------------------------- tunelab inside scikit-learn


@needs_sklearn
def test_grid_search_cv_over_a_pipeline_of_tunelab_steps_scores_every_fold():
    """GridSearchCV over Pipeline(tunelab scaler, tunelab model) once returned NaN for every score: scoring
    asked the steps for their tags and got an AttributeError, which GridSearchCV (error_score=nan) recorded
    as a failed score. Now every score is finite and equal to tunelab's SearchCV's on the same folds."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    X, y = breast_cancer()
    folds = list(StratifiedKFold(3).split(X, y))
    pipe = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())])
    grid = {"model__alpha": [1e-3, 1e-2, 1e-1]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theirs = GridSearchCV(pipe, grid, cv=folds).fit(X, y)  # error_score=nan, as a user would leave it
    assert not [w for w in caught if "failed" in str(w.message)]
    assert np.isfinite(theirs.cv_results_["mean_test_score"]).all()
    ours = SearchCV(pipe, grid, GridSearch(), cv=folds).fit(X, y)
    ours_scores, their_scores = by_params(ours.cv_results_, 3), by_params(theirs.cv_results_, 3)
    assert ours_scores.keys() == their_scores.keys()
    for key in ours_scores:
        np.testing.assert_allclose(ours_scores[key], their_scores[key], rtol=1e-12)
    assert ours.best_params_ == theirs.best_params_
    # by hand, the first candidate on the first fold
    train, test = folds[0]
    scaler = StandardScaler().fit(X[train])
    model = LogisticRegression(alpha=1e-3).fit(scaler.transform(X[train]), y[train])
    assert their_scores[(("model__alpha", 1e-3),)][0] == model.score(scaler.transform(X[test]), y[test])
    assert theirs.score(X, y) == pytest.approx(ours.score(X, y))


@needs_sklearn
def test_grid_search_cv_sets_nested_optimizer_parameters_like_search_cv():
    from sklearn.model_selection import GridSearchCV

    X, y = breast_cancer()
    X = StandardScaler().fit_transform(X)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    model = LogisticRegression(optimizer=SGD(lr=0.01, batch_size=32), max_epochs=10, random_state=0)
    grid = {"optimizer__lr": [0.003, 0.03], "alpha": [1e-4, 1e-2]}
    theirs = GridSearchCV(model, grid, cv=folds, scoring="neg_log_loss", error_score="raise").fit(X, y)
    ours = SearchCV(model, grid, GridSearch(), cv=folds, scoring="neg_log_loss").fit(X, y)
    ours_scores, their_scores = by_params(ours.cv_results_, 3), by_params(theirs.cv_results_, 3)
    assert ours_scores.keys() == their_scores.keys() and len(ours_scores) == 4
    for key in ours_scores:
        np.testing.assert_allclose(ours_scores[key], their_scores[key], rtol=1e-10)
    assert ours.best_params_ == theirs.best_params_
    assert theirs.best_estimator_.optimizer.lr == theirs.best_params_["optimizer__lr"]
    assert model.optimizer.lr == 0.01  # the estimator given is never changed


@needs_sklearn
def test_randomized_search_cv_candidates_score_as_tunelab_cross_validation_does():
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV

    X, y = wine()
    folds = list(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    model = MLPClassifier(hidden_layer_sizes=(16,), optimizer=Adam(lr=0.01, batch_size=32), max_epochs=15,
                          random_state=0)
    space = {"alpha": loguniform(1e-5, 1e-1), "optimizer__lr": loguniform(1e-3, 1e-1)}
    search = RandomizedSearchCV(model, space, n_iter=3, cv=folds, random_state=0, error_score="raise").fit(X, y)
    scores = split_scores(search.cv_results_, 3)
    for i, params in enumerate(search.cv_results_["params"]):
        again = cross_val_score(clone(model).set_params(**params), X, y, cv=folds)
        np.testing.assert_allclose(scores[i], again, rtol=1e-12)
    assert search.best_score_ > 0.8
    assert search.predict(X).shape == (len(y),) and search.predict_proba(X).shape == (len(y), 3)


@needs_sklearn
@pytest.mark.parametrize("scoring", ["accuracy", "roc_auc", "neg_log_loss"])
@pytest.mark.parametrize("make_model", [
    lambda: LogisticRegression(alpha=1e-3),
    lambda: MLPClassifier(hidden_layer_sizes=(8,), optimizer=Adam(lr=0.01, batch_size=32), max_epochs=10,
                          random_state=0),
], ids=["logistic", "mlp"])
def test_cross_val_score_agrees_with_tunelab_on_the_same_folds(scoring, make_model):
    from sklearn.model_selection import cross_val_score as sklearn_cross_val_score
    from sklearn.pipeline import make_pipeline

    X, y = breast_cancer()
    folds = list(StratifiedKFold(4).split(X, y))
    model = make_pipeline(StandardScaler(), make_model())
    theirs = sklearn_cross_val_score(model, X, y, cv=folds, scoring=scoring, error_score="raise")
    ours = cross_val_score(model, X, y, cv=folds, scoring=scoring)
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(theirs, ours, rtol=1e-9)


@needs_sklearn
def test_cross_val_scores_match_scikit_learn_metrics_by_hand():
    from sklearn.metrics import log_loss, roc_auc_score
    from sklearn.model_selection import cross_val_score as sklearn_cross_val_score

    X, y = breast_cancer()
    X = StandardScaler().fit_transform(X)
    folds = list(StratifiedKFold(3).split(X, y))
    auc = sklearn_cross_val_score(LogisticRegression(alpha=1e-2), X, y, cv=folds, scoring="roc_auc")
    train, test = folds[1]
    model = LogisticRegression(alpha=1e-2).fit(X[train], y[train])
    assert auc[1] == pytest.approx(roc_auc_score(y[test], model.decision_function(X[test])), rel=1e-12)

    X, y = wine()  # three classes: log loss over the softmax's probabilities
    folds = list(StratifiedKFold(3).split(X, y))
    losses = sklearn_cross_val_score(LogisticRegression(alpha=1e-2), X, y, cv=folds, scoring="neg_log_loss")
    train, test = folds[2]
    model = LogisticRegression(alpha=1e-2).fit(X[train], y[train])
    assert -losses[2] == pytest.approx(log_loss(y[test], model.predict_proba(X[test])), rel=1e-12)
    np.testing.assert_allclose(losses, cross_val_score(LogisticRegression(alpha=1e-2), X, y, cv=folds,
                                                       scoring="neg_log_loss"), rtol=1e-12)


@needs_sklearn
def test_scikit_learn_clone_gives_unfitted_copies_with_their_own_optimizer():
    from sklearn.base import clone as sklearn_clone
    from sklearn.pipeline import make_pipeline

    X, y = breast_cancer(100)
    model = LogisticRegression(alpha=0.1, optimizer=SGD(lr=0.05, batch_size=8), max_epochs=5, random_state=3)
    model.fit(StandardScaler().fit_transform(X), y)
    copy = sklearn_clone(model)
    assert not hasattr(copy, "coef_") and copy is not model
    assert copy.optimizer is not model.optimizer
    assert repr(copy.get_params()) == repr(model.get_params())
    pipe = sklearn_clone(make_pipeline(StandardScaler(), model))
    assert pipe.steps[1][1].get_params()["optimizer__lr"] == 0.05
    search = SearchCV(model, {"alpha": Real(1e-3, 1.0, log=True)}, n_trials=2, cv=2)
    assert sklearn_clone(search).get_params(deep=False)["n_trials"] == 2


@needs_sklearn
def test_fitted_tunelab_steps_pickle_inside_a_pipeline():
    from sklearn.pipeline import make_pipeline

    X, y = breast_cancer(200)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_epochs=5, random_state=0))
    pipe.fit(X, y)
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict_proba(X), pipe.predict_proba(X))


@pytest.mark.skipif(SKLEARN_VERSION < (1, 6), reason="scikit-learn's Tags (get_tags) came in 1.6")
def test_tags_state_each_estimators_nature():
    from sklearn.base import is_classifier, is_regressor
    from sklearn.pipeline import make_pipeline
    from sklearn.utils import get_tags

    classifier = get_tags(LogisticRegression())
    assert classifier.estimator_type == "classifier" and classifier.target_tags.required
    assert classifier.classifier_tags.multi_class and classifier.transformer_tags is None
    assert not classifier.target_tags.multi_output and not classifier.input_tags.sparse
    assert not classifier.input_tags.allow_nan and classifier.input_tags.two_d_array
    regressor = get_tags(MLPRegressor())
    assert regressor.estimator_type == "regressor" and regressor.regressor_tags is not None
    assert regressor.target_tags.required and regressor.classifier_tags is None
    scaler = get_tags(StandardScaler())
    assert scaler.estimator_type is None and not scaler.target_tags.required
    assert scaler.transformer_tags.preserves_dtype == ["float64"]
    assert is_classifier(MLPClassifier()) and is_regressor(LinearRegression())
    assert is_classifier(make_pipeline(StandardScaler(), LogisticRegression()))
    # a search takes its estimator's nature, tunelab's or scikit-learn's
    from sklearn.linear_model import Ridge

    assert is_regressor(SearchCV(Ridge(), {"alpha": [1.0]})) and is_classifier(SearchCV(MLPClassifier(), {}))
    search_tags = get_tags(SearchCV(make_pipeline(StandardScaler(), LogisticRegression()), {}))
    assert search_tags.estimator_type == "classifier"
    assert search_tags.transformer_tags is None  # no transform: the pipeline ends in a classifier
    assert get_tags(SearchCV(LogisticRegression(), {})).target_tags.required


@pytest.mark.skipif(not (1, 3) <= SKLEARN_VERSION < (1, 6), reason="scikit-learn 1.3-1.5 read _more_tags")
def test_scikit_learn_before_1_6_reads_the_nature_from_more_tags():
    from sklearn.base import is_classifier, is_regressor
    from sklearn.utils._tags import _safe_tags

    assert _safe_tags(LogisticRegression(), "requires_y") and not _safe_tags(StandardScaler(), "requires_y")
    assert _safe_tags(MLPRegressor(), "X_types") == ["2darray"] and not _safe_tags(MLPRegressor(), "allow_nan")
    assert is_classifier(LogisticRegression()) and is_regressor(SearchCV(MLPRegressor(), {}))


def test_more_tags_state_the_nature_in_the_form_of_scikit_learn_1_5():
    """scikit-learn 1.3-1.5 merge _more_tags() into their default tags and read _estimator_type."""
    assert LogisticRegression()._estimator_type == "classifier"
    assert LogisticRegression()._more_tags() == {
        "requires_y": True, "multioutput": False, "allow_nan": False, "X_types": ["2darray"],
        "preserves_dtype": ["float64"], "poor_score": False, "non_deterministic": False}
    assert StandardScaler()._more_tags()["requires_y"] is False
    assert SearchCV(LinearRegression(), {})._estimator_type == "regressor"
    assert SearchCV(LinearRegression(), {})._more_tags()["requires_y"] is True


@needs_sklearn
def test_not_fitted_error_is_scikit_learns_too_and_pickles():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    from tunelab.core import NotFittedError

    X, _ = breast_cancer(10)
    for model in (LogisticRegression(), MLPRegressor(), StandardScaler(), SearchCV(LinearRegression(), {})):
        method = model.transform if isinstance(model, StandardScaler) else model.predict
        with pytest.raises(SklearnNotFittedError) as info:
            method(X)
        assert isinstance(info.value, NotFittedError)
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, SklearnNotFittedError) and str(again) == str(info.value)


# ------------------------------------------------------------------------- scikit-learn inside SearchCV


@needs_sklearn
def test_search_cv_over_a_scikit_learn_pipeline_agrees_with_grid_search_cv():
    from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler as SklearnStandardScaler

    X, y = breast_cancer()
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    pipe = make_pipeline(SklearnStandardScaler(), SklearnLogisticRegression(max_iter=1000))
    grid = {"logisticregression__C": [0.01, 1.0, 100.0]}
    for scoring in ("roc_auc", "neg_log_loss", "accuracy"):
        ours = SearchCV(pipe, grid, GridSearch(), cv=folds, scoring=scoring).fit(X, y)
        theirs = GridSearchCV(pipe, grid, cv=folds, scoring=scoring, error_score="raise").fit(X, y)
        np.testing.assert_allclose(split_scores(ours.cv_results_, 4), split_scores(theirs.cv_results_, 4),
                                   rtol=1e-9)
        np.testing.assert_array_equal(ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"])
        assert ours.best_params_ == theirs.best_params_
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    assert ours.classes_.tolist() == [0, 1] and ours.n_features_in_ == X.shape[1]


@needs_sklearn
def test_search_cv_over_a_mixed_pipeline_and_a_scikit_learn_regressor():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler as SklearnStandardScaler

    X, y = make_regression(n_samples=120, n_features=6, noise=0.5, random_state=0)
    folds = list(KFold(3, shuffle=True, random_state=2).split(X))
    for estimator, grid in [
        (Ridge(), {"alpha": [0.1, 10.0]}),
        (make_pipeline(SklearnStandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), optimizer=Adam(lr=0.01),
                                                             max_epochs=10, random_state=0)),
         {"mlpregressor__alpha": [1e-4, 1e-1]}),
    ]:
        ours = SearchCV(estimator, grid, GridSearch(), cv=folds).fit(X, y)
        theirs = GridSearchCV(estimator, grid, cv=folds, error_score="raise").fit(X, y)
        np.testing.assert_allclose(split_scores(ours.cv_results_, 3), split_scores(theirs.cv_results_, 3),
                                   rtol=1e-10)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)


@needs_sklearn
def test_search_cv_offers_only_the_methods_its_estimator_has():
    from sklearn.svm import LinearSVC

    X, y = breast_cancer(120)
    X = StandardScaler().fit_transform(X)
    mlp = SearchCV(MLPClassifier(hidden_layer_sizes=(4,), max_epochs=3, random_state=0), {"alpha": [1e-4]},
                   GridSearch(), cv=2)
    assert not hasattr(mlp, "decision_function") and not hasattr(mlp, "transform")
    assert hasattr(mlp, "predict_proba")
    mlp.fit(X, y)
    assert 0.0 <= cross_val_score(mlp, X, y, cv=2, scoring="roc_auc").min() <= 1.0  # through predict_proba
    svc = SearchCV(LinearSVC(), {"C": [1.0]}, GridSearch(), cv=2).fit(X, y)
    assert hasattr(svc, "decision_function") and not hasattr(svc, "predict_proba")
    scaler = SearchCV(StandardScaler(), {"with_mean": [True]}, GridSearch(), cv=2, scoring=lambda e, X, y: 0.0)
    assert hasattr(scaler, "transform") and not hasattr(scaler, "predict")
    no_refit = SearchCV(LogisticRegression(), {"alpha": [1e-3]}, GridSearch(), cv=2, refit=False).fit(X, y)
    assert not hasattr(no_refit, "predict") and not hasattr(no_refit, "n_features_in_")


def test_search_cv_error_score_raise_raises_the_first_error_as_it_came():
    X, y = breast_cancer(60)
    bad = LogisticRegression(optimizer=SGD(lr=0.1, batch_size=8), max_epochs=2)
    with pytest.raises(TypeError, match="`alpha` must be a real number"):
        SearchCV(bad, {"alpha": ["strong"]}, GridSearch(), cv=2, error_score="raise").fit(X, y)
    with pytest.raises(ValueError, match="all 1 trials failed; the first error was: TypeError"):
        SearchCV(bad, {"alpha": ["strong"]}, GridSearch(), cv=2).fit(X, y)
    with pytest.raises(ValueError, match=r"`error_score` must be 'raise' or nan .*; got 0"):
        SearchCV(bad, {"alpha": [0.1]}, GridSearch(), cv=2, error_score=0).fit(X, y)
    with pytest.raises(ValueError, match="SearchCV over LogisticRegression requires y to be passed"):
        SearchCV(bad, {"alpha": [0.1]}, GridSearch(), cv=2).fit(X)
    by_epochs = SearchCV(bad, {"alpha": ["strong", 0.1]}, GridSearch(), cv=2, resource="max_epochs",
                         pruner=SuccessiveHalving(1, 2, eta=2), error_score="raise")
    with pytest.raises(ValueError, match=r"trial 0 failed \(error_score='raise'\): TypeError: `alpha` must be"):
        by_epochs.fit(X, y)


# ------------------------------------------------------------------------- inputs as scikit-learn users give them


def test_inputs_are_checked_with_the_phrases_scikit_learn_tools_look_for():
    X, y = breast_cancer(40)
    model = LinearRegression().fit(X, y.astype(float))
    with pytest.raises(ValueError, match="X has 3 features, but LinearRegression is expecting 30 features as input"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="Reshape your data"):
        model.predict(X[0])
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(40, 0\)\) while a minimum of 1 is required"):
        LinearRegression().fit(X[:, :0], y)
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        LinearRegression().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="Complex data not supported"):
        LinearRegression().fit(X + 1j, y)
    with pytest.raises(ValueError, match="LinearRegression requires y to be passed, but the target y is None"):
        LinearRegression().fit(X, None)


def test_object_arrays_of_numbers_are_numbers_and_other_objects_are_refused():
    X, y = breast_cancer(60)
    as_objects = LogisticRegression().fit(X.astype(object), y)
    np.testing.assert_array_equal(as_objects.coef_, LogisticRegression().fit(X, y).coef_)
    X_bad = X.astype(object)
    X_bad[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="`X` must be numeric; could not convert its objects.*argument must be"):
        LogisticRegression().fit(X_bad, y)
    X_bad[0, 0] = "high"
    with pytest.raises(ValueError, match="`X` must be numeric; could not convert its objects"):
        LogisticRegression().fit(X_bad, y)


def test_sparse_input_is_refused_with_a_message_naming_it():
    sparse = pytest.importorskip("scipy.sparse")
    X, y = breast_cancer(40)
    for fmt in ("csr", "coo"):
        with pytest.raises(TypeError, match=r"`X` is a sparse matrix \(.*\); tunelab needs dense data"):
            LogisticRegression().fit(sparse.random(40, 5, density=0.3, format=fmt, random_state=0), y)
    with pytest.raises(TypeError, match="sparse matrix"):
        SearchCV(LogisticRegression(), {"alpha": [0.1]}, GridSearch(), cv=2, error_score="raise").fit(
            sparse.csr_matrix(X), y)


def test_a_column_vector_y_warns_and_fits_as_its_ravel():
    from tunelab.core.validation import DataConversionWarning

    X, y = breast_cancer(80)
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed when a 1d array was expected"):
        column = LogisticRegression().fit(X, y[:, None])
    np.testing.assert_array_equal(column.coef_, LogisticRegression().fit(X, y).coef_)


# ------------------------------------------------------------------------- without scikit-learn


def test_tunelab_imports_and_runs_when_scikit_learn_cannot_be_imported():
    code = textwrap.dedent("""
        import sys
        sys.modules["sklearn"] = None  # any `import sklearn...` now raises ImportError
        import numpy as np
        from tunelab.core import LogisticRegression, NotFittedError, StandardScaler, cross_val_score, load_wine
        from tunelab.searchers import GridSearch, SearchCV
        X, y = load_wine()
        X = StandardScaler().fit_transform(X)
        print(round(cross_val_score(LogisticRegression(), X, y, cv=3, scoring="neg_log_loss").mean(), 6))
        search = SearchCV(LogisticRegression(), {"alpha": [1e-3, 1e-1]}, GridSearch(), cv=3).fit(X, y)
        print(search.best_params_, type(search.predict(X[:2])).__name__)
        print(LogisticRegression().estimator_tags()["estimator_type"], LogisticRegression()._more_tags()["requires_y"])
        try:
            LogisticRegression().predict(X)
        except NotFittedError as exc:
            print(type(exc).__name__)
        try:
            LogisticRegression().__sklearn_tags__()
        except ImportError:
            print("tags need scikit-learn")
        print(any(name == "sklearn" or name.startswith("sklearn.") for name, module in sys.modules.items()
                  if module is not None))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert float(out[0]) < 0.0
    assert out[1].startswith("{'alpha': ") and out[1].endswith("ndarray")
    assert out[2:6] == ["classifier True", "NotFittedError", "tags need scikit-learn", "False"]


def test_tunelab_never_imports_scikit_learn_on_its_own():
    code = textwrap.dedent("""
        import sys
        from tunelab.core import StandardScaler, LogisticRegression, cross_validate, is_classifier, load_wine
        from tunelab.searchers import GridSearch, SearchCV
        X, y = load_wine()
        assert not is_classifier(StandardScaler())
        cross_validate(StandardScaler(), X, cv=3, scoring=lambda est, X, y: 0.0)
        SearchCV(StandardScaler(), {"with_mean": [True, False]}, GridSearch(), cv=3,
                 scoring=lambda est, X, y: 0.0).fit(X)
        SearchCV(LogisticRegression(), {"alpha": [1e-2]}, GridSearch(), cv=3).fit(X, y).predict(X)
        try:
            LogisticRegression().predict(X)
        except ValueError:
            pass
        print(sorted(name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
