"""The searchers a study file may name, and how a stored searcher is rebuilt without running the file's code.

A study file keeps its searcher as JSON, {"class": NAME, "params": {...}}. Rebuilding it imports
nothing named by the file: NAME is looked up in this explicit table of tunelab's searchers (files
written before the table name a module path, e.g. "tunelab.searchers.random.RandomSearch", which
`OLD_NAMES` maps to it), each stored param must be a parameter of that class's constructor, of one of
the JSON types declared for it here, and anything else is refused with a message naming the file.
Nested values are passed to the constructor as the plain JSON values they are; nothing in them is
rebuilt. The study then runs the searcher's own checks (`setup`) on the values.

A new searcher of tunelab joins with one call below, declaring the JSON type of every constructor
parameter: `register_searcher(MySearch, {"width": "integer", "mode": "string"})`, or `declare_searcher`
with its module path, which imports the module only when a study first names the searcher (so that a
study of random search does not load the GP's kernels). A searcher from outside tunelab is never rebuilt
from a file: its study is reopened with `Study.load(path, searcher=...)`.
"""

import importlib
import inspect
import json

from tunelab.searchers.base import Searcher
from tunelab.searchers.storage import StorageError

JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")

_SEARCHERS = {}  # name -> (class, {param: tuple of JSON types})
_DECLARED = {}  # name -> (module, param_types, old_names): registered (into _SEARCHERS) when first needed
_NAMES = {}  # every name a file may use (the name, module paths old and new) -> name


def json_type(value):
    """The JSON type of a value decoded by `json.loads` ("integer" for ints; "number" for other floats)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"{value!r} of type {type(value).__name__} is not a JSON value.")


def _accepts(declared, value):
    kind = json_type(value)
    return kind in declared or (kind == "integer" and "number" in declared)


def _constructor_params(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
    if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params):
        raise TypeError(f"{cls.__name__}.__init__ must take named parameters only (no *args, **kwargs) to be "
                        "rebuilt from a file.")
    return [p.name for p in params]


def register_searcher(cls, param_types, old_names=()):
    """Let study files name `cls` (a Searcher of tunelab) by its class name; `param_types` maps each
    constructor parameter to a JSON type or a tuple of them (see JSON_TYPES; "number" takes integers too);
    `old_names`: module paths it had in earlier versions, which older files name."""
    if not (isinstance(cls, type) and issubclass(cls, Searcher) and cls.__module__.startswith("tunelab.searchers.")):
        raise TypeError(f"only tunelab's own searchers are registered, to be rebuilt from study files; got {cls!r}. "
                        "A searcher of your own is passed again as `searcher=` when its study is reopened.")
    expected = _constructor_params(cls)
    if sorted(param_types) != sorted(expected):
        raise TypeError(f"{cls.__name__} declares types for {list(param_types)}; its constructor takes {expected}.")
    types = {}
    for name in expected:
        declared = (param_types[name],) if isinstance(param_types[name], str) else tuple(param_types[name])
        unknown = [t for t in declared if t not in JSON_TYPES]
        if unknown or not declared:
            raise ValueError(f"unknown JSON type {unknown[0] if unknown else None!r} for `{name}` of {cls.__name__}; "
                             f"the types are {', '.join(JSON_TYPES)}.")
        types[name] = declared
    name = cls.__name__
    if name in _SEARCHERS and _SEARCHERS[name][0] is not cls:
        raise ValueError(f"another searcher is registered as {name!r}: {_SEARCHERS[name][0]!r}.")
    if name in _DECLARED and _DECLARED[name][0] != cls.__module__:
        raise ValueError(f"another searcher is registered as {name!r}: {_DECLARED[name][0]}.{name}.")
    _SEARCHERS[name] = (cls, types)
    for alias in (name, f"{cls.__module__}.{cls.__qualname__}", f"tunelab.searchers.{name}", *old_names):
        _NAMES[alias] = name
    return cls


def declare_searcher(path, param_types, old_names=()):
    """`register_searcher` for the class at `path` ("module.Class"), done when a study first names it:
    study files may name it at once, and its module is imported only then."""
    module, name = path.rsplit(".", 1)
    _DECLARED[name] = (module, param_types, tuple(old_names))
    for alias in (name, path, f"tunelab.searchers.{name}", *old_names):
        _NAMES[alias] = name


def _registered(name):
    """(class, types) of a registered name, importing a declared searcher's module the first time."""
    if name not in _SEARCHERS:
        module, param_types, old_names = _DECLARED[name]
        register_searcher(getattr(importlib.import_module(module), name), param_types, old_names)
    return _SEARCHERS[name]


def registered_searchers():
    """name -> class of every searcher a study file may name."""
    return {name: _registered(name)[0] for name in sorted({*_SEARCHERS, *_DECLARED})}


def searcher_spec(searcher):
    """{"class": name, "params": {...}} of a searcher: its registry name when its class is registered
    (exactly: not a subclass), else module.qualname, which a file may record but never rebuilds.
    None when its params are not JSON values."""
    cls = type(searcher)
    name = cls.__name__
    declared_here = name in _DECLARED and _DECLARED[name][0] == cls.__module__  # its module is loaded: cls exists
    registered = (name in _SEARCHERS or declared_here) and _registered(name)[0] is cls
    spec = {"class": cls.__name__ if registered else f"{cls.__module__}.{cls.__qualname__}",
            "params": searcher.get_params(deep=False)}
    try:
        json.dumps(spec, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return spec


def _describe_types(declared):
    return " or ".join(f"a JSON {t}" if k == 0 else t for k, t in enumerate(declared))


def searcher_from_spec(spec, where):
    """The searcher a stored spec describes, built only from the registry; `where` names the file in the
    StorageError raised for anything else (e.g. "the study file study.db")."""
    if not (isinstance(spec, dict) and set(spec) == {"class", "params"} and isinstance(spec["class"], str)
            and isinstance(spec["params"], dict)):
        raise StorageError(f"{where} holds {json.dumps(spec)[:200]} where a searcher entry "
                           '{"class": NAME, "params": {...}} belongs.')
    name = _NAMES.get(spec["class"])
    if name is None:
        raise StorageError(
            f"{where} names the searcher {spec['class']!r}, which is not one of tunelab's searchers "
            f"({', '.join(sorted({*_SEARCHERS, *_DECLARED}))}); nothing was imported from it. If the study was "
            "run with a searcher of your own, pass it again as `searcher=`.")
    cls, types = _registered(name)
    for key, value in spec["params"].items():
        if key not in types:
            raise StorageError(f"{where}: {name} has no parameter {key!r}; its parameters are {', '.join(types)}.")
        if not _accepts(types[key], value):
            raise StorageError(f"{where}: {name}'s `{key}` must be {_describe_types(types[key])}; "
                               f"got {value!r:.100}.")
    return cls(**spec["params"])


declare_searcher("tunelab.searchers.sampling.grid.GridSearch",
                 {"n_points": ("integer", "object"), "max_grid_size": "integer"},
                 old_names=("tunelab.searchers.grid.GridSearch",))
declare_searcher("tunelab.searchers.sampling.random.RandomSearch",
                 {"sampler": "string", "lhs_size": ("integer", "null")},
                 old_names=("tunelab.searchers.random.RandomSearch",))
declare_searcher("tunelab.searchers.bayes.search.BayesSearch", {
    "n_initial": "integer", "acquisition": "string", "kernel": "string", "kappa": "number",
    "batch_strategy": "string", "initial_design": "string", "n_candidates": "integer",
    "refit_every": ("integer", "null")}, old_names=("tunelab.searchers.bayes.BayesSearch",))
declare_searcher("tunelab.searchers.evolutionary.genetic.EvolutionSearch", {
    "population_size": ("integer", "null"), "n_elite": ("integer", "null"), "tournament_size": "integer",
    "crossover_prob": "number", "mutation_prob": ("number", "null"), "eta_crossover": "number",
    "eta_mutation": "number", "n_generations": ("integer", "null")},
    old_names=("tunelab.searchers.evolution.EvolutionSearch",))
declare_searcher("tunelab.searchers.evolutionary.cmaes.CMAES", {
    "sigma0": "number", "popsize": ("integer", "null"), "start": ("string", "object"), "popsize_factor": "number",
    "max_restarts": ("integer", "null"), "margin": ("number", "null"), "tolfun": "number", "tolx": "number"},
    old_names=("tunelab.searchers.cmaes.CMAES",))
declare_searcher("tunelab.searchers.evolutionary.nsga2.NSGA2Search", {
    "population_size": "integer", "crossover_prob": "number", "mutation_prob": ("number", "null"),
    "eta_crossover": "number", "eta_mutation": "number", "n_generations": ("integer", "null"),
    "constraints_func": "null"})  # a function is not kept in a file: Study.load(path, searcher=...) takes it
declare_searcher("tunelab.searchers.bayes.parego.ParEGOSearch", {
    "n_initial": "integer", "s": ("integer", "null"), "rho": "number", "acquisition": "string", "kernel": "string",
    "n_candidates": "integer"})
declare_searcher("tunelab.searchers.tpe.search.TPESearch", {
    "n_startup_trials": "integer", "n_ei_candidates": "integer", "gamma": "number", "gamma_rule": "string",
    "max_good": "integer", "weights": "string", "prior_weight": "number", "multivariate": ("boolean", "string"),
    "bandwidth": "string", "consider_endpoints": "boolean", "magic_clip": "boolean", "min_bandwidth_factor": "number",
    "magic_clip_exponent": "number", "constant_liar": "boolean", "startup": "string", "mo_weights": "string"})
declare_searcher("tunelab.searchers.gradient.search.HypergradientSearch", {
    "method": "string", "init": ("object", "null"), "step": "number", "lr": "number", "xtol": "number",
    "ftol": "number"},
    old_names=("tunelab.searchers.hypergradient.HypergradientSearch",
               "tunelab.searchers.gradient.hypergradient.HypergradientSearch"))
