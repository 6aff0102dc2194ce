"""tunelab.core: data checks, datasets, metrics, splits and cross-validation, scaling, and the models.

The models (LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor) follow scikit-learn's
estimator contract; their loss-and-gradient kernels (`tunelab.core.kernels`) are Numba code fitted by
`tunelab.optimizers`, and their shared training (`tunelab.core.training`) also hands a fitted model's
training problem to gradient-based hyperparameter search (`training_problem`, `set_weights`).
A fit that runs out of epochs before its stopping rule is met warns with `ConvergenceWarning`.

`__version__` is tunelab's version, read from the installed package's metadata.
"""

from importlib import metadata as _metadata

from tunelab.core import _compile_notice

from tunelab.core.validation import ConvergenceError, DataConversionWarning, NotFittedError, is_class_labels
from tunelab.optimizers import ConvergenceWarning
from tunelab.core.base import BaseEstimator, clone, is_classifier
from tunelab.core.datasets import (
    load_breast_cancer, load_digits, load_wine, make_classification, make_moons, make_regression, make_xor,
)
from tunelab.core.linear_model import LinearRegression, LogisticRegression
from tunelab.core.metrics import (
    accuracy_score, confusion_matrix, f1_score, get_scorer, get_scorer_names, log_loss, mean_absolute_error,
    mean_squared_error, precision_score, r2_score, recall_score, roc_auc_score,
)
from tunelab.core.metrics import (
    UndefinedMetricWarning, auc, average_precision_score, check_scoring, classification_report,
    precision_recall_curve, roc_curve,
)
from tunelab.core.model_selection import (
    KFold, StratifiedKFold, check_cv, cross_val_score, cross_validate, train_test_split,
)
from tunelab.core.model_selection import learning_curve, validation_curve
from tunelab.core.neural_network import MLPClassifier, MLPRegressor
from tunelab.core.preprocessing import StandardScaler

_compile_notice.install()  # one line on stderr when kernels compile for this machine (never on a cache load)

try:
    __version__ = _metadata.version("tunelab")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor", "StandardScaler",
    "BaseEstimator", "clone", "is_classifier", "is_class_labels", "ConvergenceError", "ConvergenceWarning",
    "NotFittedError", "DataConversionWarning",
    "make_classification", "make_regression", "make_moons", "make_xor", "load_digits", "load_breast_cancer",
    "load_wine",
    "accuracy_score", "precision_score", "recall_score", "f1_score", "confusion_matrix", "log_loss",
    "roc_auc_score", "mean_squared_error", "mean_absolute_error", "r2_score", "get_scorer", "get_scorer_names",
    "train_test_split", "KFold", "StratifiedKFold", "check_cv", "cross_validate", "cross_val_score",
    "classification_report", "roc_curve", "precision_recall_curve", "average_precision_score", "auc",
    "check_scoring", "UndefinedMetricWarning", "learning_curve", "validation_curve",
]
