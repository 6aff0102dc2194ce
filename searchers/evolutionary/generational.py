"""The generational framework every evolutionary searcher shares: trials in generations, state replayed.

A generational searcher hands out generation g as trials start_g, ..., start_g + lambda_g - 1 and
breeds generation g + 1 only once every member of g has finished (a failed or pruned member counts as
the worst fitness, +inf). Generation g's members are drawn from `self.rng(g, ...)` and the state
after g is a function of the members' losses only, so replaying the complete generations of a history
rebuilds the state exactly: a resumed study, a study run with n_jobs workers and a serial one propose
the same point for every trial number. The replay is cached and extended trial by trial; it starts
over when the history is not an extension of the cached one.
"""

import copy

import numpy as np

from tunelab.searchers.base import Searcher
from tunelab.searchers.trial import TrialState


class Generation:
    """The members of generation `index`: trial numbers start, ..., start + len(params) - 1.

    `params`: the proposals (params dicts); `extra`: what the searcher needs to tell them (e.g. the
    continuous samples behind rounded integers).
    """

    __slots__ = ("index", "start", "params", "extra")

    def __init__(self, index, start, params, extra=None):
        self.index, self.start, self.params, self.extra = index, start, params, extra

    @property
    def end(self):
        return self.start + len(self.params)


class _Replay:
    """What replaying a history has given so far: the state after `n_generations` complete generations,
    the trials they used (`members`), and the generation now being handed out (None: none is left)."""

    __slots__ = ("sign", "signs", "members", "state", "n_generations", "current")

    def __init__(self, sign, state, signs=None):
        self.sign, self.members, self.state, self.n_generations, self.current = sign, [], state, 0, None
        self.signs = [sign] if signs is None else list(signs)  # one per objective


def ran_proposal(trial, params):
    """Whether `trial` ran the proposed `params`: it holds their value for each of its names (all of them,
    or in a define-by-run study the names its objective suggested). Otherwise the point came from elsewhere
    (another searcher, or values drawn for names new to the study) and is told as an injected point."""
    return all(name in params and params[name] == value for name, value in trial.params.items())


def member_losses(trials, sign):
    """Losses of a generation's trials; failed and pruned trials get the worst fitness, +inf.  (lam,)"""
    return np.array([sign * t.value if t.state is TrialState.COMPLETE and t.value is not None else np.inf
                     for t in trials], dtype=np.float64)


class GenerationalSearcher(Searcher):
    """A searcher whose trials come in generations (see the module docstring). Subclasses write

        _initial_state()                        -> the state before generation 0
        _breed(state, index, start)             -> a Generation, or None when the search is over
        _select(state, generation, trials, losses) -> the state after telling the generation's losses

    and must draw every random number of generation `index` from `self.rng(index, ...)`.
    """

    def setup(self, space, seed):
        super().setup(space, seed)
        self._replay_cache = None

    def _initial_state(self):
        raise NotImplementedError

    def _breed(self, state, index, start):
        raise NotImplementedError

    def _select(self, state, generation, trials, losses):
        raise NotImplementedError

    def _member_losses(self, trials, history):
        """The losses `_select` receives: (lam,) by `member_losses` (a searcher of several objectives
        gives (lam, k) loss vectors instead)."""
        return member_losses(trials, history.sign)

    def _extends_cache(self, history):
        """Whether the cached replay was built from a prefix of this history."""
        cache = self._replay_cache
        if cache is None or cache.sign != history.sign or cache.signs != history.signs.tolist():
            return False
        n = len(cache.members)
        trials = history.trials
        if len(trials) < n:
            return False
        prefix = trials[:n]
        if prefix == cache.members:  # the same trial objects (Trial has no __eq__: identity)
            return True
        same = all(a.number == b.number and a.state is b.state and a.value == b.value and a.params == b.params
                   and a.objective_values == b.objective_values for a, b in zip(prefix, cache.members))
        if same:  # the same records, read again (e.g. from storage)
            cache.members = prefix
        return same

    def replay(self, history):
        """Tell every complete generation of `history` (from the cache when it still applies); returns the
        replay, whose `current` is the generation being handed out."""
        if self.space is None:
            raise RuntimeError(f"{type(self).__name__}.setup(space, seed) must be called before ask.")
        if not self._extends_cache(history):
            self._replay_cache = _Replay(history.sign, self._initial_state(), history.signs.tolist())
        cache = self._replay_cache
        trials = history.trials
        while True:
            if cache.current is None:
                cache.current = self._breed(cache.state, cache.n_generations, len(cache.members))
                if cache.current is None:
                    break
            generation = cache.current
            members = trials[generation.start:generation.end]
            if len(members) < len(generation.params) or any(t.state is TrialState.RUNNING for t in members):
                break
            cache.state = self._select(cache.state, generation, members, self._member_losses(members, history))
            cache.members.extend(members)
            cache.n_generations += 1
            cache.current = None
        return cache

    def ask(self, n, history):
        """The next members of the current generation (none while its last members are still running)."""
        generation = self.replay(history).current
        if generation is None:
            return []
        k = history.next_number - generation.start
        return [dict(params) for params in generation.params[k:k + n]]

    def state(self, history):
        """A copy of the state after the complete generations of `history` (for inspection)."""
        return copy.deepcopy(self.replay(history).state)
