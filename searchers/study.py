"""A study: the trials of one search, the ask/tell loop around a searcher, and their storage.

    study = Study({"lr": Real(1e-4, 1, log=True), "depth": Integer(1, 8)}, RandomSearch(), seed=0)
    study.optimize(lambda params: loss(**params), n_trials=50)
    study.best_params, study.best_value

or by hand: `trial = study.ask(); study.tell(trial, objective(trial.params))`.
The searcher always minimises a loss; for direction="maximize" the study gives it loss = -value.

Several objectives (as Optuna's `directions`): the objective returns one value per direction, kept as
`trial.objective_values`; `study.best_trials` is the Pareto front and `study.hypervolume(reference)` its
hypervolume (tunelab.searchers.pareto):

    study = Study(space, NSGA2Search(), directions=["maximize", "minimize"], seed=0)
    study.optimize(lambda p: (accuracy(p), fit_seconds(p)), n_trials=200)
    [t.objective_values for t in study.best_trials]

Define-by-run (as Optuna): a study created without a space learns it from the objective, whose
`trial.suggest_float(name, low, high)`, `suggest_int` and `suggest_categorical` add each name the first
time it is suggested (a ValueError if a name comes back with another distribution):

    study = Study(direction="minimize", seed=0)
    study.optimize(lambda trial: (trial.suggest_float("x", -5, 5) - 2) ** 2, n_trials=30)

The searcher proposes values for the names known when a trial is asked (it is set up again on the grown
space before its next `ask`); a name new to the study is drawn independently (see tunelab.searchers.trial).
A trial's params hold the names it suggested; the stored space grows with them, so `Study.load` resumes.

A loop that drives a study (`Study.optimize` in tunelab.searchers.parallel, the multi-fidelity loops in
tunelab.searchers.multifidelity) uses only its public methods: `ask_many(n, budget)` for new trials,
`record(trial, outcome, lost)` to finish one, `sign` to turn values into losses, `stop_requested` and
`clear_stop()` for `stop()`, and `len(study)` for the trials so far.
"""

import json
import numbers

import numpy as np
import threading
import time
import warnings

from tunelab.optimizers.validation import check_choice, check_random_state
from tunelab.optimizers.params import clone
from tunelab.searchers.base import History, Searcher
from tunelab.searchers.context import check_context, differences
from tunelab.searchers.pareto import hypervolume, is_pareto_efficient
from tunelab.searchers.registry import searcher_from_spec, searcher_spec
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Space
from tunelab.searchers.storage import StorageError, make_storage
from tunelab.searchers.trial import (  # noqa: F401  (wants_trial: the documented rule, importable here)
    Outcome, Trial, TrialState, attach_pruner, attach_space, check_objective, check_value, error_text, fit_to_objectives, to_csv,
    to_json, trials_table, wants_trial)

FORMAT = 1  # the layout of the meta table this version writes and reads


class SearchExhausted(RuntimeError):
    """`Study.ask()` found no new point: the searcher has proposed all it can (e.g. the whole grid)."""


def _seed_int(seed):
    """An int seed for the study, drawn from the Generator `check_random_state(seed)` (so None -> fresh)."""
    return int(check_random_state(seed, "seed").integers(0, 2**63 - 1))


def _describe(space_config):
    try:
        return repr(Space.from_config(space_config))
    except Exception:
        return json.dumps(space_config)[:300]


def _stored_space(stored, path, define_by_run=False):
    """The Space of a stored study's meta, rebuilt exactly; StorageError naming the file when it cannot be."""
    config = stored["space"]
    if isinstance(config, list) and any(isinstance(e, dict) and "choices_repr" in e for e in config):
        return Space.from_config(config, define_by_run=define_by_run)  # a ValueError that says to pass the space
    try:
        space = Space.from_config(config, define_by_run=define_by_run)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = str(exc) if isinstance(exc, ValueError) else error_text(exc)
        raise StorageError(f"{path} holds no readable study: its `space` cannot be rebuilt: {problem}") from None
    if space.config() != config:
        raise StorageError(f"{path} holds no readable study: its `space` is not in the form tunelab writes: "
                           f"{json.dumps(config)[:200]}.")
    return space


def _check_directions(direction, directions):
    """The list of directions from `direction` (one) or `directions` (several); None when neither is given."""
    if directions is None:
        if direction is not None:
            check_choice(direction, "direction", ("minimize", "maximize"))
        return None if direction is None else [direction]
    if isinstance(directions, str) or not isinstance(directions, (list, tuple)) or not directions:
        raise TypeError(f"`directions` must be a non-empty list of 'minimize'/'maximize'; got {directions!r}.")
    for k, each in enumerate(directions):
        check_choice(each, f"directions[{k}]", ("minimize", "maximize"))
    if direction is not None and [direction] != list(directions):
        raise ValueError(f"give `direction` (one objective) or `directions` (several), not both; got "
                         f"direction={direction!r}, directions={list(directions)!r}.")
    return list(directions)


def _stored_directions(stored):
    return list(stored.get("directions") or [stored["direction"]])


def _check_meta(stored, path):
    """Raise a StorageError naming the file unless the meta entries every study has are readable."""
    def unreadable(problem):
        return StorageError(f"{path} holds no readable study: {problem}")

    for key in ("format", "space", "direction", "seed"):
        if key not in stored:
            raise unreadable(f"the meta table has no `{key}`.")
    version = stored["format"]
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        raise StorageError(f"{path} was written by a newer tunelab (study format {version}; this version reads "
                           f"format {FORMAT}).")
    if version != FORMAT or isinstance(version, bool):
        raise unreadable(f"`format` must be {FORMAT}; got {version!r:.80}.")
    if stored["direction"] not in ("minimize", "maximize"):
        raise unreadable(f"`direction` must be 'minimize' or 'maximize'; got {stored['direction']!r:.80}.")
    seed = stored["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise unreadable(f"`seed` must be an integer in [0, 2**63); got {seed!r:.80}.")
    if not isinstance(stored["space"], list):
        raise unreadable(f"`space` must be a list of dimensions; got {stored['space']!r:.80}.")
    directions = stored.get("directions", [stored["direction"]])
    if (not isinstance(directions, list) or len(directions) < 1 or directions[0] != stored["direction"]
            or any(d not in ("minimize", "maximize") for d in directions)):
        raise unreadable(f"`directions` must be a list of 'minimize'/'maximize' starting with `direction`; "
                         f"got {directions!r:.80}.")
    if not isinstance(stored.get("define_by_run", False), bool):
        raise unreadable(f"`define_by_run` must be true or false; got {stored['define_by_run']!r:.80}.")
    if not isinstance(stored.get("context", {}), dict):
        raise unreadable(f"`context` must be a JSON object; got {stored['context']!r:.80}.")


class Study:
    """The trials of one search over `space`, proposed by `searcher` (default `RandomSearch()`).

    Parameters
    ----------
    space : Space or dict of name -> Real/Integer/Categorical (conditional ones included, see
        tunelab.searchers.space); None for a define-by-run study, or to reopen a stored study.
    searcher : a `Searcher`; the study works on a clone of it. A stored study rebuilds its searcher when
        none is given, from tunelab's own searchers only (`tunelab.searchers.registry`): a study file
        never runs code.
    direction : "minimize" (default) or "maximize".
    directions : a list of directions, one per objective, for a study of several objectives (the
        objective returns a tuple of that length; `best_trials` is the Pareto front). The searcher must
        handle several objectives (`multi_objective`): NSGA2Search, ParEGOSearch, RandomSearch, GridSearch.
    storage : None (in memory) or the path of an SQLite file; an existing file resumes its study
        (same space and direction required) and continues the trial numbering. A file that does not
        hold a study, or one that cannot be read, raises an error naming it (`StorageError` for its
        contents); with space=None the file must exist.
    seed : int, Generator or None. Fixes every random choice of the searcher; a stored study keeps
        its seed unless another one is given. `seeded` is True when the seed was given or comes from the
        storage (not drawn afresh); `optimize` then runs parallel trials in reproducible batches.
    pruner : an object with `should_prune(trial, history) -> bool`, consulted by `trial.should_prune()`.
    context : None, or a dict of JSON values naming what the objective's values depend on besides the
        params (data, model, metric, folds; see `check_context`). A stored study continues only in the
        same context. SearchCV and `tunelab tune` record theirs.

    A study pickles (in memory or with storage): an unpickled study with SQLite storage goes on
    writing to its file.
    """

    def __init__(self, space=None, searcher=None, direction=None, storage=None, seed=None, pruner=None,
                 context=None, directions=None):
        directions = _check_directions(direction, directions)
        if searcher is not None and not isinstance(searcher, Searcher):
            raise TypeError(f"`searcher` must be a Searcher (e.g. RandomSearch()); got {searcher!r}.")
        seed = None if seed is None else _seed_int(seed)
        space = None if space is None else Space(space)
        context = None if context is None else check_context(context)
        self.storage = make_storage(storage)
        self._lock = threading.RLock()  # ask and tell may come from several threads
        stored = self._stored_meta(space, directions, seed, searcher)
        if context is not None:
            self.check_context(context)  # first: what differs in the context explains the rest
        define_by_run = stored.get("define_by_run", False)
        if space is None:
            space = _stored_space(stored, self.storage.path, define_by_run)
        if space.define_by_run != define_by_run:
            raise ValueError(f"the storage {self.storage.path} holds a define-by-run study: open it without a space "
                             "(Study.load)." if define_by_run else
                             f"the storage {self.storage.path} holds a study over a declared space; give it or None.")
        if space.config() != stored["space"]:
            raise ValueError(f"the storage {self.storage.path} holds a study over another space: stored "
                             f"{_describe(stored['space'])}, given {space}.")
        if directions is not None and directions != _stored_directions(stored):
            if len(directions) == 1 and "directions" not in stored:
                raise ValueError(f"the stored study has direction={stored['direction']!r}; "
                                 f"got direction={directions[0]!r}.")
            raise ValueError(f"the stored study has directions={_stored_directions(stored)!r}; "
                             f"got directions={directions!r}.")
        self.space = space
        self.directions = _stored_directions(stored)
        self.direction = self.directions[0] if len(self.directions) == 1 else None
        self.seed = stored["seed"] if seed is None else seed
        from_file = searcher is None
        if from_file:
            searcher = self._stored_searcher(stored)
        elif searcher_spec(searcher) != stored.get("searcher"):
            self.storage.set_meta("searcher", searcher_spec(searcher))
        self.searcher = clone(searcher)
        if self.n_objectives > 1 and not getattr(self.searcher, "multi_objective", False):
            raise ValueError(f"{type(self.searcher).__name__} minimises one loss, and this study has "
                             f"{self.n_objectives} objectives: use NSGA2Search, ParEGOSearch, RandomSearch or GridSearch.")
        self.pruner = pruner
        self._signs = [1.0 if d == "minimize" else -1.0 for d in self.directions]
        self._sign = self._signs[0]
        self.storage.load(space)
        self._setup_searcher(from_file)
        self._searcher_space = space  # the space the searcher was set up with
        self._stop_requested = False
        self.stop_reason = None

    def _where(self):
        return f"the study file {self.storage.path}" if self.storage.path else "the stored study"

    def _stored_meta(self, space, directions, seed, searcher):
        """The meta entries of the stored study (written first for a new one), checked."""
        stored = self.storage.read_meta()
        self.seeded = seed is not None or bool(stored)  # a stored study keeps the seed of its first run
        if not stored:
            space = Space.empty_define_by_run() if space is None else space
            meta = {"format": FORMAT, "space": space.config(), "direction": (directions or ["minimize"])[0],
                    "seed": _seed_int(None) if seed is None else seed,
                    "searcher": searcher_spec(searcher or RandomSearch())}
            if space.define_by_run:
                meta["define_by_run"] = True
            if directions is not None and len(directions) > 1:
                meta["directions"] = directions
            stored = self.storage.init_meta(meta)
        _check_meta(stored, self.storage.path)
        return stored

    def _stored_searcher(self, stored):
        spec = stored.get("searcher")
        if spec is None:
            raise StorageError(f"{self._where()} keeps no searcher that can be rebuilt (its settings were not JSON "
                               "values); pass it again as `searcher=`.")
        return searcher_from_spec(spec, self._where())

    def _setup_searcher(self, from_file):
        """searcher.setup(space, seed); a searcher rebuilt from a file that fails its own checks names the file."""
        try:
            self.searcher.setup(self.space, self.seed)
        except Exception as exc:
            if not from_file:
                raise
            raise StorageError(f"{self._where()}: the searcher stored in it does not suit the study: "
                               f"{error_text(exc) if not isinstance(exc, (TypeError, ValueError)) else exc} "
                               "Pass one as `searcher=`.") from exc

    # ---- context -----------------------------------------------------------------------------------

    @property
    def context(self):
        """The recorded context: a dict of JSON values ({} when none was given)."""
        return dict(self.storage.read_meta().get("context") or {})

    def check_context(self, context):
        """Raise a ValueError naming each entry of `context` (a dict of JSON values: data fingerprints,
        model, metric, folds...) whose stored value differs; record the entries not stored yet (with a
        warning when the study already has trials, which are then taken to belong to them)."""
        context = check_context(context)
        with self._lock:
            before = self.storage.merge_meta("context", context)
        found = differences(before, context)
        if found:
            raise self._context_error(found)
        new = {k: v for k, v in context.items() if k not in before}
        n = self.storage.count()
        if new and n:
            names = ", ".join(map(repr, new))
            values = ", ".join(f"{k}={v!r:.80}" for k, v in new.items())
            where = f"the study in {self.storage.path}" if self.storage.path else "this study"
            warnings.warn(f"{where} records no context for {names}; its {n} earlier trials are taken to belong to "
                          f"{values}.", UserWarning, stacklevel=2)

    def _context_error(self, found):
        path = self.storage.path
        entries = "; ".join(f"{entry}: stored {a!r}, given {b!r}" for entry, a, b in found)
        differ = "1 entry differs" if len(found) == 1 else f"{len(found)} entries differ"
        start = "to start a new study, give another storage file (or delete " + path + ")" if path else \
            "to start a new study, create another Study"
        return ValueError(f"{'the study in ' + path if path else 'this study'} was run in another context ({differ}): "
                          f"{entries}. Its {self.storage.count()} trials do not compare with new ones; {start}.")

    # ---- pickling ----------------------------------------------------------------------------------

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @classmethod
    def load(cls, storage, searcher=None, seed=None, pruner=None):
        """Reopen the study stored at `storage` (its space, direction, seed and searcher come from the file)."""
        storage = make_storage(storage, create=False)
        if not storage.read_meta():
            raise ValueError(f"{storage.path or 'the storage'} holds no study; give a dict of dimensions to "
                             "Study(space, storage=...) to create one (or no space, for a define-by-run study).")
        return cls(None, searcher=searcher, storage=storage, seed=seed, pruner=pruner)

    @property
    def n_objectives(self):
        """The number of objectives (len(directions))."""
        return len(self.directions)

    # ---- ask / tell ----------------------------------------------------------------------------

    @property
    def sign(self):
        """+1.0 for direction="minimize", -1.0 for "maximize": loss = sign * value is what searchers minimise
        (the first objective's when there are several; `signs` has one per objective)."""
        return self._sign

    @property
    def signs(self):
        """One sign per objective (a list): loss_i = signs[i] * value_i."""
        return list(self._signs)

    def history(self, budget=None):
        """The trials so far, running ones included, as the searcher sees them (a `History`; `budget`: the
        total number of trials planned, or None)."""
        return History(self.space, self.storage.trials, self._sign, budget, self._signs)

    # ---- define-by-run --------------------------------------------------------------------------

    def _sync_space(self):
        """Take the stored space of a define-by-run study, which other processes may have grown."""
        with self._lock:
            stored = self.storage.read_meta()["space"]
            if len(stored) > len(self.space):  # the stored space only grows
                self.space = Space.from_config(stored, define_by_run=True)

    def _grow_space(self, name, dim):
        """Add `name` to a define-by-run study's space (in the storage first, where several processes agree on
        it), or raise a ValueError when the study already has it with another distribution."""
        with self._lock:
            if name not in self.space:
                self.space = Space.from_config(self.storage.extend_space({"name": name, **dim.config()}),
                                               define_by_run=True)
            if self.space[name] != dim:
                raise ValueError(f"{name!r} is suggested as {dim!r}, but the study has it as {self.space[name]!r}: a "
                                 "name keeps one distribution in a study; give another name to another range or list "
                                 "of choices.")

    def _take_suggestions(self, trial, outcome):
        """A trial run in another process comes back with its params and suggested dimensions: add these to the
        space (a failed outcome if one conflicts) and keep the params. Returns the outcome to record."""
        if outcome.params is None or not self.space.define_by_run:
            return outcome
        trial.params = outcome.params
        try:
            for name, dim in (outcome.dims or {}).items():
                self._grow_space(name, dim)
        except ValueError as exc:
            failed = Outcome(TrialState.FAILED, error=error_text(exc))
            failed.intermediate_values, failed.attrs = outcome.intermediate_values, outcome.attrs
            return failed
        return outcome

    # ---- ask / tell ----------------------------------------------------------------------------

    def _propose(self, n, budget, proposals):
        """propose(trials) for the storage: the searcher's params dicts. In a define-by-run study the trials
        start with no params: the proposals go to `proposals`, and the objective's suggestions take them."""
        def propose(trials):
            if self.space.define_by_run:
                self._sync_space()
            history = History(self.space, trials, self._sign, budget, self._signs)
            if len(self.space) == 0:
                params_list = [{} for _ in range(n)]
            else:
                if self._searcher_space is not self.space:  # a define-by-run space has grown
                    self.searcher.setup(self.space, self.seed)
                    self._searcher_space = self.space
                params_list = self.searcher.ask(n, history)
            if not isinstance(params_list, list) or len(params_list) > n:
                raise TypeError(f"{type(self.searcher).__name__}.ask({n}, history) must return a list of at most "
                                f"{n} params dicts; got {params_list!r:.200}.")
            for params in params_list:
                self.space.validate(params, who=f"{type(self.searcher).__name__} proposed params")
            if not self.space.define_by_run:
                return params_list
            proposals.extend(params_list)
            return [{} for _ in params_list]
        return propose

    def ask_many(self, n, budget=None):
        """Up to n new running trials (fewer when the searcher is exhausted)."""
        with self._lock:
            proposals = []
            trials = self.storage.create_trials(self._propose(n, budget, proposals))
            for k, trial in enumerate(trials):
                if self.space.define_by_run:
                    attach_space(trial, self.space, self.seed, proposals[k], self._grow_space)
                else:
                    attach_space(trial, self.space, self.seed)
                if self.pruner is not None:
                    attach_pruner(trial, self.pruner, self.history(budget))
            return trials

    def ask(self):
        """A new running trial: `trial.number`, `trial.params`. Raises SearchExhausted when none is left."""
        trials = self.ask_many(1)
        if not trials:
            raise SearchExhausted(f"{self.searcher!r} has no new point to propose (all its points are taken).")
        return trials[0]

    def _running(self, trial):
        if isinstance(trial, Trial):
            number = trial.number
        elif isinstance(trial, numbers.Integral) and not isinstance(trial, bool):
            number = int(trial)
        else:
            raise TypeError(f"`trial` must be a Trial or a trial number; got {trial!r}.")
        trials = self.storage.trials
        if not 0 <= number < len(trials):
            raise ValueError(f"this study has no trial number {number} (it has {len(trials)} trials).")
        record = trials[number]
        if record.state is not TrialState.RUNNING:
            raise ValueError(f"trial {number} is already {record.state.value}; each trial is told once.")
        return record

    def tell(self, trial, value=None, *, error=None, state=None):
        """Finish a running trial: with its value (complete; NaN/inf -> failed; a tuple, one per objective, in a
        study of several), with `error` (an exception or a message; failed), or with state="pruned" (its value
        is then kept in a study of one objective only). Returns the finished trial."""
        with self._lock:
            trial = self._running(trial)
            if state is not None and TrialState(state) is TrialState.PRUNED:
                outcome = self._pruned_outcome(value)
            elif state is not None and TrialState(state) is not TrialState.COMPLETE:
                raise ValueError(f"`state` must be None, 'complete' or 'pruned'; got {state!r} "
                                 "(use error= for failures).")
            elif error is not None:
                text = error_text(error) if isinstance(error, BaseException) else str(error)
                outcome = Outcome(TrialState.FAILED, error=text)
            else:
                try:
                    outcome = Outcome(TrialState.COMPLETE, check_objective(value))
                except (TypeError, ValueError) as exc:
                    outcome = Outcome(TrialState.FAILED, error=str(exc))
            self.record(trial, outcome)
            return trial

    def _pruned_outcome(self, value):
        """A pruned outcome for `tell(state="pruned")`: its value kept in a study of one objective when it is a
        finite real number; otherwise pruned without a value, the error saying why it was dropped."""
        if value is None or self.n_objectives > 1:
            return Outcome(TrialState.PRUNED)
        try:
            return Outcome(TrialState.PRUNED, check_value(value, "tell(value)"))
        except (TypeError, ValueError) as exc:
            return Outcome(TrialState.PRUNED, error=f"value dropped: {exc}")

    def record(self, trial, outcome, lost=None):
        """Finish the running `trial` (as returned by `ask_many`) with `outcome` (a `trial.Outcome`): write
        its state, value, error, reported values and attrs into the trial, store it, and give the searcher
        its hint. `lost` (a reason, e.g. "interrupted") marks a trial whose objective never finished.
        The step every loop ends a trial with; `tell` is the checked form of it for a user."""
        with self._lock:
            outcome = self._fit_objectives(self._take_suggestions(trial, outcome))
            trial.state, trial.error = outcome.state, outcome.error
            if self.n_objectives == 1:
                trial.value = outcome.value
            else:
                trial.objective_values = outcome.value
            if outcome.intermediate_values is not trial.intermediate_values:
                trial.intermediate_values.update(outcome.intermediate_values)
            if outcome.attrs is not trial.attrs:
                trial.attrs.update(outcome.attrs)
            if lost:
                trial.system_attrs["lost"] = lost
            trial.end_time = time.time()
            attach_pruner(trial, None, None)
            self.storage.finish(trial)
            self.searcher.tell(trial, self.history())

    def _fit_objectives(self, outcome):
        """A complete outcome with its value in the study's form (a float, or a list of one float per
        objective), or a failed one when it returned another number of values."""
        if outcome.state is not TrialState.COMPLETE:
            return outcome
        try:
            outcome.value = fit_to_objectives(outcome.value, self.n_objectives)
        except ValueError as exc:
            failed = Outcome(TrialState.FAILED, error=str(exc))
            failed.intermediate_values, failed.attrs = outcome.intermediate_values, outcome.attrs
            return failed
        return outcome

    # ---- the loop --------------------------------------------------------------------------------

    def optimize(self, objective, n_trials=None, timeout=None, n_jobs=1, executor=None, backend="threads",
                 callbacks=(), progress=True, catch=True, pass_trial=None, batch=None):
        """Run trials until `n_trials` more are done, `timeout` seconds have passed (checked between trials),
        the searcher is exhausted, a callback calls `study.stop()`, or KeyboardInterrupt. Returns the study;
        `study.stop_reason` says which ("n_trials", "timeout", "exhausted", "stopped", "interrupted").

        objective : `objective(trial) -> float` (a tuple of floats, one per direction, in a study of several
            objectives). It receives the `Trial`, which reads as the mapping of its
            params (`trial["lr"]`), so `objective(params)` code works too; it may call `trial.suggest_float`,
            `suggest_int`, `suggest_categorical`, `trial.report(value, step)`, `trial.should_prune()` (raise
            `TrialPruned` to stop) and `trial.set_attr(key, value)`. pass_trial=False gives it a plain dict
            copy of the params instead (not in a define-by-run study, whose trials start empty).
        n_jobs : trials evaluated at once (-1: one per CPU); backend "threads" (tunelab's kernels release the
            GIL) or "processes" (a picklable objective, e.g. a module-level function, sent once to each
            worker; the workers stay for the next call with the same objective, until `close()` or five
            minutes unused).
        executor : any `concurrent.futures.Executor` (e.g. Dask's `Client.get_executor()`); it runs n_jobs
            trials at once and is not shut down here.
        batch : "sync", "async" or None (default: "sync" for a `seeded` study, else "async"). How parallel
            trials are asked (see tunelab.searchers.parallel). "sync": n_jobs points are asked at once and the
            next batch only when the whole batch is recorded (in trial-number order), so the same seed and
            n_jobs give the same trials, whatever the order the workers finish in (backend="processes" runs
            the first trial alone first, so its batches differ from those of threads). "async": a new point is
            asked as soon as a worker is free, so no worker waits for the slowest trial of a batch; but a
            searcher whose proposals depend on the finished and running trials (BayesSearch, ParEGOSearch,
            TPESearch with a constant liar) then proposes what the timing of the workers decides, and two runs
            differ. With n_jobs=1 both are the same.
        callbacks : functions `callback(study, trial)` called after each finished trial.
        catch : True (default) records an exception of the objective as a failed trial and goes on; False
            re-raises it (after recording); a tuple of exception classes catches only those.
        KeyboardInterrupt ends the call cleanly: finished trials are kept; the running ones are recorded
        as failed and lost (a GridSearch proposes their points again).
        """
        if pass_trial is False and self.space.define_by_run:
            raise ValueError("pass_trial=False gives the objective a dict of params, but a define-by-run study's "
                             "trials start with none: the objective must receive the trial to suggest them.")
        from tunelab.searchers.parallel import run_trials  # imported by the first loop, not with the study

        run_trials(self, objective, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, executor=executor,
                   backend=backend, callbacks=callbacks, progress=progress, catch=catch, pass_trial=pass_trial,
                   batch=batch)
        return self

    def stop(self):
        """Ask a running `optimize` to start no new trial (call it from a callback)."""
        self._stop_requested = True

    @property
    def stop_requested(self):
        """True once `stop()` was called, until a loop starts and calls `clear_stop()`."""
        return self._stop_requested

    def clear_stop(self):
        """Forget an earlier `stop()`; every loop calls it when it starts."""
        self._stop_requested = False

    # ---- results ---------------------------------------------------------------------------------

    @property
    def trials(self):
        """Every trial (a copy of the list; the trials themselves are the records: read them, do not edit)."""
        trials = list(self.storage.sync())
        if self.space.define_by_run:
            self._sync_space()
        return trials

    def _complete(self):
        trials = self.trials
        complete = [t for t in trials if t.state is TrialState.COMPLETE]
        if not complete:
            failed = [t for t in trials if t.state is TrialState.FAILED]
            hint = f"; first error: {failed[0].error}" if failed else ""
            raise ValueError(f"no trial is complete yet ({len(trials)} trials, {len(failed)} failed{hint}).")
        return complete

    def _loss_vectors(self, trials):
        """(n, k) losses signs_i * value_i of complete trials."""
        history = History(self.space, trials, self._sign, None, self._signs)
        return np.array([history.loss_vector(t) for t in trials], dtype=np.float64).reshape(len(trials), -1)

    @property
    def best_trial(self):
        """The complete trial with the best value (the first such trial on ties); one objective only."""
        if self.n_objectives > 1:
            raise ValueError(f"this study has {self.n_objectives} objectives, so no single best trial: use "
                             "study.best_trials (the Pareto front).")
        return min(self._complete(), key=lambda t: (self._sign * t.value, t.number))

    @property
    def best_trials(self):
        """The Pareto front: the complete trials that no other complete trial dominates (no worse in every
        objective, better in one), in the order of their numbers; copies of one point all stay. With one
        objective, the trials that share the best value."""
        complete = self._complete()
        keep = is_pareto_efficient(self._loss_vectors(complete))
        return [t for t, kept in zip(complete, keep) if kept]

    def hypervolume(self, reference):
        """The hypervolume of the complete trials' values bounded by `reference` (one value per objective,
        in the objectives' own units: a point worse than every trial of interest), as
        tunelab.searchers.pareto.hypervolume of the losses signs_i * value_i; 0 without complete trials."""
        complete = [t for t in self.trials if t.state is TrialState.COMPLETE]
        reference = np.asarray(reference, dtype=np.float64)
        if reference.shape != (self.n_objectives,):
            raise ValueError(f"`reference` must hold one value per objective ({self.n_objectives}); "
                             f"got {reference.tolist()!r}.")
        return hypervolume(self._loss_vectors(complete).reshape(-1, self.n_objectives),
                           np.asarray(self._signs) * reference)

    @property
    def best_params(self):
        return self.best_trial.params

    @property
    def best_value(self):
        return self.best_trial.value

    def trials_table(self):
        """The trials as a list of row dicts (number, state, value or values_0, values_1..., params_<name>...,
        times, duration, error);
        a dimension a trial does not have (inactive, or never suggested) is None (an empty cell in CSV)."""
        return trials_table(self.trials, self.space.names, self.n_objectives)

    def to_csv(self, path=None):
        """The trials table as CSV (no pandas needed); also written to `path` when given."""
        return to_csv(self.trials, self.space.names, path, self.n_objectives)

    def to_json(self, path=None):
        """Every trial as JSON records; also written to `path` when given."""
        return to_json(self.trials, path)

    def close(self):
        """Close the storage, and end the worker processes kept for this study's next `optimize` call."""
        from tunelab.searchers.parallel import release_workers

        release_workers(self)
        self.storage.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        """The number of trials so far, running ones included (the next trial gets this number)."""
        return len(self.storage.trials)

    def __repr__(self):
        where = f", storage={self.storage.path!r}" if self.storage.path else ""
        goal = f"direction={self.direction!r}" if self.n_objectives == 1 else f"directions={self.directions!r}"
        return f"Study({len(self)} trials, {goal}, searcher={self.searcher!r}{where})"


def minimize(objective, space=None, searcher=None, n_trials=None, seed=None, **kwargs):
    """Build a Study (direction "minimize", or `directions` for several objectives; `storage`, `pruner`,
    `context` may be given; space=None for define-by-run) and run `optimize`; returns it."""
    study_kwargs = {k: kwargs.pop(k) for k in ("storage", "pruner", "direction", "context", "directions")
                    if k in kwargs}
    if study_kwargs.get("directions") is None:
        study_kwargs.setdefault("direction", "minimize")
    study = Study(space, searcher, seed=seed, **study_kwargs)
    return study.optimize(objective, n_trials=n_trials, **kwargs)


def maximize(objective, space=None, searcher=None, n_trials=None, seed=None, **kwargs):
    """As `minimize`, for an objective to maximise (a score); with `directions`, as given."""
    if kwargs.get("directions") is None:
        kwargs["direction"] = "maximize"
    return minimize(objective, space, searcher, n_trials, seed, **kwargs)
