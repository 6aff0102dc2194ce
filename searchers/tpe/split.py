"""The split of TPE: which trials are good (build l(u)), which bad (build g(u)), and their kernel weights.

With n finished trials (complete or pruned; failed ones carry no loss and are left out):

    n_good = min(ceil(gamma n), max_good)                 ("linear"; Optuna: gamma = 0.1, max_good = 25)
           = min(ceil(gamma sqrt n), max_good)            ("sqrt"; Hyperopt: gamma = 0.25)

The good trials are the n_good complete trials of least loss (ties by trial number); when fewer trials are
complete, the pruned ones that went furthest (then by their last reported loss) fill the rest, as in
Optuna. Every other finished trial is bad, and so is every running trial (the constant liar: a trial still
running is assumed bad, so that parallel workers do not all propose the same region; Ginsbourger, Le Riche
& Carraro 2010; Optuna's `constant_liar`). Both groups are kept in trial-number order.

Kernel weights of a group of n trials, oldest first (Watanabe 2023, sec. 3.3):

    "old_decay"  1 for the 25 newest, a ramp from 1/n up to 1 for the older ones (Optuna's default weights)
    "uniform"    1 for every trial (Hyperopt)
    "ei"         good trial i gets max(y* - y_i, 1e-12), y* the least loss of the bad group, and the prior
                 the mean of those weights: l(u) then weighs each good trial by its improvement over the
                 bad ones, as expected improvement does; the bad group stays uniform
"""

import math
from typing import NamedTuple

import numpy as np

from tunelab.searchers.trial import TrialState

GAMMA_RULES = ("linear", "sqrt")
WEIGHT_RULES = ("old_decay", "uniform", "ei")
_FLAT = 25  # the newest trials that keep weight 1 under "old_decay"


def n_good(n, gamma, rule="linear", max_good=25):
    """The number of good trials among n finished ones."""
    k = math.ceil(gamma * (n if rule == "linear" else math.sqrt(n)))
    return int(min(k, max_good))


def decay_weights(n, rule="old_decay"):
    """Weights of n trials in number order, oldest first; (n,)."""
    if rule != "old_decay" or n < _FLAT:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, n - _FLAT), np.ones(_FLAT)])


class Split(NamedTuple):
    """Trial numbers of the good and bad groups (ascending), the good trials' losses, y* (the least loss of
    the bad complete trials, inf when there is none), the number of finished trials split, and with several
    objectives the good trials' loss vectors (n_good, k) (None with one)."""

    good: np.ndarray
    bad: np.ndarray
    good_losses: np.ndarray
    threshold: float
    n_finished: int
    good_vectors: np.ndarray = None


def _pruned_rank(trial, sign):
    """Pruned trials rank by the furthest step reached, then by their last reported loss."""
    steps = trial.intermediate_values
    if not steps:
        return (1, 0.0, trial.number)
    last = max(steps)
    return (-last, sign * steps[last], trial.number)


def split(history, gamma, rule="linear", max_good=25, constant_liar=True):
    """The good and bad trials of `history` (see the module docstring); a `Split`."""
    trials = history.trials
    state = [t.state for t in trials]
    complete = np.array([i for i, s in enumerate(state) if s is TrialState.COMPLETE], dtype=np.int64)
    pruned = [trials[i] for i, s in enumerate(state) if s is TrialState.PRUNED]
    loss = history.sign * np.array([trials[i].value for i in complete], dtype=np.float64)
    ranked = complete[np.lexsort((complete, loss))]  # by loss, then by number
    pruned.sort(key=lambda t: _pruned_rank(t, history.sign))
    ranked = np.concatenate([ranked, np.array([t.number for t in pruned], dtype=np.int64)])
    k = n_good(ranked.shape[0], gamma, rule, max_good)
    good = np.sort(ranked[:k])
    bad = ranked[k:]
    if constant_liar:
        bad = np.concatenate([bad, [i for i, s in enumerate(state) if s is TrialState.RUNNING]]).astype(np.int64)
    losses = np.full(len(trials), np.inf)
    losses[complete] = loss
    bad_losses = losses[bad]
    threshold = float(bad_losses.min()) if bad.shape[0] else np.inf
    return Split(good, np.sort(bad), losses[good], threshold, int(ranked.shape[0]))


def good_weights(split_, rule, prior_weight):
    """(weights of the good trials, prior weight) under `rule`."""
    n = split_.good.shape[0]
    if rule != "ei" or not np.isfinite(split_.threshold) or n == 0:
        return decay_weights(n, rule), prior_weight
    improvement = np.where(np.isfinite(split_.good_losses), split_.threshold - split_.good_losses, 0.0)
    w = np.maximum(improvement, 1e-12)
    return w, float(w.mean())
