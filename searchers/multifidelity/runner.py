"""The epoch runner: trains the trials of one multi-fidelity `optimize` call for more epochs and records them.

A resumable objective `objective(trial, state, epochs) -> (value, state)` trains `trial.params` for
`epochs` more epochs starting from `state` (None: a new model). The runner keeps each trial's state and
the epochs it has trained, so that training always continues where it stopped, and counts every epoch.
It drives the study through the pieces every loop shares (tunelab.searchers.parallel): `Workers` for the
pool, the trials asked and the wait-and-record step; `stop_reason` for `study.stop()`. The
algorithms that decide which trial trains how far are in halving.py.
"""

from tunelab.searchers.parallel import Workers, stop_reason
from tunelab.searchers.trial import Outcome, TrialState, check_value, error_text


def check_objective(objective):
    if not callable(objective):
        raise TypeError(f"`objective` must be callable as objective(trial, state, epochs) -> (value, state); "
                        f"got {objective!r}.")


class EpochRunner:
    """Trains trials of `study` by `objective` on n_jobs threads (tunelab's kernels release the GIL).

    A training job is (trial, target): train the trial up to `target` epochs in all. Its rung value is
    kept by `trial.report(value, step=target)`; the trial stays running until `finish`.
    `reason` says why no more trials were asked: "stopped", "exhausted", or None (as planned).
    """

    def __init__(self, study, objective, n_jobs):
        self.study, self.objective = study, objective
        self.workers = Workers(study, n_jobs, name="tunelab-rung")
        self.state, self.epochs, self.last_value = {}, {}, {}  # trial number -> ...
        self.total_epochs = 0
        self.reason = None

    @property
    def n_jobs(self):
        """The number of trials trained at once."""
        return self.workers.n

    @property
    def busy(self):
        """The number of training jobs in flight."""
        return len(self.workers.in_flight)

    @property
    def trials(self):
        """trial number -> running trial: those asked and not yet finished."""
        return self.workers.running

    def new_trials(self, n):
        """Up to n new trials from the study's searcher; none once `study.stop()` was called."""
        if self.reason is None:
            self.reason = stop_reason(self.study)
        if self.reason == "stopped":
            return []
        trials = self.workers.ask(n)
        if len(trials) < n:
            self.reason = "exhausted"
        for trial in trials:
            self.epochs[trial.number] = 0
        return trials

    def _train(self, trial, target):
        """Runs in a worker: train up to `target` epochs; a complete Outcome with the value, or a failed one."""
        number = trial.number
        try:
            value, state = self.objective(trial, self.state.get(number), target - self.epochs[number])
            value = check_value(value)
        except Exception as exc:  # recorded as a failed trial by `collect`
            return Outcome(TrialState.FAILED, error=error_text(exc), exc=exc)
        self.state[number] = state  # one job per trial at a time: no other thread writes this key
        return Outcome(TrialState.COMPLETE, value)

    def submit(self, trial, target):
        """Start training `trial` up to `target` epochs (at once, in this thread, with n_jobs=1)."""
        self.workers.submit((trial, target), self._train, trial, target)

    def collect(self, job, outcome):
        """Record one training job; returns the trial's loss at its target (lower is better), None if it failed."""
        trial, target = job
        number = trial.number
        self.total_epochs += target - self.epochs[number]
        if outcome.state is TrialState.FAILED:
            self.finish(trial, outcome)
            return None
        self.epochs[number] = target
        self.last_value[number] = outcome.value
        trial.report(outcome.value, step=target)
        trial.set_attr("epochs", target)
        return self.study.sign * outcome.value

    def wait_and_collect(self):
        """[((trial, target), loss or None)] of the jobs that finish next, each recorded by `collect`."""
        return self.workers.wait_and_record(self.collect)

    def train_all(self, trials, target):
        """Train every trial up to `target` epochs (in parallel with n_jobs > 1); [(trial, loss or None)]."""
        for trial in trials:
            self.submit(trial, target)
        loss = {}
        while self.busy:
            for (trial, _), trial_loss in self.wait_and_collect():
                loss[trial.number] = trial_loss
        return [(trial, loss[trial.number]) for trial in trials]

    def finish(self, trial, outcome=None, pruned=False):
        """Record the trial: with `outcome`, else complete (or pruned) with its value at the last rung."""
        number = trial.number
        self.state.pop(number, None)
        if outcome is None:
            outcome = Outcome(TrialState.PRUNED if pruned else TrialState.COMPLETE, self.last_value.get(number))
        self.workers.record(trial, outcome)

    def prune_the_rest(self):
        """Record the trials still open that have trained as pruned (their value: that of their last rung)."""
        for trial in list(self.trials.values()):
            if trial.number in self.last_value:
                self.finish(trial, pruned=True)


def run_epochs(study, objective, n_jobs, body):
    """Run body(runner) with a new EpochRunner; returns the epochs trained. Trials left open at the end
    are pruned; on an interrupt or an error they are recorded as failed and lost, and it propagates.
    `study.stop_reason` becomes "n_trials" (all planned trials started), "stopped", "exhausted" or
    "interrupted"."""
    check_objective(objective)
    runner = EpochRunner(study, objective, n_jobs)
    study.clear_stop()
    reason = None
    try:
        body(runner)
        runner.prune_the_rest()
        reason = runner.reason or "n_trials"
    except KeyboardInterrupt:
        reason = "interrupted"
        raise
    finally:
        runner.workers.close(reason)
    return runner.total_epochs
