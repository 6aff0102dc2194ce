"""The Searcher interface: a searcher proposes points, the study owns everything else.

The study owns the loop, the trials, the storage, parallelism and the objective; a searcher owns only
its strategy. Write one in four methods::

    class MySearcher(Searcher):
        def __init__(self, n_initial=10):  # hyperparameters only, stored under their own names
            self.n_initial = n_initial
        def setup(self, space, seed):      # once per study, before the first ask
            super().setup(space, seed)     # sets self.space, self.seed; check the space suits you here
        def ask(self, n, history):         # up to n new params dicts
            U, y = history.observations()  # (m, d) points in [0, 1]^d and (m,) losses, lower is better
            u = ...                        # (d,) in [0, 1]^d
            return [self.space.decode(u)]
        def tell(self, trial, history):    # optional: a hint after each finished trial
            pass

The contract (tests/searcher_contract.py checks it for every searcher):

1. The constructor stores hyperparameters only (scikit-learn's contract: `get_params`/`set_params`
   come from `ParamsMixin`). The study works on `clone(searcher)`, never on the caller's object.
2. `setup(space, seed)` is called once, before any `ask`. `seed` is an int fixed for the study (kept in
   storage, so a resumed study has the same one). Raise a ValueError there, with advice, if the space
   does not suit the searcher (e.g. a categorical dimension given to a searcher for real vectors).
   In a define-by-run study (`space.define_by_run`) the space starts empty and grows: `setup` is called
   again with the grown space before the next `ask` (never `ask` on an empty space), so a searcher keeps
   nothing that `setup` and the history cannot rebuild.
3. `ask(n, history)` returns a list of at most n params dicts, each inside the space; the k-th becomes
   trial number `history.next_number + k`. Returning fewer than n says the search is exhausted (the
   study stops when nothing is running and nothing new comes). `history` holds every trial so far,
   including the running ones (`history.pending()`): propose points that differ from those.
4. Work in the unit cube: `history.observations()` gives encoded points and losses; decode proposals
   with `self.space.decode(u)`. Losses are always minimised: the study flips the sign for "maximize".
   In a conditional space (`space.is_conditional`) a params dict holds exactly its active dimensions:
   `decode` gives them, and `encode` sets each inactive coordinate to a fixed point (`space.inactive_units`);
   `space.active_mask(U)` says which coordinates count (tunelab.searchers.space). The class docstring says
   how the searcher treats conditional spaces and define-by-run studies, and `ConditionalSearcherContract`
   (tests/searcher_contract.py) checks it.
   In a study of several objectives (`history.n_objectives > 1`) a trial has a loss vector:
   `history.loss_vectors()` gives U and Y (m, k), loss_i = signs_i * value_i, all minimised. A searcher
   that can use them sets the class attribute `multi_objective = True` (one that ignores the losses,
   as RandomSearch, too); the study refuses the others.
5. The state is rebuildable from the history: the proposals must be a function of (hyperparameters,
   space, seed, history) only, so that a resumed study, or a study run with another number of parallel
   workers, continues as if never interrupted. Draw randomness from `self.rng(key...)` keyed by e.g.
   `history.next_number`, not from a generator carried from one call to the next. A cache is fine if it
   is rebuilt when the history is not the one it was built from.
6. `tell(trial, history)` is optional: it is called once per trial finished in this process, so after a
   resume, or with several processes writing one study, a searcher that relied on it would miss trials.
   Use it for bookkeeping only; `ask` must rebuild from `history`.
7. `size()` may return the number of distinct points the searcher will ever propose (a grid), else None.
8. `cv_objective(estimator, X, y, splits, scoring)` is optional: `SearchCV` asks the searcher (after
   `setup`) for the objective its trials run, and uses the mean cross-validated score when it returns
   None (the default). A searcher that reads more than the score from each trial builds it here
   (HypergradientSearch returns a HypergradientCV, which keeps the hypergradient with the trial).
"""

import numpy as np

from tunelab.optimizers.params import ParamsMixin
from tunelab.searchers.trial import TrialState


class History:
    """A read-only view of a study's trials for a searcher: `trials[i].number == i`.

    `sign` is +1 for "minimize" and -1 for "maximize": loss = sign * value, always minimised.
    `budget` is the total number of trials the study plans (trials so far + `n_trials` of the current
    `optimize` call), or None when unknown. `signs` (k,): one sign per objective (sign alone when there
    is one objective, whose value is `trial.value`; with several, `trial.objective_values`).
    """

    __slots__ = ("space", "trials", "sign", "budget", "signs")

    def __init__(self, space, trials, sign=1.0, budget=None, signs=None):
        self.space, self.trials, self.sign, self.budget = space, trials, float(sign), budget
        self.signs = np.array([self.sign] if signs is None else signs, dtype=np.float64)  # (k,)

    @property
    def n_objectives(self):
        return len(self.signs)

    def _single(self, what):
        if self.n_objectives > 1:
            raise ValueError(f"{what} gives one loss per trial, but this study has {self.n_objectives} objectives: "
                             "use history.loss_vectors() (a searcher for several objectives, e.g. NSGA2Search).")

    @property
    def next_number(self):
        """The number the next asked trial will get."""
        return len(self.trials)

    def __len__(self):
        return len(self.trials)

    def with_state(self, *states):
        return [t for t in self.trials if t.state in states]

    def complete(self):
        return self.with_state(TrialState.COMPLETE)

    def running(self):
        return self.with_state(TrialState.RUNNING)

    def loss(self, trial):
        """sign * value: the quantity searchers minimise."""
        self._single("loss(trial)")
        return self.sign * trial.value

    def loss_vector(self, trial):
        """signs * (the trial's objective values) (k,), or None when it has none (running, failed, pruned)."""
        values = [trial.value] if self.n_objectives == 1 else trial.objective_values
        if values is None or values[0] is None:
            return None
        return self.signs * np.asarray(values, dtype=np.float64)

    def loss_vectors(self, states=(TrialState.COMPLETE,)):
        """U (m, d) encoded params and Y (m, k) loss vectors of the trials in `states` that have values."""
        done = [(t, self.loss_vector(t)) for t in self.trials if t.state in states]
        done = [(t, f) for t, f in done if f is not None]
        U = self.space.encode_many([t.params for t, _ in done])  # (m, d)
        Y = np.array([f for _, f in done], dtype=np.float64).reshape(len(done), self.n_objectives)  # (m, k)
        return U, Y

    def observations(self, states=(TrialState.COMPLETE,)):
        """U (m, d) encoded params and y (m,) losses of the trials in `states` (complete ones by default)."""
        self._single("observations()")
        done = [t for t in self.trials if t.state in states and t.value is not None]
        U = self.space.encode_many([t.params for t in done])  # (m, d)
        y = np.array([self.sign * t.value for t in done], dtype=np.float64)  # (m,)
        return U, y

    def pending(self):
        """Encoded params of the running trials; (r, d). (A copy of each params dict is read: a define-by-run
        trial running in another thread may be adding names to it.)"""
        return self.space.encode_many([dict(t.params) for t in self.running()])

    def best(self):
        """The complete trial with the least loss, or None."""
        self._single("best()")
        done = self.complete()
        return min(done, key=self.loss) if done else None

    def frozen(self):
        """A copy that no longer follows the study (sent to other processes with a trial)."""
        return History(self.space, [t.copy() for t in self.trials], self.sign, self.budget, self.signs)


class Searcher(ParamsMixin):
    """Base class of every searcher; see the module docstring for the contract."""

    space = None
    seed = None
    multi_objective = False  # True: works in a study of several objectives (see the module docstring)

    def setup(self, space, seed):
        """Called once by the study before any ask. `seed` is an int."""
        self.space = space
        self.seed = int(seed)

    def ask(self, n, history):
        """Up to n new params dicts; the k-th becomes trial `history.next_number + k`."""
        raise NotImplementedError

    def tell(self, trial, history):
        """Optional hint: `trial` just finished (complete, failed or pruned)."""

    def size(self):
        """The number of distinct points this searcher will ever propose, or None if unbounded."""
        return None

    def cv_objective(self, estimator, X, y, splits, scoring):
        """The objective `SearchCV` runs for this searcher, `objective(trial) -> score` (higher is better),
        on the fixed folds `splits` (a list of (train, test) index pairs) with `scoring` (None, a scorer
        name or a callable); None (the default) for the mean cross-validated score."""
        return None

    def rng(self, *key):
        """A Generator determined by (study seed, key): the same key gives the same stream, on resume too."""
        if self.seed is None:
            raise RuntimeError(f"{type(self).__name__}.setup(space, seed) must be called before drawing numbers.")
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=tuple(int(k) for k in key)))
