"""Successive halving, Hyperband and ASHA: which configurations train how many epochs.

Train many configurations for a few epochs, keep the best 1/eta of them and train those eta times
longer, and so on up to `max_resource` epochs. Training always continues where it stopped (a model's
`partial_fit` or `warm_start`), so no epoch is trained twice and a stopped configuration never again.
The rungs are r_k = max_resource * eta^(k - s), k = 0..s, s = floor(log_eta(max_resource / min_resource)),
rounded to whole epochs. Sources: Jamieson & Talwalkar (2016) for successive halving; Li et al.,
"Hyperband", JMLR 2018; Li et al., "A system for massively parallel hyperparameter tuning", MLSys 2020 (ASHA).

Two ways to use them:

1. As the loop, with a *resumable* objective `objective(trial, state, epochs) -> (value, state)` that
   trains `trial.params` for `epochs` more epochs starting from `state` (None: a new model) and returns
   the validation value and what it needs to continue (`EpochCV`, in epoch_cv.py, does this for tunelab's
   estimators; runner.py trains the trials and records them):

       study = Study(space, RandomSearch(), direction="maximize", seed=0)
       SuccessiveHalving(1, 27).optimize(study, EpochCV(MLPClassifier(), X, y, cv=3))

   Configurations come from the study's searcher (random by default; BayesSearch or any other). Each
   is one trial: `complete` with its value at max_resource, `pruned` with its value at the last rung it
   reached, or `failed`; each rung's value is kept by `trial.report(value, step=epochs)`.
2. As the study's pruner hook, `Study(space, pruner=ASHA(1, 27))`, with an objective(trial) that trains
   epoch by epoch, calls `trial.report(value, epoch)` and raises `TrialPruned` when
   `trial.should_prune()`. A hook cannot pause a trial to wait for the others, so there all three apply
   ASHA's stop-or-continue rule: at rung k, go on only when in the top max(1, m // eta) of the m trials
   that have reached rung k so far (Hyperband: of those in the same bracket).
"""

import math
import numbers

from tunelab.optimizers.params import ParamsMixin
from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.multifidelity.runner import run_epochs


def _rungs(min_resource, max_resource, eta):
    """Resources r_k = round(R eta^(k - s)), k = 0..s, s = floor(log_eta(R / r)); strictly increasing."""
    s = int(math.floor(math.log(max_resource / min_resource) / math.log(eta) + 1e-9))
    rungs = []
    for k in range(s + 1):
        r = max(min_resource, int(round(max_resource * eta ** (k - s))))
        if not rungs or r > rungs[-1]:
            rungs.append(r)
    return rungs


class _MultiFidelity(ParamsMixin):
    """Shared by the three: rungs, the pruner hook, and the checks."""

    def __init__(self, min_resource=1, max_resource=27, eta=3):
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.eta = eta

    def _check(self):
        check_scalar(self.min_resource, "min_resource", numbers.Integral, low=1)
        check_scalar(self.max_resource, "max_resource", numbers.Integral, low=1)
        if self.max_resource < self.min_resource:
            raise ValueError(f"`max_resource` must be >= `min_resource`={self.min_resource}; "
                             f"got {self.max_resource}.")
        check_scalar(self.eta, "eta", numbers.Real, low=1.0, low_inclusive=False)

    def rungs(self):
        """The resources (epochs) at which configurations are compared, the last being max_resource."""
        self._check()
        return _rungs(int(self.min_resource), int(self.max_resource), float(self.eta))

    # ---- the pruner hook ------------------------------------------------------------------------

    def _hook_group(self, trial):
        """(the rungs this trial is judged at, a key: trials compare with those of the same key)."""
        return self.rungs(), 0

    def should_prune(self, trial, history):
        """True when `trial` has just reached a rung (not the last) outside the top max(1, m // eta)
        of the m trials of its group that have a value at that rung (ASHA's stop-or-continue rule)."""
        steps = trial.intermediate_values
        if not steps:
            return False
        rungs, key = self._hook_group(trial)
        step = max(steps)
        reached = [k for k, r in enumerate(rungs) if r <= step]
        if not reached or reached[-1] == len(rungs) - 1:
            return False
        r = rungs[reached[-1]]
        if any(r <= s < step for s in steps):
            return False  # this rung was judged at an earlier step
        own = (history.sign * steps[step], trial.number)
        members = [own]
        for other in history.trials:
            if other.number == trial.number or self._hook_group(other)[1] != key:
                continue
            at = [s for s in other.intermediate_values if s >= r]
            if at:
                members.append((history.sign * other.intermediate_values[min(at)], other.number))
        members.sort()
        return members.index(own) >= max(1, int(len(members) / self.eta))

    # ---- the loop -------------------------------------------------------------------------------

    def _halve(self, runner, n_configs, rungs):
        """Synchronous successive halving of `n_configs` new trials over `rungs`."""
        active = runner.new_trials(n_configs)
        for k, r in enumerate(rungs):
            alive = [(loss, t.number, t) for t, loss in runner.train_all(active, r) if loss is not None]
            alive.sort(key=lambda a: (a[0], a[1]))
            if k == len(rungs) - 1:
                for _, _, trial in alive:
                    runner.finish(trial)
                return
            keep = max(1, int(len(alive) / self.eta))
            for _, _, trial in alive[keep:]:
                runner.finish(trial, pruned=True)
            active = [trial for _, _, trial in alive[:keep]]

    def _run(self, study, objective, n_jobs, body):
        self.total_epochs_ = run_epochs(study, objective, n_jobs, body)
        return study


def _halving_sizes(n, n_rungs, eta):
    """Configurations trained at each rung: n_0 = n, n_{k+1} = max(1, floor(n_k / eta))."""
    sizes = [n]
    for _ in range(n_rungs - 1):
        sizes.append(max(1, int(sizes[-1] / eta)))
    return sizes


def _resource_of(sizes, rungs):
    """Epochs trained when sizes[k] configurations reach rungs[k]: sum_k n_k (r_k - r_{k-1})."""
    return sum(n * (r - r_prev) for n, r, r_prev in zip(sizes, rungs, [0] + rungs[:-1]))


class SuccessiveHalving(_MultiFidelity):
    """Successive halving (Jamieson & Talwalkar 2016): n configurations trained to rung 0; at each rung the
    best floor(m / eta) of the m that got there (at least one) go on, the others are pruned.
    n defaults to eta^s, so that one configuration reaches max_resource; `total_resource(n)` epochs are
    trained in all."""

    def _n_trials(self, n_trials, rungs):
        check_scalar(n_trials, "n_trials", numbers.Integral, low=1, allow_none=True)
        return int(n_trials) if n_trials is not None else int(round(self.eta ** (len(rungs) - 1)))

    def total_resource(self, n_trials=None):
        """Epochs trained by `optimize(study, objective, n_trials)` when no trial fails."""
        rungs = self.rungs()
        return _resource_of(_halving_sizes(self._n_trials(n_trials, rungs), len(rungs), self.eta), rungs)

    def optimize(self, study, objective, n_trials=None, n_jobs=1):
        """Run successive halving over `n_trials` new configurations of `study` (see the module docstring);
        returns the study. `n_jobs` trials of a rung train at once (threads: tunelab's kernels release the GIL;
        -1: one per CPU). `study.stop()` starts no new configuration; `study.stop_reason` says why it ended."""
        rungs = self.rungs()
        n = self._n_trials(n_trials, rungs)
        return self._run(study, objective, n_jobs, lambda runner: self._halve(runner, n, rungs))


class Hyperband(_MultiFidelity):
    """Hyperband (Li et al. 2018, algorithm 1): successive halving in brackets b = s, s-1, ..., 0, bracket b
    starting n_b = ceil((s + 1) eta^b / (b + 1)) configurations at rung s - b, so that it hedges between
    many short trainings (b = s) and a few full ones (b = 0)."""

    def brackets(self, n_trials=None):
        """[(n_configs, rungs)]: b = s, ..., 0 once (n_trials None), or cycled until n_trials configurations."""
        check_scalar(n_trials, "n_trials", numbers.Integral, low=1, allow_none=True)
        rungs = self.rungs()
        s = len(rungs) - 1
        one_round = [(int(math.ceil((s + 1) * self.eta ** b / (b + 1) - 1e-9)), rungs[s - b:])
                     for b in range(s, -1, -1)]
        if n_trials is None:
            return one_round
        brackets, left = [], int(n_trials)
        while left > 0:
            for n, bracket_rungs in one_round:
                if left > 0:
                    brackets.append((min(n, left), bracket_rungs))
                    left -= n
        return brackets

    def total_resource(self, n_trials=None):
        """Epochs trained by `optimize(study, objective, n_trials)` when no trial fails."""
        return sum(_resource_of(_halving_sizes(n, len(rungs), self.eta), rungs)
                   for n, rungs in self.brackets(n_trials))

    def optimize(self, study, objective, n_trials=None, n_jobs=1):
        """Run every bracket once (or cycle through them until `n_trials` configurations); returns the study."""
        brackets = self.brackets(n_trials)

        def body(runner):
            for n, rungs in brackets:
                self._halve(runner, n, rungs)
        return self._run(study, objective, n_jobs, body)

    def _hook_group(self, trial):
        """Trial t belongs to bracket t mod (s + 1), which starts at rung index t mod (s + 1)."""
        rungs = self.rungs()
        b = trial.number % len(rungs)
        return rungs[b:], b


class ASHA(_MultiFidelity):
    """Asynchronous successive halving (Li et al. 2020, algorithm 2): whenever a worker is free, promote
    to rung k + 1 a configuration in the top floor(m / eta) of the m that reached rung k (highest k first);
    if there is none, start a new configuration at rung 0. No worker waits for a rung to fill."""

    def optimize(self, study, objective, n_trials=None, n_jobs=1):
        """Start `n_trials` configurations (default eta^s, as successive halving would), promote until nothing
        is promotable; returns the study.
        With n_jobs=1 the result is a function of the study's seed; with n_jobs > 1 it depends on which
        training finishes first, as in any asynchronous search."""
        check_scalar(n_trials, "n_trials", numbers.Integral, low=1, allow_none=True)
        rungs = self.rungs()
        top = len(rungs) - 1
        n_trials = int(round(self.eta ** top)) if n_trials is None else int(n_trials)

        def body(runner):
            at_rung = [dict() for _ in rungs]  # rung k: trial number -> loss there
            promoted = [set() for _ in rungs]
            started = 0

            def next_job():
                nonlocal started
                for k in range(top - 1, -1, -1):
                    ranked = sorted((loss, number) for number, loss in at_rung[k].items())
                    for _, number in ranked[:int(len(ranked) / self.eta)]:
                        if number not in promoted[k] and number in runner.trials:
                            promoted[k].add(number)
                            return runner.trials[number], k + 1
                if started < n_trials:
                    new = runner.new_trials(1)
                    if new:
                        started += 1
                        return new[0], 0
                return None

            while True:
                while runner.busy < runner.n_jobs:
                    job = next_job()
                    if job is None:
                        break
                    trial, k = job
                    runner.submit(trial, rungs[k])
                if not runner.busy:
                    return
                for (trial, target), loss in runner.wait_and_collect():
                    if loss is None:
                        continue
                    k = rungs.index(target)
                    at_rung[k][trial.number] = loss
                    if k == top:
                        runner.finish(trial)

        return self._run(study, objective, n_jobs, body)
