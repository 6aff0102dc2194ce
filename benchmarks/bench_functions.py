"""Searchers on standard test functions: simple regret (best found - known minimum) over seeds and budgets,
and the time a searcher takes to suggest one point.

    python -m tunelab.benchmarks bench functions
        [--functions-suite bayes|evolution|evolution-peers|tpe|multiobjective|multiobjective-digits|conditional] [--quick] [--seeds K]
        [--out DIR]

The multiobjective suite reports the hypervolume of ZDT1, ZDT2 and DTLZ2 (run_multiobjective); the conditional
suite the regret on a tree-structured function (a root choice among three branches with their own dimensions).

tunelab's searchers run through `tunelab.searchers.minimize`; the peers (Optuna's TPE, GP and CMA-ES
samplers, Hyperopt's TPE, scikit-optimize's gp_minimize, pycma) run on the same functions and budgets when
installed, and are listed as skipped otherwise. Each run of a seed gets the same seed for every method.
The "conditional" suite runs the tree-structured function tree3 (benchmarks/functions.py) as a conditional
space for tunelab's searchers and through Optuna's define-by-run API for Optuna's TPE (independent, and
multivariate with group decomposition, `group=True`).
"""

import os
import time
import warnings

import numpy as np

from tunelab.benchmarks._harness import markdown_table, peer, save_json
from tunelab.benchmarks.functions import get_function
from tunelab.searchers import (
    CMAES, BayesSearch, EvolutionSearch, History, RandomSearch, Study, TPESearch, Trial, TrialState, minimize,
)

SUITES = {
    # name: (functions, budgets, methods)
    "bayes": (["branin", "hartmann6", "ackley5", "levy10"], [25, 50, 100],
              ["random", "bayes", "optuna-tpe", "optuna-gp", "skopt-gp"]),
    "evolution": (["rosenbrock5", "ackley5", "rastrigin5", "levy5", "rosenbrock10", "ackley10", "rastrigin10", "levy10"],
                  [100, 500, 2000], ["random", "evolution", "cmaes", "optuna-cmaes", "pycma"]),
    "evolution-peers": (["levy10", "rosenbrock4", "hartmann6", "branin"], [100],
                        ["random", "cmaes", "cmaes-random-start", "optuna-cmaes", "pycma"]),
    "tpe": (["branin", "hartmann6", "ackley5", "rosenbrock4", "levy10"], [25, 50, 100],
            ["random", "tpe", "tpe-as-optuna", "optuna-tpe-mv", "hyperopt-tpe"]),
    "conditional": (["tree3"], [50, 100], ["random", "tpe", "evolution", "bayes", "optuna-tpe", "optuna-tpe-group"]),
}
QUICK = {"bayes": (["branin", "hartmann6"], [25, 50]), "evolution": (["rosenbrock5", "ackley5"], [100, 300]),
         "evolution-peers": (["branin", "hartmann6"], [100]), "tpe": (["branin", "hartmann6"], [25, 50]),
         "conditional": (["tree3"], [25, 50])}


TUNELAB_METHODS = {"random": (RandomSearch, {}), "bayes": (BayesSearch, {}), "evolution": (EvolutionSearch, {}),
                   "cmaes": (CMAES, {}), "cmaes-random-start": (CMAES, {"start": "random"}),
                   "tpe": (TPESearch, {}), "tpe-independent": (TPESearch, {"multivariate": False}),
                   "tpe-as-optuna": (TPESearch, {"weights": "old_decay", "magic_clip_exponent": 1.0,
                                                 "startup": "uniform"})}


def _run_tunelab(method, function, budget, seed):
    searcher_class, kwargs = TUNELAB_METHODS[method]
    study = minimize(function.objective(), function.space(), searcher=searcher_class(**kwargs), n_trials=budget,
                     seed=seed, progress=False)
    return [t.value for t in study.trials if t.value is not None]


def _run_optuna(method, function, budget, seed):
    optuna = peer("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {"optuna-tpe": lambda: optuna.samplers.TPESampler(seed=seed),
                "optuna-tpe-mv": lambda: optuna.samplers.TPESampler(seed=seed, multivariate=True),
                "optuna-tpe-group": lambda: optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True),
                "optuna-gp": lambda: optuna.samplers.GPSampler(seed=seed, n_startup_trials=10),
                "optuna-cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed)}
    study = optuna.create_study(sampler=samplers[method]())
    def objective(trial):
        if hasattr(function, "suggest"):  # a tree-structured function, define-by-run
            return function.suggest(trial)
        return function([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(function.bounds)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=budget)
    return [t.value for t in study.trials if t.value is not None]


def _run_skopt(method, function, budget, seed):
    skopt = peer("skopt")
    values = []

    def objective(x):
        values.append(function(x))
        return values[-1]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        skopt.gp_minimize(objective, list(function.bounds), n_calls=budget, n_initial_points=10, random_state=seed)
    return values


def _run_hyperopt(method, function, budget, seed):
    """Hyperopt's TPE (`tpe.suggest`, its defaults: 20 startup trials, gamma 0.25, 24 candidates)."""
    hyperopt = peer("hyperopt")
    space = [hyperopt.hp.uniform(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(function.bounds)]
    trials = hyperopt.Trials()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hyperopt.fmin(lambda x: function(np.asarray(x)), space, algo=hyperopt.tpe.suggest, max_evals=budget,
                      trials=trials, rstate=np.random.default_rng(seed), show_progressbar=False)
    return [float(loss) for loss in trials.losses() if loss is not None]


def _run_pycma(method, function, budget, seed):
    """pycma from a uniformly random start, sigma0 = 0.3 of the range, in the box scaled to [0, 1]^d."""
    cma = peer("cma")
    low, high = np.array(function.bounds).T
    rng = np.random.default_rng(seed)
    es = cma.CMAEvolutionStrategy(rng.random(function.dim), 0.3,
                                  {"bounds": [0, 1], "seed": seed + 1, "verbose": -9, "maxfevals": budget})
    values = []
    while len(values) < budget and not es.stop():
        X = es.ask()
        fitness = [function(low + (high - low) * np.asarray(x)) for x in X]
        values.extend(fitness)
        es.tell(X, fitness)
    return values[:budget]


PEERS = {"optuna-tpe": ("optuna", _run_optuna), "optuna-tpe-mv": ("optuna", _run_optuna),
         "optuna-tpe-group": ("optuna", _run_optuna),
         "optuna-gp": ("optuna", _run_optuna), "hyperopt-tpe": ("hyperopt", _run_hyperopt),
         "optuna-cmaes": ("optuna", _run_optuna), "skopt-gp": ("skopt", _run_skopt), "pycma": ("cma", _run_pycma)}


def _runner(method):
    """(run function, reason it is unavailable or None)."""
    if method in PEERS:
        module, run = PEERS[method]
        return (run, None) if peer(module) is not None else (None, f"{module} not installed")
    return _run_tunelab, None


def regret_table(functions, budgets, methods, seeds, compare=True):
    rows, skipped = [], {}
    for name in functions:
        function = get_function(name)
        for method in methods:
            if method in PEERS and not compare:
                skipped[method] = "--compare not given"
                continue
            run, reason = _runner(method)
            if run is None:
                skipped[method] = reason
                continue
            regrets = {b: [] for b in budgets}
            started = time.perf_counter()
            for seed in range(seeds):
                values = np.asarray(run(method, function, max(budgets), seed), dtype=float)
                for b in budgets:
                    regrets[b].append(float(np.min(values[:b])) - function.f_min)
            elapsed = time.perf_counter() - started
            for b in budgets:
                q1, median, q3 = np.percentile(regrets[b], [25, 50, 75])
                rows.append({"function": name, "method": method, "evals": b, "median_regret": float(median),
                             "q1": float(q1), "q3": float(q3), "seconds_per_run": elapsed / seeds})
    return rows, skipped


def suggestion_times(n_observations, dim=6, repeats=3, compare=True):
    """Seconds for one suggestion with n observed points of Hartmann6 (random points), per method: a fresh
    searcher each time, so tunelab's figure includes a full refit of the GP hyperparameters."""
    function = get_function("hartmann6")
    rows = []
    for n in n_observations:
        rng = np.random.default_rng(n)
        X = rng.random((n, dim))
        y = np.array([function(x) for x in X])
        for method, timer in _suggestion_timers(compare).items():
            seconds = timer(function, X, y, repeats)
            if seconds is not None:
                rows.append({"observations": n, "method": method, "ms_per_suggestion": seconds * 1e3})
    return rows


def running_suggestion_times(sizes, seed=0):
    """Median seconds of `study.ask()` in a running BayesSearch study on Hartmann6, over the 10 asks before
    each size in `sizes`: refits every few trials and O(n^2) Cholesky extensions in between, as in real use."""
    function = get_function("hartmann6")
    objective = function.objective()
    study = Study(function.space(), BayesSearch(), seed=seed)
    seconds = []
    for _ in range(max(sizes)):
        start = time.perf_counter()
        trial = study.ask()
        seconds.append(time.perf_counter() - start)
        study.tell(trial, objective(trial.params))
    return [{"observations": n, "method": "bayes (running study)",
             "ms_per_suggestion": float(np.median(seconds[n - 10:n])) * 1e3} for n in sizes]


def tpe_suggestion_times(sizes, repeats=10, compare=True, seed=0):
    """Median seconds of one TPE suggestion in a running study on Hartmann6 that has n finished trials, for
    tunelab's TPESearch and (with `compare`, when installed) Optuna's multivariate TPESampler: each study
    starts with n random trials (n_startup_trials=n), then makes `repeats` TPE asks, each told before the
    next, alternating between the libraries; the time is that of the ask alone."""
    function = get_function("hartmann6")
    rows = []
    for n in sizes:
        studies = {"tpe": _TunelabStudy(function, n, seed)}
        if compare and peer("optuna") is not None:
            studies["optuna-tpe-mv"] = _OptunaStudy(function, n, seed)
        seconds = {method: [] for method in studies}
        for _ in range(repeats):
            for method, study in studies.items():
                seconds[method].append(study.step())
        rows += [{"observations": n, "method": method, "ms_per_suggestion": float(np.median(s)) * 1e3}
                 for method, s in seconds.items()]
    return rows


class _TunelabStudy:
    """A tunelab study of TPESearch(n_startup_trials=n) with n finished trials; `step` asks, times and tells."""

    def __init__(self, function, n, seed):
        self.objective = function.objective()
        self.study = Study(function.space(), TPESearch(n_startup_trials=n), seed=seed)
        for _ in range(n):
            self.step()

    def step(self):
        start = time.perf_counter()
        trial = self.study.ask()
        seconds = time.perf_counter() - start
        self.study.tell(trial, self.objective(trial.params))
        return seconds


class _OptunaStudy:
    """The same with Optuna's TPESampler(multivariate=True, n_startup_trials=n)."""

    def __init__(self, function, n, seed):
        optuna = peer("optuna")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.function = function
        self.distributions = {f"x{i}": optuna.distributions.FloatDistribution(lo, hi)
                              for i, (lo, hi) in enumerate(function.bounds)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=n)
        self.study = optuna.create_study(sampler=sampler)
        for _ in range(n):
            self.step()

    def step(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            trial = self.study.ask(self.distributions)
            seconds = time.perf_counter() - start
        self.study.tell(trial, self.function([trial.params[name] for name in self.distributions]))
        return seconds


def _time_tunelab_bayes(function, X, y, repeats):
    """One `ask` of a BayesSearch given n finished trials (a fresh searcher each time: a full refit)."""
    space = function.space()
    trials = [Trial(k, {f"x{i}": float(v) for i, v in enumerate(x)}, TrialState.COMPLETE, float(value))
              for k, (x, value) in enumerate(zip(X, y))]
    times = []
    for r in range(repeats):
        searcher = BayesSearch()
        searcher.setup(space, r)
        start = time.perf_counter()
        searcher.ask(1, History(space, trials))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _time_optuna_gp(function, X, y, repeats):
    optuna = peer("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(X.shape[1])}
    times = []
    for r in range(repeats):
        study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=r, n_startup_trials=10))
        study.add_trials([optuna.trial.create_trial(params={f"x{i}": float(v) for i, v in enumerate(x)},
                                                    distributions=distributions, value=float(value))
                          for x, value in zip(X, y)])
        start = time.perf_counter()
        trial = study.ask(distributions)
        times.append(time.perf_counter() - start)
        study.tell(trial, 0.0)
    return float(np.median(times))


def _time_skopt(function, X, y, repeats):
    """skopt fits its GP and optimises the acquisition inside `tell`; one suggestion = tell(all) + ask."""
    skopt = peer("skopt")
    times = []
    for r in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimizer = skopt.Optimizer([(0.0, 1.0)] * X.shape[1], base_estimator="GP", n_initial_points=10,
                                        random_state=r)
            start = time.perf_counter()
            optimizer.tell(X.tolist(), y.tolist())
            optimizer.ask()
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def _suggestion_timers(compare):
    timers = {"bayes": _time_tunelab_bayes}
    if compare and peer("optuna") is not None:
        timers["optuna-gp"] = _time_optuna_gp
    if compare and peer("skopt") is not None:
        timers["skopt-gp"] = _time_skopt
    return timers


def run(suite="bayes", quick=False, seeds=10, out="bench-results", compare=True, functions=None, budgets=None,
        methods=None, timing=True):
    """Run a suite; `functions`, `budgets` and `methods` (lists) replace the suite's own when given."""
    if suite == "multiobjective":
        return run_multiobjective(quick, seeds, out, compare, functions, budgets, methods)
    if suite == "multiobjective-digits":
        return run_digits(1 if quick else seeds, 10 if quick else 30, out, methods)
    suite_functions, suite_budgets, suite_methods = SUITES[suite]
    if quick:
        suite_functions, suite_budgets = QUICK[suite]
        seeds = min(seeds, 3)
    functions, budgets, methods = functions or suite_functions, budgets or suite_budgets, methods or suite_methods
    unknown = [m for m in methods if m not in PEERS and m not in TUNELAB_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(list(TUNELAB_METHODS) + list(PEERS))}.")
    for name in functions:
        get_function(name)  # a clear error for an unknown name before any run
    rows, skipped = regret_table(functions, budgets, methods, seeds, compare)
    notes = [f"{method} skipped: {reason}" for method, reason in skipped.items()]
    print(markdown_table(rows, ["function", "method", "evals", "median_regret", "q1", "q3", "seconds_per_run"]))
    results = {"regret": rows, "seeds": seeds}
    if suite == "bayes" and timing:
        sizes = [50, 100] if quick else [50, 100, 200, 400]
        timing = suggestion_times(sizes, repeats=1 if quick else 3, compare=compare)
        timing += running_suggestion_times(sizes)
        print()
        print(markdown_table(timing, ["observations", "method", "ms_per_suggestion"]))
        results["suggestion_time"] = timing
    if suite == "tpe" and timing:
        timing = tpe_suggestion_times([100] if quick else [100, 1000], repeats=3 if quick else 10, compare=compare)
        print()
        print(markdown_table(timing, ["observations", "method", "ms_per_suggestion"]))
        results["suggestion_time"] = timing
    for note in notes:
        print(f"note: {note}")
    return save_json(os.path.join(out, f"functions-{suite}.json"), f"functions-{suite}", results, notes)


# ---- several objectives: hypervolume on ZDT1, ZDT2 and DTLZ2 ----------------------------------------------

MO_FUNCTIONS, MO_BUDGETS = ["zdt1", "zdt2", "dtlz2"], [100, 300]
MO_METHODS = ["random", "nsga2", "parego", "motpe", "optuna-nsga2", "optuna-motpe"]
MO_BUDGET_LIMIT = {"parego": 100}  # the suite's default: a GP refitted for every trial, 300 take minutes a run


def _mo_tunelab(method, function, budget, seed):
    from tunelab.searchers import NSGA2Search, ParEGOSearch, TPESearch

    searcher = {"random": RandomSearch, "nsga2": NSGA2Search, "parego": ParEGOSearch, "motpe": TPESearch}[method]()
    study = Study(function.space(), searcher, directions=["minimize"] * function.n_objectives, seed=seed)
    study.optimize(function.objective(), n_trials=budget, progress=False)
    return [t.objective_values for t in study.trials if t.objective_values is not None]


def _mo_optuna(method, function, budget, seed):
    optuna = peer("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.NSGAIISampler(population_size=50, seed=seed) if method == "optuna-nsga2"
               else optuna.samplers.TPESampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * function.n_objectives, sampler=sampler)

    def objective(trial):
        return function([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(function.dim)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=budget)
    return [t.values for t in study.trials if t.values is not None]


def hypervolume_table(functions, budgets, methods, seeds, compare=True, limits=None):
    """Median (and quartiles) over seeds of the hypervolume of the first b trials, per function, method and
    budget b; seconds per trial of the longest run. The seeds of a function are run method by method in turn
    (interleaved), so a slow spell of the machine falls on every method alike."""
    from tunelab.benchmarks.functions import get_multiobjective_function
    from tunelab.searchers import hypervolume

    rows, skipped = [], {}
    for name in functions:
        function = get_multiobjective_function(name)
        runnable = []
        for method in methods:
            if method.startswith("optuna") and (not compare or peer("optuna") is None):
                skipped[method] = "--compare not given" if not compare else "optuna not installed"
            else:
                runnable.append(method)
        hv = {(m, b): [] for m in runnable for b in budgets}
        seconds = {m: 0.0 for m in runnable}
        for seed in range(seeds):
            for method in runnable:
                run = _mo_optuna if method.startswith("optuna") else _mo_tunelab
                top = min(max(budgets), (limits or {}).get(method, max(budgets)))
                started = time.perf_counter()
                values = np.asarray(run(method, function, top, seed), dtype=float)
                seconds[method] += (time.perf_counter() - started) / top
                for b in budgets:
                    if b <= top:
                        hv[method, b].append(hypervolume(values[:b], function.reference))
        for method in runnable:
            for b in budgets:
                if hv[method, b]:
                    q1, median, q3 = np.percentile(hv[method, b], [25, 50, 75])
                    rows.append({"function": name, "method": method, "evals": b, "median_hv": float(median),
                                 "q1": float(q1), "q3": float(q3), "ms_per_trial": 1000 * seconds[method] / seeds})
    return rows, skipped


def run_multiobjective(quick=False, seeds=10, out="bench-results", compare=True, functions=None, budgets=None,
                       methods=None):
    """The multi-objective suite: hypervolume at 100 and 300 trials (reference points of functions.py)."""
    limits = MO_BUDGET_LIMIT if budgets is None else {}  # budgets given: every method runs them all
    functions, budgets, methods = functions or MO_FUNCTIONS, budgets or MO_BUDGETS, methods or MO_METHODS
    if quick:
        functions, budgets, seeds = functions[:1], [min(budgets)], min(seeds, 3)
    unknown = [m for m in methods if m not in MO_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(MO_METHODS)}.")
    rows, skipped = hypervolume_table(functions, budgets, methods, seeds, compare, limits)
    notes = [f"{method} skipped: {reason}" for method, reason in skipped.items()]
    notes += [f"{m} runs {b} trials at most (give --budgets to run more)" for m, b in limits.items() if m in methods]
    print(markdown_table(rows, ["function", "method", "evals", "median_hv", "q1", "q3", "ms_per_trial"]))
    for note in notes:
        print(f"note: {note}")
    return save_json(os.path.join(out, "functions-multiobjective.json"), "functions-multiobjective",
                     {"hypervolume": rows, "seeds": seeds}, notes)


# ---- several objectives on a real model: an MLP on digits, accuracy against fit time ------------------------

DIGITS_METHODS = ["random", "nsga2", "parego", "motpe"]
DIGITS_CHECKPOINTS = [10, 20, 30]


def _digits_space():
    from tunelab.searchers import Integer, Real

    return {"hidden_layer_sizes": Integer(8, 256, log=True), "alpha": Real(1e-6, 1e-1, log=True),
            "optimizer__lr": Real(1e-4, 1e-1, log=True), "optimizer__batch_size": Integer(16, 256, log=True),
            "max_epochs": Integer(5, 60, log=True)}


def _digits_searcher(method):
    from tunelab.searchers import NSGA2Search, ParEGOSearch, TPESearch

    return {"random": lambda: RandomSearch(), "nsga2": lambda: NSGA2Search(population_size=10),
            "parego": lambda: ParEGOSearch(n_initial=10), "motpe": lambda: TPESearch()}[method]()


def _digits_run(method, X, y, n_trials, seed):
    """(accuracy, mean fit seconds, params) of every complete trial of one SearchCV run, in trial order."""
    from tunelab.core import MLPClassifier
    from tunelab.optimizers import Adam
    from tunelab.searchers import SearchCV

    model = MLPClassifier(optimizer=Adam(), tol=None, random_state=0)  # tol=None: every trial runs its max_epochs
    search = SearchCV(model, _digits_space(), _digits_searcher(method), n_trials=n_trials, cv=3,
                      scoring={"accuracy": "accuracy", "fit_time": "fit_time"},
                      directions=["maximize", "minimize"], refit=False, random_state=seed, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the epochs are a hyperparameter here
        search.fit(X, y)
    return [(t.objective_values[0], t.objective_values[1], dict(t.params)) for t in search.study_.trials
            if t.objective_values is not None]


def run_digits(seeds=1, n_trials=30, out="bench-results", methods=None):
    """tunelab's MLPClassifier (Adam) on the digits (pixels / 16): 3-fold accuracy (maximised) against mean
    fit seconds (minimised), over width, alpha, learning rate, batch size and epochs.

    Hypervolume of (1 - accuracy, fit seconds / T) against the reference (1, 1), T the slowest mean fit time
    any run of the same seed saw (so 1 would be a perfect model that costs nothing), after 10, 20 and 30
    trials; median over seeds. Methods run in turn per seed.
    The front of each method (seed 0) is printed with its params.
    """
    from tunelab.core import load_digits
    from tunelab.searchers import hypervolume
    from tunelab.searchers.pareto import is_pareto_efficient

    methods = methods or DIGITS_METHODS
    X, y = load_digits()
    X = X / 16.0
    hv, fronts, seconds = {(m, c): [] for m in methods for c in DIGITS_CHECKPOINTS}, {}, {m: 0.0 for m in methods}
    for seed in range(seeds):
        runs = {}
        for method in methods:
            started = time.perf_counter()
            runs[method] = _digits_run(method, X, y, n_trials, seed)
            seconds[method] += time.perf_counter() - started
        slowest = max(r[1] for run in runs.values() for r in run)
        for method, run in runs.items():
            F = np.array([(1 - acc, t / slowest) for acc, t, _ in run])
            for c in DIGITS_CHECKPOINTS:
                hv[method, c].append(hypervolume(F[:c], [1.0, 1.0]))
            if seed == 0:
                fronts[method] = [run[i] for i in np.flatnonzero(is_pareto_efficient(F))]
    rows = [{"method": m, "trials": c, "median_hv": float(np.median(hv[m, c])), "seconds_per_run": seconds[m] / seeds}
            for m in methods for c in DIGITS_CHECKPOINTS if c <= n_trials]
    print(markdown_table(rows, ["method", "trials", "median_hv", "seconds_per_run"]))
    front_rows = [{"method": m, "accuracy": acc, "fit_seconds": t, **params}
                  for m in methods for acc, t, params in sorted(fronts[m], key=lambda r: r[1])]
    print()
    print(markdown_table(front_rows, ["method", "accuracy", "fit_seconds", *_digits_space()]))
    return save_json(os.path.join(out, "functions-multiobjective-digits.json"), "functions-multiobjective-digits",
                     {"hypervolume": rows, "fronts": front_rows, "seeds": seeds, "n_trials": n_trials}, [])
