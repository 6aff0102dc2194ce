"""Importance benchmark: tunelab's `importance` (functional ANOVA of a GP) against Optuna's
`get_param_importances` with `FanovaImportanceEvaluator` (fANOVA of a random forest), on the same trials.

    python -m tunelab.benchmarks bench importance [--quick] [--compare] [--seeds K] [--out DIR]

Synthetic objectives whose variance shares are known in closed form (additive ones with given weights,
one with noise, one of steps, one with an interaction), each searched by RandomSearch with K seeds; then
the MLP of `tunelab demo` on digits, where no truth is known and only the two methods are compared.
Reported per case (medians over seeds): Spearman's rank correlation of each method with the truth and of
the two with each other, how often both name the same most important hyperparameter, the mean absolute
error of the main-effect shares normalised to sum 1 (Optuna's normalisation) against the truth, and
seconds per call.
"""

import math
import os
import statistics
import time
import warnings

import numpy as np

from tunelab.benchmarks._harness import markdown_table, peer, save_json
from tunelab.searchers import Categorical, Integer, RandomSearch, Real, importance, minimize

EFFECT = {"relu": 0.0, "tanh": 1.0, "sigmoid": 3.0}


def _var(values):
    return float(np.var(np.asarray(values, dtype=np.float64)))


def _noise(params):
    """A standard normal draw fixed by the params (a generator seeded by their bits): noise that does not
    depend on the order of the trials."""
    seed = [int(np.float64(v).view(np.uint64)) for v in params.values()]
    return float(np.random.default_rng(seed).standard_normal())


def synthetic_cases():
    """{name: (space, objective, true main-effect variances {name: V_j})}, each V_j in closed form."""
    cases = {}
    space = {"x1": Real(0, 1), "x2": Real(0, 1), "x3": Real(0, 1)}
    cases["additive 3-D: 3 x1 + cos(pi x2)"] = (
        space, lambda p: 3 * p["x1"] + math.cos(math.pi * p["x2"]), {"x1": 9 / 12, "x2": 1 / 2, "x3": 0.0})
    cases["noisy 3-D: 3 x1 + cos(pi x2) + N(0, 0.5^2)"] = (
        space, lambda p: 3 * p["x1"] + math.cos(math.pi * p["x2"]) + 0.5 * _noise(p),
        {"x1": 9 / 12, "x2": 1 / 2, "x3": 0.0})
    # steps: Var 1[x1 > 1/2] = 1/4, Var 1/2 1[x2 > 0.3] = 1/4 * 0.3 * 0.7
    cases["steps 3-D: 1[x1 > 0.5] + 0.5 1[x2 > 0.3]"] = (
        space, lambda p: float(p["x1"] > 0.5) + 0.5 * float(p["x2"] > 0.3), {"x1": 0.25, "x2": 0.0525, "x3": 0.0})
    space = {"lr": Real(1e-4, 1.0, log=True), "layers": Integer(1, 8), "act": Categorical(list(EFFECT)),
             "momentum": Real(0.0, 1.0), "noise": Real(0.0, 1.0)}
    # log10 lr = -4 + 4u: variance 16/12; 0.3 n over 8 equal levels: 0.09 * 63/12; sin(2 pi m): 1/2
    cases["mixed 5-D: log10 lr + 0.3 layers + act + sin(2 pi momentum)"] = (
        space,
        lambda p: math.log10(p["lr"]) + 0.3 * p["layers"] + EFFECT[p["act"]] + math.sin(2 * math.pi * p["momentum"]),
        {"lr": 16 / 12, "layers": 0.09 * 63 / 12, "act": _var(list(EFFECT.values())), "momentum": 0.5, "noise": 0.0})
    space = {"x1": Real(0, 1), "x2": Real(0, 1), "x3": Real(0, 1), "x4": Real(0, 1)}
    # E[f | x1] = 3 x1 + 1, E[f | x2] = 4 x2 + 1/2; the interaction 4 (x1 - 1/2)(x2 - 1/2) has variance 1/9
    cases["interaction 4-D: x1 + 2 x2 + 4 x1 x2 + 0.5 x3"] = (
        space, lambda p: p["x1"] + 2 * p["x2"] + 4 * p["x1"] * p["x2"] + 0.5 * p["x3"],
        {"x1": 9 / 12, "x2": 16 / 12, "x3": 0.25 / 12, "x4": 0.0})
    return cases


def ranks(values):
    """Ranks 1..n with ties given their average rank."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(1, len(v) + 1)
    for value in np.unique(v):
        tied = v == value
        r[tied] = r[tied].mean()
    return r


def spearman(a, b):
    """Spearman's rank correlation of two equally ordered lists (Pearson's on their ranks)."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt((ra @ ra) * (rb @ rb))
    return float(ra @ rb / denominator) if denominator > 0 else float("nan")


def normalised(shares, names):
    """Main-effect shares in the order of `names`, scaled to sum 1 (as Optuna reports them)."""
    v = np.array([max(float(shares.get(name, 0.0)), 0.0) for name in names])
    return v / v.sum() if v.sum() > 0 else v


def _optuna_distribution(optuna, dim):
    if isinstance(dim, Real):
        return optuna.distributions.FloatDistribution(dim.low, dim.high, log=dim.log)
    if isinstance(dim, Integer):
        return optuna.distributions.IntDistribution(dim.low, dim.high, log=dim.log)
    return optuna.distributions.CategoricalDistribution([str(c) for c in dim.choices])


def optuna_importance(optuna, study, seed):
    """Optuna's fANOVA importances of the complete trials of a tunelab study (categoricals by their str)."""
    dists = {name: _optuna_distribution(optuna, dim) for name, dim in study.space.items()}
    peer_study = optuna.create_study(direction=study.direction)
    for t in study.trials:
        if t.value is None or not math.isfinite(t.value):
            continue
        params = {k: (str(v) if isinstance(study.space[k], Categorical) else v) for k, v in t.params.items()}
        peer_study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=t.value))
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    return optuna.importance.get_param_importances(peer_study, evaluator=evaluator)


def _timed(f):
    start = time.perf_counter()
    result = f()
    return result, time.perf_counter() - start


def compare_on(study, names, truth, seed, optuna):
    """One seed's figures for one study: correlations, top-1 agreement, errors and seconds."""
    ours, our_s = _timed(lambda: importance(study, random_state=seed))
    a = normalised(ours, names)
    row = {"tunelab_s": our_s, "tunelab_top": names[int(np.argmax(a))]}
    if truth is not None:
        t = normalised(truth, names)
        row.update(rho_tunelab_truth=spearman(a, t), mae_tunelab=float(np.abs(a - t).mean()))
    if optuna is not None:
        theirs, their_s = _timed(lambda: optuna_importance(optuna, study, seed))
        b = normalised(theirs, names)
        row.update(optuna_s=their_s, rho_tunelab_optuna=spearman(a, b), optuna_top=names[int(np.argmax(b))])
        row["same_top"] = float(row["optuna_top"] == row["tunelab_top"])
        if truth is not None:
            row.update(rho_optuna_truth=spearman(b, t), mae_optuna=float(np.abs(b - t).mean()))
    return row


def summarise(case, n_trials, per_seed):
    """The medians over seeds of every figure (the fraction of seeds for same_top)."""
    row = {"case": case, "trials": n_trials, "seeds": len(per_seed)}
    for key in ("rho_tunelab_truth", "rho_optuna_truth", "rho_tunelab_optuna", "mae_tunelab", "mae_optuna",
                "tunelab_s", "optuna_s"):
        values = [r[key] for r in per_seed if key in r and not math.isnan(r[key])]
        row[key] = statistics.median(values) if values else None
    same = [r["same_top"] for r in per_seed if "same_top" in r]
    row["same_top"] = f"{int(sum(same))}/{len(same)}" if same else None
    return row


def digits_studies(seeds, n_trials, quick):
    """Random searches over the demo's MLP space on digits (600 rows, 3-fold CV accuracy), one per seed."""
    from tunelab.benchmarks.cli.tuning import model_and_space
    from tunelab.core import StandardScaler, load_digits, train_test_split
    from tunelab.searchers import SearchCV

    X, y = load_digits()
    X, _, y, _ = train_test_split(X, y, train_size=600, stratify=y, random_state=0)
    X = StandardScaler().fit_transform(X)
    estimator, space = model_and_space("mlp", True, max_epochs=8 if quick else 15, random_state=0)
    studies = []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search = SearchCV(estimator, space, searcher=RandomSearch(), n_trials=n_trials, cv=3, scoring="accuracy",
                              random_state=seed, progress=False).fit(X, y)
        studies.append(search.study_)
    return space, studies


def run(quick=False, out="bench-results", compare=True, seeds=None):
    """Every case; prints the table, writes <out>/importance.json and returns its record."""
    seeds = list(range(3 if quick else (seeds or 10)))
    n_trials = 30 if quick else 60
    optuna = peer("optuna") if compare else None
    if optuna is not None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if peer("sklearn") is None:  # Optuna's fANOVA fits scikit-learn's random forests
            optuna = None
    notes = [f"seeds {seeds}; trials from RandomSearch; medians over seeds"]
    if optuna is None:
        notes.append("Optuna (with scikit-learn) not installed or --compare off: its columns are empty")
    rows, details = [], {}
    for case, (space, objective, truth) in synthetic_cases().items():
        per_seed = []
        for seed in seeds:
            study = minimize(objective, space, RandomSearch(), n_trials=n_trials, seed=seed, progress=False)
            per_seed.append(compare_on(study, list(space), truth, seed, optuna))
        rows.append(summarise(case, n_trials, per_seed))
        details[case] = per_seed
        print(f"  {case}: done")
    digits_seeds = seeds[:2] if quick else seeds[:5]
    space, studies = digits_studies(digits_seeds, 20 if quick else 50, quick)
    per_seed = [compare_on(study, list(space), None, seed, optuna) for seed, study in zip(digits_seeds, studies)]
    rows.append(summarise("MLP on digits, the demo's 5-D space (no truth)", len(studies[0].trials), per_seed))
    details["digits"] = per_seed
    for note in notes:
        print(f"note: {note}")
    print(markdown_table(rows, ["case", "trials", "seeds", "rho_tunelab_truth", "rho_optuna_truth",
                                "rho_tunelab_optuna", "same_top", "mae_tunelab", "mae_optuna", "tunelab_s",
                                "optuna_s"]))
    return save_json(os.path.join(out, "importance.json"), "importance", {"rows": rows, "per_seed": details}, notes)
