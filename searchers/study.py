"""A study: the trials of one search, the ask/tell loop around a searcher, and their storage.

    study = Study({"lr": Real(1e-4, 1, log=True), "depth": Integer(1, 8)}, RandomSearch(), seed=0)
    study.optimize(lambda params: loss(**params), n_trials=50)
    study.best_params, study.best_value

or by hand: `trial = study.ask(); study.tell(trial, objective(trial.params))`.
The searcher always minimises a loss; for direction="maximize" the study gives it loss = -value.

A loop that drives a study (`Study.optimize` in tunelab.searchers.parallel, the multi-fidelity loops in
tunelab.searchers.multifidelity) uses only its public methods: `ask_many(n, budget)` for new trials,
`record(trial, outcome, lost)` to finish one, `sign` to turn values into losses, `stop_requested` and
`clear_stop()` for `stop()`, and `len(study)` for the trials so far.
"""

import json
import numbers
import threading
import time
import warnings

from tunelab.optimizers.validation import check_choice, check_random_state
from tunelab.optimizers.params import clone
from tunelab.searchers.base import History, Searcher
from tunelab.searchers.context import check_context, differences
from tunelab.searchers.registry import searcher_from_spec, searcher_spec
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Space
from tunelab.searchers.storage import StorageError, make_storage
from tunelab.searchers.trial import (  # noqa: F401  (wants_trial: the documented rule, importable here)
    Outcome, Trial, TrialState, attach_pruner, check_value, error_text, to_csv, to_json, trials_table, wants_trial)

FORMAT = 1  # the layout of the meta table this version writes and reads


class SearchExhausted(RuntimeError):
    """`Study.ask()` found no new point: the searcher has proposed all it can (e.g. the whole grid)."""


def _seed_int(seed):
    """An int seed for the study, drawn from the Generator `check_random_state(seed)` (so None -> fresh)."""
    return int(check_random_state(seed).integers(0, 2**63 - 1))


def _describe(space_config):
    try:
        return repr(Space.from_config(space_config))
    except Exception:
        return json.dumps(space_config)[:300]


def _stored_space(stored, path):
    """The Space of a stored study's meta, rebuilt exactly; StorageError naming the file when it cannot be."""
    config = stored["space"]
    if isinstance(config, list) and any(isinstance(e, dict) and "choices_repr" in e for e in config):
        return Space.from_config(config)  # a ValueError that says to pass the space
    try:
        space = Space.from_config(config)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = str(exc) if isinstance(exc, ValueError) else error_text(exc)
        raise StorageError(f"{path} holds no readable study: its `space` cannot be rebuilt: {problem}") from None
    if space.config() != config:
        raise StorageError(f"{path} holds no readable study: its `space` is not in the form tunelab writes: "
                           f"{json.dumps(config)[:200]}.")
    return space


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
    if not isinstance(stored.get("context", {}), dict):
        raise unreadable(f"`context` must be a JSON object; got {stored['context']!r:.80}.")


class Study:
    """The trials of one search over `space`, proposed by `searcher` (default `RandomSearch()`).

    Parameters
    ----------
    space : Space or dict of name -> Real/Integer/Categorical; may be None to reopen a stored study.
    searcher : a `Searcher`; the study works on a clone of it. A stored study rebuilds its searcher when
        none is given, from tunelab's own searchers only (`tunelab.searchers.registry`): a study file
        never runs code.
    direction : "minimize" (default) or "maximize".
    storage : None (in memory) or the path of an SQLite file; an existing file resumes its study
        (same space and direction required) and continues the trial numbering. A file that does not
        hold a study, or one that cannot be read, raises an error naming it (`StorageError` for its
        contents); with space=None the file must exist.
    seed : int, Generator or None. Fixes every random choice of the searcher; a stored study keeps
        its seed unless another one is given.
    pruner : an object with `should_prune(trial, history) -> bool`, consulted by `trial.should_prune()`.
    context : None, or a dict of JSON values naming what the objective's values depend on besides the
        params (data, model, metric, folds; see `check_context`). A stored study continues only in the
        same context. SearchCV and `tunelab tune` record theirs.

    A study pickles (in memory or with storage): an unpickled study with SQLite storage goes on
    writing to its file.
    """

    def __init__(self, space=None, searcher=None, direction=None, storage=None, seed=None, pruner=None,
                 context=None):
        if direction is not None:
            check_choice(direction, "direction", ("minimize", "maximize"))
        if searcher is not None and not isinstance(searcher, Searcher):
            raise TypeError(f"`searcher` must be a Searcher (e.g. RandomSearch()); got {searcher!r}.")
        seed = None if seed is None else _seed_int(seed)
        space = None if space is None else Space(space)
        context = None if context is None else check_context(context)
        self.storage = make_storage(storage, create=space is not None)
        self._lock = threading.RLock()  # ask and tell may come from several threads
        stored = self._stored_meta(space, direction, seed, searcher)
        if context is not None:
            self.check_context(context)  # first: what differs in the context explains the rest
        if space is None:
            space = _stored_space(stored, self.storage.path)
        if space.config() != stored["space"]:
            raise ValueError(f"the storage {self.storage.path} holds a study over another space: stored "
                             f"{_describe(stored['space'])}, given {space}.")
        if direction is not None and direction != stored["direction"]:
            raise ValueError(f"the stored study has direction={stored['direction']!r}; got direction={direction!r}.")
        self.space = space
        self.direction = stored["direction"]
        self.seed = stored["seed"] if seed is None else seed
        from_file = searcher is None
        if from_file:
            searcher = self._stored_searcher(stored)
        elif searcher_spec(searcher) != stored.get("searcher"):
            self.storage.set_meta("searcher", searcher_spec(searcher))
        self.searcher = clone(searcher)
        self.pruner = pruner
        self._sign = 1.0 if self.direction == "minimize" else -1.0
        self.storage.load(space)
        self._setup_searcher(from_file)
        self._stop_requested = False
        self.stop_reason = None

    def _where(self):
        return f"the study file {self.storage.path}" if self.storage.path else "the stored study"

    def _stored_meta(self, space, direction, seed, searcher):
        """The meta entries of the stored study (written first for a new one), checked."""
        stored = self.storage.read_meta()
        if not stored:
            if space is None:
                where = f" {self.storage.path} holds no study;" if self.storage.path else ""
                raise ValueError(f"`space` is required for a new study;{where} give a dict of dimensions.")
            stored = self.storage.init_meta({
                "format": FORMAT, "space": space.config(), "direction": direction or "minimize",
                "seed": _seed_int(None) if seed is None else seed,
                "searcher": searcher_spec(searcher or RandomSearch())})
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
        return cls(None, searcher=searcher, storage=storage, seed=seed, pruner=pruner)

    # ---- ask / tell ----------------------------------------------------------------------------

    @property
    def sign(self):
        """+1.0 for direction="minimize", -1.0 for "maximize": loss = sign * value is what searchers minimise."""
        return self._sign

    def history(self, budget=None):
        """The trials so far, running ones included, as the searcher sees them (a `History`; `budget`: the
        total number of trials planned, or None)."""
        return History(self.space, self.storage.trials, self._sign, budget)

    def _propose(self, n, budget):
        def propose(trials):
            history = History(self.space, trials, self._sign, budget)
            params_list = self.searcher.ask(n, history)
            if not isinstance(params_list, list) or len(params_list) > n:
                raise TypeError(f"{type(self.searcher).__name__}.ask({n}, history) must return a list of at most "
                                f"{n} params dicts; got {params_list!r:.200}.")
            for params in params_list:
                self.space.validate(params, who=f"{type(self.searcher).__name__} proposed params")
            return params_list
        return propose

    def ask_many(self, n, budget=None):
        """Up to n new running trials (fewer when the searcher is exhausted)."""
        with self._lock:
            trials = self.storage.create_trials(self._propose(n, budget))
            for trial in trials:
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
        """Finish a running trial: with its value (complete; NaN/inf -> failed), with `error` (an exception or
        a message; failed), or with state="pruned". Returns the finished trial."""
        with self._lock:
            trial = self._running(trial)
            if state is not None and TrialState(state) is TrialState.PRUNED:
                outcome = Outcome(TrialState.PRUNED, None if value is None else float(value))
            elif state is not None and TrialState(state) is not TrialState.COMPLETE:
                raise ValueError(f"`state` must be None, 'complete' or 'pruned'; got {state!r} "
                                 "(use error= for failures).")
            elif error is not None:
                text = error_text(error) if isinstance(error, BaseException) else str(error)
                outcome = Outcome(TrialState.FAILED, error=text)
            else:
                try:
                    outcome = Outcome(TrialState.COMPLETE, check_value(value))
                except (TypeError, ValueError) as exc:
                    outcome = Outcome(TrialState.FAILED, error=str(exc))
            self.record(trial, outcome)
            return trial

    def record(self, trial, outcome, lost=None):
        """Finish the running `trial` (as returned by `ask_many`) with `outcome` (a `trial.Outcome`): write
        its state, value, error, reported values and attrs into the trial, store it, and give the searcher
        its hint. `lost` (a reason, e.g. "interrupted") marks a trial whose objective never finished.
        The step every loop ends a trial with; `tell` is the checked form of it for a user."""
        with self._lock:
            trial.state, trial.value, trial.error = outcome.state, outcome.value, outcome.error
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

    # ---- the loop --------------------------------------------------------------------------------

    def optimize(self, objective, n_trials=None, timeout=None, n_jobs=1, executor=None, backend="threads",
                 callbacks=(), progress=True, catch=True, pass_trial=None):
        """Run trials until `n_trials` more are done, `timeout` seconds have passed (checked between trials),
        the searcher is exhausted, a callback calls `study.stop()`, or KeyboardInterrupt. Returns the study;
        `study.stop_reason` says which ("n_trials", "timeout", "exhausted", "stopped", "interrupted").

        objective : `objective(params) -> float`, or `objective(trial) -> float` when its first parameter is
            named `trial` or annotated `Trial` (or pass_trial=True): then `trial.params`, `trial.report(value,
            step)`, `trial.should_prune()` (raise `TrialPruned` to stop) and `trial.set_attr(key, value)`.
        n_jobs : trials evaluated at once (-1: one per CPU); backend "threads" (tunelab's kernels release the
            GIL) or "processes" (a picklable objective, e.g. a module-level function, sent once to each
            worker; the workers stay for the next call with the same objective, until `close()` or five
            minutes unused).
        executor : any `concurrent.futures.Executor` (e.g. Dask's `Client.get_executor()`); it runs n_jobs
            trials at once and is not shut down here.
        callbacks : functions `callback(study, trial)` called after each finished trial.
        catch : True (default) records an exception of the objective as a failed trial and goes on; False
            re-raises it (after recording); a tuple of exception classes catches only those.
        KeyboardInterrupt ends the call cleanly: finished trials are kept; the running ones are recorded
        as failed and lost (a GridSearch proposes their points again).
        """
        from tunelab.searchers.parallel import run_trials  # imported by the first loop, not with the study

        run_trials(self, objective, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, executor=executor,
                   backend=backend, callbacks=callbacks, progress=progress, catch=catch, pass_trial=pass_trial)
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
        return list(self.storage.sync())

    @property
    def best_trial(self):
        """The complete trial with the best value (the first such trial on ties)."""
        trials = self.trials
        complete = [t for t in trials if t.state is TrialState.COMPLETE]
        if not complete:
            failed = [t for t in trials if t.state is TrialState.FAILED]
            hint = f"; first error: {failed[0].error}" if failed else ""
            raise ValueError(f"no trial is complete yet ({len(trials)} trials, {len(failed)} failed{hint}).")
        return min(complete, key=lambda t: (self._sign * t.value, t.number))

    @property
    def best_params(self):
        return self.best_trial.params

    @property
    def best_value(self):
        return self.best_trial.value

    def trials_table(self):
        """The trials as a list of row dicts (number, state, value, params_<name>..., times, duration, error)."""
        return trials_table(self.trials, self.space.names)

    def to_csv(self, path=None):
        """The trials table as CSV (no pandas needed); also written to `path` when given."""
        return to_csv(self.trials, self.space.names, path)

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
        return (f"Study({len(self)} trials, direction={self.direction!r}, searcher={self.searcher!r}{where})")


def minimize(objective, space, searcher=None, n_trials=None, seed=None, **kwargs):
    """Build a Study (direction "minimize"; `storage`, `pruner`, `context` may be given) and run `optimize`;
    returns it."""
    study_kwargs = {k: kwargs.pop(k) for k in ("storage", "pruner", "direction", "context") if k in kwargs}
    study_kwargs.setdefault("direction", "minimize")
    study = Study(space, searcher, seed=seed, **study_kwargs)
    return study.optimize(objective, n_trials=n_trials, **kwargs)


def maximize(objective, space, searcher=None, n_trials=None, seed=None, **kwargs):
    """As `minimize`, for an objective to maximise (a score)."""
    return minimize(objective, space, searcher, n_trials, seed, direction="maximize", **kwargs)
