"""Base classes of tunelab's estimators: scikit-learn's contract, written once.

Besides get_params/set_params/clone, an estimator describes its nature to scikit-learn by tags: whether it is
a classifier or a regressor, a transformer, whether fit needs y, whether y may have several columns, what
X may hold. `BaseEstimator.estimator_tags()` states them as a plain dict, with no scikit-learn import;
`__sklearn_tags__` (read by scikit-learn >= 1.6) and `_more_tags` (read by scikit-learn 1.3-1.5) translate
that dict into each version's form, importing scikit-learn only when scikit-learn itself calls them.
"""

import numpy as np

from tunelab.optimizers.params import ParamsMixin, clone  # noqa: F401  (clone is re-exported)


class BaseEstimator(ParamsMixin):
    """Constructor stores hyperparameters only; `fit` returns self; fitted attributes end in `_`."""

    def estimator_tags(self):
        """This estimator's nature in scikit-learn's terms, as a dict (no scikit-learn needed):

        estimator_type    "classifier", "regressor" or None (from ClassifierMixin / RegressorMixin);
        transformer       True when it has `transform`;
        requires_y        True when fit needs y (classifiers and regressors);
        multi_output      True when y may have several columns (tunelab's models: a single output);
        allow_nan, sparse whether X may hold NaN, or be a scipy sparse matrix (tunelab's models: neither);
        preserves_dtype   the dtypes `transform` keeps (tunelab computes in float64);
        poor_score, non_deterministic   as scikit-learn's tags of the same names.

        Subclasses override the entries that differ (e.g. a search copies its estimator's).
        """
        kind = getattr(self, "_estimator_type", None)
        return {
            "estimator_type": kind,
            "transformer": callable(getattr(self, "transform", None)),
            "requires_y": kind in ("classifier", "regressor"),
            "multi_output": False,
            "allow_nan": False,
            "sparse": False,
            "preserves_dtype": ["float64"],
            "poor_score": False,
            "non_deterministic": False,
        }

    def __sklearn_tags__(self):
        """estimator_tags() as scikit-learn's Tags (scikit-learn >= 1.6 calls this, so it is installed)."""
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags, TransformerTags

        t = self.estimator_tags()
        kind = t["estimator_type"]
        return Tags(
            estimator_type=kind,
            target_tags=TargetTags(required=t["requires_y"], multi_output=t["multi_output"]),
            transformer_tags=TransformerTags(preserves_dtype=list(t["preserves_dtype"])) if t["transformer"] else None,
            classifier_tags=ClassifierTags(poor_score=t["poor_score"]) if kind == "classifier" else None,
            regressor_tags=RegressorTags(poor_score=t["poor_score"]) if kind == "regressor" else None,
            non_deterministic=t["non_deterministic"],
            input_tags=InputTags(two_d_array=True, sparse=t["sparse"], allow_nan=t["allow_nan"]),
        )

    def _more_tags(self):
        """estimator_tags() as the dict scikit-learn 1.3-1.5 merges into its default tags."""
        t = self.estimator_tags()
        return {
            "requires_y": t["requires_y"],
            "multioutput": t["multi_output"],
            "allow_nan": t["allow_nan"],
            "X_types": ["2darray", "sparse"] if t["sparse"] else ["2darray"],
            "preserves_dtype": list(t["preserves_dtype"]),
            "poor_score": t["poor_score"],
            "non_deterministic": t["non_deterministic"],
        }


class ClassifierMixin:
    """`score` is the mean accuracy, as in scikit-learn."""

    _estimator_type = "classifier"

    def score(self, X, y):
        """Mean accuracy of predict(X) against the labels y, in [0, 1]."""
        from tunelab.core.metrics import accuracy_score

        return accuracy_score(y, self.predict(X))


class RegressorMixin:
    """`score` is the coefficient of determination R^2, as in scikit-learn."""

    _estimator_type = "regressor"

    def score(self, X, y):
        """R^2 = 1 - sum (y - predict(X))^2 / sum (y - mean y)^2 (1 is perfect; it can be negative)."""
        from tunelab.core.metrics import r2_score

        return r2_score(y, self.predict(X))


def estimator_type(estimator):
    """"classifier", "regressor" or None: from `_estimator_type` (tunelab's estimators, scikit-learn < 1.6) or
    from scikit-learn's tags (scikit-learn >= 1.6, where its estimators and pipelines declare it there only)."""
    kind = getattr(estimator, "_estimator_type", None)
    if kind is not None or isinstance(estimator, BaseEstimator):  # tunelab's own: never import scikit-learn
        return kind
    tags = getattr(estimator, "__sklearn_tags__", None)
    try:
        return tags().estimator_type if callable(tags) else None
    except Exception:  # foreign or partial tag implementations: no type as far as we can tell
        return None


def is_classifier(estimator):
    """True for tunelab's classifiers and scikit-learn's (which declare their type in tags since 1.6)."""
    return estimator_type(estimator) == "classifier"


def encode_labels(y):
    """Map labels of any type to 0..K-1; returns (classes, codes) with classes sorted (np.unique)."""
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    return classes, codes.astype(np.int64)
