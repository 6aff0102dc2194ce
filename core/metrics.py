"""Classification, ranking and regression metrics, and the scorers that cross-validation and the searchers call.

Semantics follow scikit-learn's `sklearn.metrics` (same names, arguments and edge cases) and are written
with numpy only. Labels may be of any type (ints, strings, bools), but not a mix of strings and numbers.
A metric whose value is undefined for the data it met (a 0/0, a label absent from the data, a single
class) warns with `UndefinedMetricWarning`, as scikit-learn does. The metrics live in `_classification.py`,
`_ranking.py` (curves, ROC AUC, average precision) and `_regression.py`; this module exports them.

A scorer is a callable `scorer(estimator, X, y) -> float` for which HIGHER IS BETTER: losses appear
negated ("neg_log_loss", "neg_mean_squared_error"). `check_scoring(estimator, scoring, y=y)` refuses,
before any fit, a scorer that cannot score the target (a binary-only scorer on a multiclass y).
"""

from types import MappingProxyType

import numpy as np

from tunelab.core._classification import (  # noqa: F401  (re-exported)
    accuracy_score, classification_report, confusion_matrix, f1_score, log_loss, precision_score, recall_score,
)
from tunelab.core._metric_inputs import UndefinedMetricWarning, is_text, target_type  # noqa: F401
from tunelab.core._ranking import (  # noqa: F401  (re-exported)
    auc, average_precision_score, precision_recall_curve, roc_auc_score, roc_curve,
)
from tunelab.core._regression import mean_absolute_error, mean_squared_error, r2_score  # noqa: F401
from tunelab.core.base import is_classifier
from tunelab.core.validation import check_choice

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "confusion_matrix", "precision_score", "recall_score", "f1_score",
    "classification_report", "log_loss", "roc_auc_score", "roc_curve", "precision_recall_curve",
    "average_precision_score", "auc", "mean_squared_error", "mean_absolute_error", "r2_score", "Scorer",
    "make_scorer", "SCORERS", "get_scorer", "get_scorer_names", "check_scoring",
]


def _threshold_score(estimator, X):
    """A continuous score: decision_function, else predict_proba; a binary (n, 2) reduced to its column 1
    (the score of estimator.classes_[1]); a multiclass (n, K) kept whole."""
    if hasattr(estimator, "decision_function"):
        s = np.asarray(estimator.decision_function(X))
    elif hasattr(estimator, "predict_proba"):
        s = np.asarray(estimator.predict_proba(X))
    else:
        raise TypeError(f"This scorer needs decision_function or predict_proba; "
                        f"{type(estimator).__name__} has neither.")
    return s[:, 1] if s.ndim == 2 and s.shape[1] == 2 else s


_RESPONSES = {
    "predict": lambda est, X: est.predict(X),
    "predict_proba": lambda est, X: est.predict_proba(X),
    "threshold": _threshold_score,
}

_BINARY = ("binary",)
_CLASSES = ("binary", "multiclass")
_NUMBERS = ("binary", "multiclass", "continuous", "continuous-multioutput")


def _targets_of(metric, kwargs):
    """The target kinds (target_type) `metric` can score with these keyword arguments; None if unknown."""
    if metric in (precision_score, recall_score, f1_score):
        return _BINARY if kwargs.get("average", "binary") == "binary" else _CLASSES
    if metric is roc_auc_score:
        return _BINARY if kwargs.get("multi_class", "raise") == "raise" else _CLASSES
    if metric in (accuracy_score, log_loss, average_precision_score):
        return _CLASSES
    if metric in (mean_squared_error, mean_absolute_error, r2_score):
        return _NUMBERS
    return None


class Scorer:
    """scorer(estimator, X, y) = sign * metric(y, response(estimator, X), **kwargs); higher is better.

    response: "predict", "predict_proba" (the (n, K) matrix; `labels=estimator.classes_` is passed to the
    metric when `pass_classes`) or "threshold" (decision_function or predict_proba: (n,) for a binary
    estimator, (n, K) for a multiclass one). sign = -1 turns a loss into a score. `targets` lists the
    target kinds (tunelab.core.metrics' target_type) the metric accepts, None when unknown.
    """

    greater_is_better = True  # always, for the value returned: losses are negated

    def __init__(self, name, metric, response="predict", sign=1, pass_classes=False, **kwargs):
        self.name = name
        self.metric = metric
        self.response = check_choice(response, "response_method", tuple(_RESPONSES))
        self.sign = sign
        self.pass_classes = pass_classes
        self.kwargs = kwargs
        self.targets = _targets_of(metric, kwargs)

    def __call__(self, estimator, X, y):
        classes = getattr(estimator, "classes_", None)
        if self.targets == _BINARY and classes is not None and len(classes) > 2:
            raise ValueError(f"The {self.name!r} scorer is for binary targets only; the estimator has "
                             f"{len(classes)} classes. {_multiclass_hint(self)}")
        y_hat = _RESPONSES[self.response](estimator, X)
        kwargs = dict(self.kwargs)
        if self.pass_classes and classes is not None:
            kwargs["labels"] = classes
        return float(self.sign * self.metric(y, y_hat, **kwargs))

    def __repr__(self):
        return f"Scorer({self.name!r})"


def make_scorer(score_func, *, greater_is_better=True, response_method="predict", name=None, **kwargs):
    """Wrap `score_func(y_true, y_hat, **kwargs)` as a scorer; a loss (greater_is_better=False) is negated."""
    if not callable(score_func):
        raise TypeError(f"`score_func` must be callable; got {score_func!r}.")
    name = name or getattr(score_func, "__name__", "custom")
    return Scorer(name, score_func, response_method, 1 if greater_is_better else -1, **kwargs)


def _build_registry():
    r = {
        "accuracy": Scorer("accuracy", accuracy_score),
        "neg_log_loss": Scorer("neg_log_loss", log_loss, "predict_proba", sign=-1, pass_classes=True),
        "roc_auc": Scorer("roc_auc", roc_auc_score, "threshold"),
        "average_precision": Scorer("average_precision", average_precision_score, "threshold"),
        "neg_mean_squared_error": Scorer("neg_mean_squared_error", mean_squared_error, sign=-1),
        "neg_mean_absolute_error": Scorer("neg_mean_absolute_error", mean_absolute_error, sign=-1),
        "r2": Scorer("r2", r2_score),
    }
    for multi_class in ("ovr", "ovo"):
        for average in ("macro", "weighted"):
            name = f"roc_auc_{multi_class}" + ("_weighted" if average == "weighted" else "")
            r[name] = Scorer(name, roc_auc_score, "predict_proba", pass_classes=True, multi_class=multi_class,
                             average=average)
    for metric_name, metric in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        r[metric_name] = Scorer(metric_name, metric)  # binary, pos_label=1
        for average in ("micro", "macro", "weighted"):
            name = f"{metric_name}_{average}"
            r[name] = Scorer(name, metric, average=average)
    return dict(sorted(r.items()))


SCORERS = MappingProxyType(_build_registry())  # name -> Scorer, read-only


def get_scorer_names():
    """Sorted list of the scorer names accepted by `get_scorer`."""
    return list(SCORERS)


def get_scorer(scoring):
    """A scorer(estimator, X, y) -> float (higher is better) from a name in SCORERS; a callable is returned as is."""
    if isinstance(scoring, str):
        if scoring not in SCORERS:
            raise ValueError(f"`scoring`={scoring!r} is not a known scorer; valid names are {', '.join(SCORERS)}.")
        return SCORERS[scoring]
    if callable(scoring):
        return scoring
    raise TypeError(f"`scoring` must be a scorer name or a callable (estimator, X, y) -> float; got {scoring!r}.")


class _EstimatorScore:
    """The estimator's own `score(X, y)` method (accuracy for classifiers, R^2 for regressors)."""

    name = "score"
    greater_is_better = True

    def __call__(self, estimator, X, y):
        return float(estimator.score(X, y))

    def __repr__(self):
        return "Scorer('score')"


def check_scoring(estimator, scoring=None, *, y=None):
    """The scorer for `scoring` (get_scorer; None: the estimator's own `score`), checked before any fit.

    Refuses a scorer whose response method the estimator lacks (TypeError: "neg_log_loss" without
    predict_proba) and, when the target `y` is given, a scorer that cannot score it (ValueError):
    a binary-only scorer ("roc_auc"; "precision", "recall", "f1" and make_scorer's with average="binary")
    on a multiclass y, with the multiclass names to use instead; a scorer of one positive label whose
    pos_label is not a label of a binary y; a classification scorer (or scoring=None for a classifier)
    on a continuous y; a regression scorer on text labels. Callables that are not tunelab Scorers are
    returned unchecked. cross_validate, the learning and validation curves and SearchCV call it first.
    """
    if scoring is None:
        if not hasattr(estimator, "score"):
            raise TypeError(f"{type(estimator).__name__} has no `score` method; pass `scoring` "
                            f"(one of {', '.join(SCORERS)}) or a callable.")
        if y is not None and is_classifier(estimator) and target_type(y).startswith("continuous"):
            raise ValueError(f"{type(estimator).__name__} is a classifier but `y` looks continuous "
                             f"({_describe(y)}); classifiers need class labels.")
        return _EstimatorScore()
    scorer = get_scorer(scoring)
    if isinstance(scorer, Scorer):
        _check_response(scorer, estimator)
        if y is not None:
            _check_target(scorer, y)
    return scorer


def _check_response(scorer, estimator):
    needs = {"predict": ("predict",), "predict_proba": ("predict_proba",),
             "threshold": ("decision_function", "predict_proba")}[scorer.response]
    if not any(hasattr(estimator, method) for method in needs):
        raise TypeError(f"The {scorer.name!r} scorer needs {' or '.join(needs)}; "
                        f"{type(estimator).__name__} has {'neither' if len(needs) > 1 else 'no ' + needs[0]}.")


def _describe(y):
    """A short description of a target for error messages: its distinct values, the first few shown."""
    y = np.asarray(y)
    try:
        values = np.unique(y)
    except TypeError:
        return f"dtype {y.dtype}"
    if values.dtype.kind == "f" and target_type(y).startswith("continuous"):
        shown = ", ".join(f"{v:.4g}" for v in values[:3])
        return f"{len(values)} distinct values such as {shown}"
    more = " ..." if len(values) > 8 else ""
    return f"{len(values)} distinct values {values[:8].tolist()}{more}"


def _multiclass_hint(scorer):
    registered = SCORERS.get(scorer.name) is scorer
    if registered and scorer.metric is roc_auc_score:
        return "Use 'roc_auc_ovr', 'roc_auc_ovo' or their '_weighted' forms."
    if registered:
        return f"Use '{scorer.name}_macro', '{scorer.name}_weighted' or '{scorer.name}_micro'."
    return "Pass average='macro' (or multi_class='ovr' for roc_auc_score) to make_scorer."


def _check_target(scorer, y):
    """Raise a ValueError naming what to use instead when `scorer` cannot score the target y."""
    if scorer.targets is None:
        return
    kind = target_type(y)
    if kind not in scorer.targets:
        if kind == "multiclass" and scorer.targets == _BINARY:
            raise ValueError(f"`scoring`={scorer.name!r} is for binary targets only, but y is multiclass "
                             f"({_describe(y)}). {_multiclass_hint(scorer)}")
        if kind.startswith("continuous"):
            raise ValueError(f"`scoring`={scorer.name!r} needs class labels, but y looks continuous "
                             f"({_describe(y)}). Use a regression scorer such as 'r2' or 'neg_mean_squared_error'.")
        raise ValueError(f"`scoring`={scorer.name!r} cannot score a target of kind {kind!r} "
                         f"(shape {np.shape(y)}, {_describe(y)}).")
    if scorer.targets == _NUMBERS and is_text(np.asarray(y).ravel()):
        raise ValueError(f"`scoring`={scorer.name!r} is a regression scorer, but y holds text labels "
                         f"({_describe(y)}). Use a classification scorer such as 'accuracy'.")
    _check_pos_label(scorer, y, kind)


def _check_pos_label(scorer, y, kind):
    """A scorer of one positive label (binary precision/recall/F1, average precision) scores pos_label
    (default 1), which must be one of the two labels of a binary y."""
    metric, kwargs = scorer.metric, scorer.kwargs
    one_label = metric is average_precision_score or (
        metric in (precision_score, recall_score, f1_score) and kwargs.get("average", "binary") == "binary")
    if kind != "binary" or not one_label:
        return
    pos_label = kwargs.get("pos_label", 1)
    classes = np.unique(np.asarray(y)).tolist()
    if len(classes) == 2 and pos_label not in classes:
        other = f", or use '{scorer.name}_macro'" if f"{scorer.name}_macro" in SCORERS else ""
        raise ValueError(f"`scoring`={scorer.name!r} scores the positive label {pos_label!r}, which is not a "
                         f"label of y ({classes}). Pass pos_label to make_scorer{other}.")
