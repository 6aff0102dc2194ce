"""The `tunelab` command line: its parser, the dispatch of each command, and `main`.

    tunelab demo  [--quick] [--budget N] [--seed S] [--searchers grid,random,bayes,evolution,tpe] [--out DIR]
    tunelab tune  DATA.csv --target COLUMN [--model linear|logistic|mlp] [--searcher NAME] [--trials N]
                  [--cv K] [--metric NAME] [--objectives A,B] [--storage study.db] [--seed S] [--out DIR]
    tunelab bench fit|search|functions|hyper [--quick] [--compare] [--seeds K] [--functions-suite NAME] [--out DIR]
    tunelab --version

Exit codes: 0 success, 2 usage error (a line naming the option, checked before any work: a bad value, a
report folder that cannot be written), 1 failure (one line on stderr; the traceback with --debug), 130 Ctrl-C
(the line "interrupted: N finished trials kept in PLACE": the study file, or the report's trials.json).
Warnings (e.g. that a model did not converge in the epochs it was given) are printed once each, on one line.
"""

import argparse
import os
import sys
import tempfile
import warnings

SINGLE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command Ctrl-C ended


def _searcher_list(text):
    from tunelab.benchmarks.cli.tuning import SEARCHER_NAMES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SEARCHER_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown searcher(s) {', '.join(unknown) or text!r}; "
                                         f"choose from {', '.join(SEARCHER_NAMES)}")
    return tuple(names)


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _at_least(low, what):
    """An argparse type: an integer >= low."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {what} (an integer >= {low}); got {text}")
        return value

    return parse


_folds = _at_least(2, "at least 2 folds")
_seed = _at_least(0, "a non-negative seed")


def _metric(text):
    from tunelab.core.metrics import get_scorer_names

    if text not in get_scorer_names():
        raise argparse.ArgumentTypeError(f"unknown metric {text!r}; choose from {', '.join(get_scorer_names())}")
    return text


def _names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names; got {text!r}")
    return names


def _check_bench_names(args):
    """The names given to `bench functions --functions/--methods`, checked after parsing (the modules that know
    them load numpy, which must wait until the threads are pinned); a usage message, or None."""
    from tunelab.benchmarks.bench_functions import PEERS, TUNELAB_METHODS
    from tunelab.benchmarks.functions import get_function

    if args.functions_suite.startswith("multiobjective"):  # run_multiobjective and run_digits check their own
        return None

    for name in args.functions or ():
        try:
            get_function(name)
        except ValueError as exc:
            return f"argument --functions: {str(exc).replace('`name`', 'a test function')}"
    known = list(TUNELAB_METHODS) + list(PEERS)
    unknown = [name for name in args.methods or () if name not in known]
    if unknown:
        return f"argument --methods: unknown method(s) {', '.join(unknown)}; known: {', '.join(known)}"
    return None


def _budgets(text):
    try:
        budgets = sorted({int(b) for b in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers; got {text!r}") from None
    if budgets[0] < 1:
        raise argparse.ArgumentTypeError(f"budgets must be positive; got {text!r}")
    return budgets


class _Version(argparse.Action):
    """--version: print `tunelab X.Y.Z` (tunelab.core.__version__, imported only when asked) and exit 0."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from tunelab.core import __version__

        print(f"tunelab {__version__}")
        parser.exit()


def build_parser():
    parser = argparse.ArgumentParser(prog="tunelab", description="Parameter and hyperparameter tuning, from scratch.")
    parser.add_argument("--version", action=_Version, help="print tunelab's version and exit")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{demo,tune,bench}")

    demo = commands.add_parser("demo", help="tune an MLP on the shipped digits data with every searcher")
    demo.add_argument("--quick", action="store_true", help="a smaller run (about 20 s), used by the tests")
    demo.add_argument("--budget", type=_positive, default=None, help="trials per searcher (default 30; 6 with --quick)")
    demo.add_argument("--seed", type=_seed, default=0)
    demo.add_argument("--searchers", type=_searcher_list, default=("grid", "random", "bayes", "evolution", "tpe"),
                      help="comma-separated: grid,random,bayes,evolution")
    demo.add_argument("--jobs", type=_positive, default=1, help="trials evaluated at once (threads)")
    demo.add_argument("--out", default="tunelab-report", help="report folder (default ./tunelab-report)")
    demo.add_argument("--no-progress", action="store_true")

    tune = commands.add_parser("tune", help="tune a model on your own CSV file")
    tune.add_argument("data", help="CSV file with a header row")
    tune.add_argument("--target", required=True, help="the column to predict")
    tune.add_argument("--model", choices=("linear", "logistic", "mlp"), default="logistic")
    tune.add_argument("--searcher", choices=("grid", "random", "bayes", "evolution", "tpe", "nsga2", "parego"),
                      default="random", help="nsga2 and parego search several --objectives")
    tune.add_argument("--trials", type=_positive, default=20)
    tune.add_argument("--cv", type=_folds, default=5)
    tune.add_argument("--metric", type=_metric, default=None, help="a scorer name such as accuracy, f1_macro, r2")
    tune.add_argument("--objectives", default=None,
                      help="several objectives, e.g. accuracy,fit_time (scorer names, fit_time, n_weights): "
                           "prints the Pareto front")
    tune.add_argument("--storage", default=None, help="SQLite file: the study is kept there and resumed")
    tune.add_argument("--seed", type=_seed, default=0)
    tune.add_argument("--jobs", type=_positive, default=1)
    tune.add_argument("--out", default="tunelab-report")
    tune.add_argument("--no-progress", action="store_true")

    bench = commands.add_parser("bench", help="run a benchmark suite; prints markdown tables, writes JSON")
    bench.add_argument("suite", choices=("fit", "search", "functions", "hyper", "importance"))
    bench.add_argument("--quick", action="store_true", help="small sizes, for a check in seconds")
    bench.add_argument("--compare", action="store_true",
                       help="add the peers (scikit-learn, Optuna, scikit-optimize, pycma) that are installed")
    bench.add_argument("--seeds", type=_positive, default=10)
    bench.add_argument("--functions-suite",
                       choices=("bayes", "evolution", "evolution-peers", "tpe", "multiobjective", "multiobjective-digits",
                                "conditional"),
                       default="bayes",
                       help="which test-function suite `bench functions` runs")
    bench.add_argument("--functions", type=_names, default=None, help="bench functions: e.g. branin,hartmann6")
    bench.add_argument("--budgets", type=_budgets, default=None, help="bench functions: e.g. 25,50,100")
    bench.add_argument("--methods", type=_names, default=None, help="bench functions: e.g. random,bayes,optuna-gp")
    bench.add_argument("--no-timing", action="store_true", help="bench functions: skip the suggestion-time table")
    bench.add_argument("--out", default="bench-results")
    parser.commands = {"demo": demo, "tune": tune, "bench": bench}  # for the usage errors main finds after parsing
    return parser


def check_out_folder(folder):
    """Make sure the report can be written to `folder` before any work: create it (with its parents) and
    write and remove a probe file there. A ValueError says why it cannot (an existing file, no permission,
    a parent that is a file, a read-only file system)."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{folder!r} is an existing file, not a folder; give a folder for the report.")
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"the report folder {folder!r} cannot be written: {exc.strerror or exc}.") from None


def _run(args):
    if args.command == "demo":
        from tunelab.benchmarks.cli.demo import run_demo

        budget = args.budget or (6 if args.quick else 30)
        run_demo(budget=budget, seed=args.seed, searchers=args.searchers, out=args.out, quick=args.quick,
                 n_jobs=args.jobs, progress=not args.no_progress)
    elif args.command == "tune":
        from tunelab.benchmarks.cli.tune import run_tune

        run_tune(args.data, args.target, model=args.model, searcher=args.searcher, trials=args.trials, cv=args.cv,
                 metric=args.metric, storage=args.storage, seed=args.seed, out=args.out, n_jobs=args.jobs,
                 progress=not args.no_progress, objectives=args.objectives)
    else:
        _missing_peers(args.compare)
        if args.suite == "fit":
            from tunelab.benchmarks.bench_fit import run
            run(quick=args.quick, out=args.out, compare=args.compare)
        elif args.suite == "search":
            from tunelab.benchmarks.bench_search import run
            run(quick=args.quick, out=args.out, compare=args.compare)
        elif args.suite == "functions":
            from tunelab.benchmarks.bench_functions import run
            run(suite=args.functions_suite, quick=args.quick, seeds=args.seeds, out=args.out, compare=args.compare,
                functions=args.functions, budgets=args.budgets, methods=args.methods, timing=not args.no_timing)
        elif args.suite == "importance":
            from tunelab.benchmarks.bench_importance import run
            run(quick=args.quick, out=args.out, compare=args.compare, seeds=args.seeds)
        else:
            from tunelab.benchmarks.bench_hyper import run
            run(quick=args.quick, out=args.out, seeds=args.seeds)


def _missing_peers(compare):
    if not compare:
        print("note: peers are not compared (add --compare to include those installed)")
        return
    from tunelab.benchmarks._harness import peer

    missing = [name for module, name in (("sklearn", "scikit-learn"), ("optuna", "optuna"), ("skopt", "scikit-optimize"),
                                         ("cma", "cma (pycma)")) if peer(module) is None]
    if missing:
        print(f"note: not installed, so not compared: {', '.join(missing)} (pip install 'tunelab[compare]')")


class _WarningLines:
    """warnings.showwarning for the command line: each distinct warning once, as one line on stderr
    (`tunelab: ConvergenceWarning: ...`), wherever in the code it was raised."""

    def __init__(self):
        self.shown = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = f"tunelab: {category.__name__}: {message}"
        if text not in self.shown:
            self.shown.add(text)
            print(text, file=sys.stderr if file is None else file)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "bench":  # single-threaded comparisons; only effective before numpy is imported
        for name in SINGLE_THREAD:
            os.environ.setdefault(name, "1")
        problem = _check_bench_names(args)
        if problem:
            parser.commands["bench"].error(problem)  # exits 2
    try:
        check_out_folder(args.out)  # before any work: a report that cannot be written fails now, not at the end
    except ValueError as exc:
        parser.commands[args.command].error(f"argument --out: {exc}")  # exits 2
    return _run_reporting_failures(args)


def _run_reporting_failures(args):
    """Run the command; a failure is one line on stderr and exit code 1, Ctrl-C exit code 130."""
    from tunelab.benchmarks.cli.tuning import Interrupted

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _WarningLines()
            _run(args)
    except Interrupted as stop:  # finished trials kept: say where
        print(f"tunelab: {stop}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("tunelab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        print(f"tunelab: error: {exc}", file=sys.stderr)
        return 1
    return 0
