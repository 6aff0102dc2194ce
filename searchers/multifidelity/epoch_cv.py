"""EpochCV: the resumable cross-validation objective the multi-fidelity loops train estimators with.

`objective(trial, state, epochs) -> (mean test score, state)`: the state is one model per fold, trained
`epochs` more epochs at each call (by `partial_fit`, or `fit` with warm_start), so that successive
halving, Hyperband and ASHA (halving.py) never train an epoch twice.
"""

import numpy as np

from tunelab.core.base import clone, is_classifier
from tunelab.core.metrics import check_scoring
from tunelab.core.model_selection import check_cv
from tunelab.searchers.trial import set_cv_attrs


class EpochCV:
    """A resumable objective for an estimator trained by epochs, scored by cross-validation on fixed folds:
    `objective(trial, state, epochs) -> (mean test score, state)`, higher is better (use a study with
    direction="maximize").

    The state is one model per fold, clone(estimator).set_params(**trial.params). Each call trains every
    fold's model `epochs` more epochs: by `partial_fit(X, y, epochs=epochs)` (with `classes` on a
    classifier), or, for an estimator without it, by `fit` with warm_start=True and {resource: epochs}.
    The per-fold scores are kept with the trial by `set_cv_attrs`.
    cv : int, splitter or list of (train, test) pairs (see tunelab.core.model_selection.check_cv).
    scoring : None (the estimator's `score`), a scorer name or a callable scorer(estimator, X, y).
    """

    def __init__(self, estimator, X, y, cv=5, scoring=None, resource="max_epochs"):
        if not isinstance(resource, str) or resource not in estimator.get_params():
            raise ValueError(f"`resource` must name a parameter of {type(estimator).__name__} counting epochs "
                             f"(e.g. 'max_epochs'); got {resource!r}.")
        self.estimator, self.resource = estimator, resource
        self.X, self.y = np.asarray(X), np.asarray(y)
        self.classifier = is_classifier(estimator)
        self.classes = np.unique(self.y) if self.classifier else None
        self.splits = list(check_cv(cv, self.y, classifier=self.classifier).split(self.X, self.y))
        self.scorer = check_scoring(estimator, scoring)

    def _train(self, model, X, y, epochs):
        if hasattr(model, "partial_fit"):
            if self.classifier:
                model.partial_fit(X, y, classes=self.classes, epochs=epochs)
            else:
                model.partial_fit(X, y, epochs=epochs)
        else:
            model.set_params(warm_start=True, **{self.resource: epochs})
            model.fit(X, y)

    def __call__(self, trial, state, epochs):
        if self.resource in trial.params:
            raise ValueError(f"{self.resource!r} is the resource the pruner sets; leave it out of the space.")
        if state is None:
            state = [clone(self.estimator).set_params(**trial.params) for _ in self.splits]
        scores = []
        for model, (train, test) in zip(state, self.splits):
            self._train(model, self.X[train], self.y[train], epochs)
            scores.append(float(self.scorer(model, self.X[test], self.y[test])))
        set_cv_attrs(trial, scores)
        return float(np.mean(scores)), state
