"""A study file never runs code: its stored searcher is rebuilt only from tunelab's registry of searchers,
with params checked against the constructor's signature and their JSON types; anything else is refused
with a message naming the file."""

import inspect
import json
import sqlite3

import pytest

from tunelab.searchers import (
    BayesSearch, CMAES, EvolutionSearch, GridSearch, HypergradientSearch, NSGA2Search, ParEGOSearch, RandomSearch,
    Real, Searcher, TPESearch,
)
from tunelab.searchers.registry import register_searcher, registered_searchers, searcher_from_spec, searcher_spec
from tunelab.searchers.storage import StorageError
from tunelab.searchers.study import Study, minimize

SPACE = {"x": Real(0.0, 1.0)}


def study_file(tmp_path, searcher=None):
    path = tmp_path / "study.db"
    Study(SPACE, searcher or RandomSearch(), storage=path, seed=0).optimize(lambda p: p["x"], n_trials=2,
                                                                            progress=False).close()
    return path


def write_searcher(path, spec):
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'searcher'", (json.dumps(spec),))


def sentinel_code(tmp_path):
    return f"open({str(tmp_path / 'ran')!r}, 'w').close()"


def open_three_ways(path):
    """The three calls that rebuild a stored searcher: each must refuse the file, naming it."""
    for call in (lambda: Study.load(path), lambda: Study(SPACE, storage=path),
                 lambda: minimize(lambda p: p["x"], SPACE, storage=path, n_trials=1, progress=False)):
        with pytest.raises(StorageError) as caught:
            call()
        assert str(path) in str(caught.value)
        yield str(caught.value)


def test_the_registry_holds_tunelab_searchers_by_name():
    assert registered_searchers() == {
        "GridSearch": GridSearch, "RandomSearch": RandomSearch, "BayesSearch": BayesSearch,
        "EvolutionSearch": EvolutionSearch, "CMAES": CMAES, "HypergradientSearch": HypergradientSearch,
        "NSGA2Search": NSGA2Search, "ParEGOSearch": ParEGOSearch, "TPESearch": TPESearch}


@pytest.mark.parametrize("searcher", [GridSearch(n_points={"x": 4}), RandomSearch(sampler="lhs", lhs_size=8),
                                      BayesSearch(n_initial=3, refit_every=2), EvolutionSearch(population_size=6),
                                      CMAES(start={"x": 0.5}, popsize=4), HypergradientSearch(init={"x": 0.25}),
                                      NSGA2Search(population_size=6), ParEGOSearch(s=5),
                                      TPESearch(mo_weights="uniform")])
def test_every_registered_searcher_round_trips_through_its_spec(searcher):
    spec = searcher_spec(searcher)
    assert spec["class"] == type(searcher).__name__
    rebuilt = searcher_from_spec(json.loads(json.dumps(spec)), "the file f.db")
    assert type(rebuilt) is type(searcher) and rebuilt.get_params() == json.loads(json.dumps(searcher.get_params()))


def test_the_stored_name_is_the_registry_name_and_old_module_paths_still_open(tmp_path):
    path = study_file(tmp_path, RandomSearch(sampler="sobol"))
    with sqlite3.connect(path) as db:
        stored = json.loads(db.execute("SELECT value FROM meta WHERE key = 'searcher'").fetchone()[0])
    assert stored == {"class": "RandomSearch", "params": {"sampler": "sobol", "lhs_size": None}}
    for old in ("tunelab.searchers.sampling.random.RandomSearch", "tunelab.searchers.random.RandomSearch"):
        write_searcher(path, {"class": old, "params": {"sampler": "sobol", "lhs_size": None}})
        study = Study.load(path)
        assert type(study.searcher) is RandomSearch and study.searcher.sampler == "sobol" and len(study) == 2
        study.close()
    for old, cls in [("tunelab.searchers.grid.GridSearch", GridSearch),
                     ("tunelab.searchers.bayes.BayesSearch", BayesSearch),
                     ("tunelab.searchers.evolution.EvolutionSearch", EvolutionSearch),
                     ("tunelab.searchers.cmaes.CMAES", CMAES),
                     ("tunelab.searchers.hypergradient.HypergradientSearch", HypergradientSearch),
                     ("tunelab.searchers.gradient.hypergradient.HypergradientSearch", HypergradientSearch)]:
        assert type(searcher_from_spec({"class": old, "params": {}}, "f.db")) is cls


def test_a_benchmark_helper_that_takes_code_is_never_called(tmp_path):
    path = study_file(tmp_path)
    write_searcher(path, {"class": "tunelab.benchmarks.bench_fit._fresh_process_seconds",
                          "params": {"code": sentinel_code(tmp_path), "env": None}})
    for message in open_three_ways(path):
        assert ("names the searcher 'tunelab.benchmarks.bench_fit._fresh_process_seconds', which is not one of "
                "tunelab's searchers") in message
        assert "nothing was imported" in message
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("name, params", [
    ("os.system", {"command": "touch ran"}),
    ("builtins.exec", {"source": "open('ran', 'w')"}),
    ("builtins.eval", {}),
    ("subprocess.Popen", {"args": ["touch", "ran"]}),
    ("tunelab.searchers.study.importlib.import_module", {"name": "os"}),
    ("tunelab.searchers.study.Study", {"space": [{"name": "x", "type": "real", "low": 0, "high": 1, "log": False}]}),
    ("tunelab.core.datasets.load_digits", {}),
    ("tunelab.searchers.base.Searcher", {}),
    ("tunelab.searchers.evolutionary.generational.GenerationalSearcher", {}),
    ("RandomSearch.__init__.__globals__", {}),
    ("__import__", {"name": "os"}),
    ("", {}),
])
def test_names_outside_the_registry_are_refused(tmp_path, monkeypatch, name, params):
    monkeypatch.chdir(tmp_path)
    path = study_file(tmp_path)
    write_searcher(path, {"class": name, "params": params})
    for message in open_three_ways(path):
        assert f"names the searcher {name!r}, which is not one of tunelab's searchers (BayesSearch, CMAES" in message
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("spec, words", [
    ({"class": "RandomSearch", "params": {"sampler": "uniform", "code": "print(1)"}},
     "RandomSearch has no parameter 'code'; its parameters are sampler, lhs_size"),
    ({"class": "RandomSearch", "params": {"sampler": 5}}, "RandomSearch's `sampler` must be a JSON string; got 5"),
    ({"class": "RandomSearch", "params": {"lhs_size": "8"}}, "`lhs_size` must be a JSON integer or null; got '8'"),
    ({"class": "RandomSearch", "params": {"lhs_size": True}}, "`lhs_size` must be a JSON integer or null; got True"),
    ({"class": "BayesSearch", "params": {"kappa": [1]}}, "`kappa` must be a JSON number; got [1]"),
    ({"class": "RandomSearch", "params": {"sampler": "evil"}},
     "the searcher stored in it does not suit the study: `sampler` must be one of"),
    ({"class": "GridSearch", "params": {"n_points": {"class": "tunelab.benchmarks.bench_fit._fresh_process_seconds",
                                                     "params": {"code": "print(1)"}}}},
     "the searcher stored in it does not suit the study: `n_points` names ['class', 'params']"),
    ({"class": "HypergradientSearch", "params": {"init": {"class": "os.system", "params": {"command": "ls"}}}},
     "the searcher stored in it does not suit the study: params must have exactly the names ['x']"),
    ({"class": "RandomSearch"}, "a searcher entry {\"class\": NAME, \"params\": {...}}"),
    ({"class": ["RandomSearch"], "params": {}}, "a searcher entry {\"class\": NAME, \"params\": {...}}"),
    ({"class": "RandomSearch", "params": ["uniform"]}, "a searcher entry {\"class\": NAME, \"params\": {...}}"),
    ("RandomSearch", "a searcher entry {\"class\": NAME, \"params\": {...}}"),
])
def test_bad_params_and_entries_are_refused_naming_the_file(tmp_path, spec, words):
    path = study_file(tmp_path)
    write_searcher(path, spec)
    for message in open_three_ways(path):
        assert words in message


def test_a_file_that_is_refused_can_still_be_opened_with_a_searcher_given(tmp_path):
    path = study_file(tmp_path)
    write_searcher(path, {"class": "os.system", "params": {"command": "touch ran"}})
    study = Study.load(path, searcher=GridSearch(n_points=3))
    assert len(study.trials) == 2 and type(study.searcher) is GridSearch
    study.close()
    assert type(Study.load(path).searcher) is GridSearch  # the given searcher replaced the stored entry


class OwnSearcher(RandomSearch):
    """A searcher from outside tunelab, even a subclass of one of its own, is not rebuilt from a file."""


def test_registration_takes_only_tunelab_searchers_with_every_parameter_typed():
    with pytest.raises(TypeError, match="only tunelab's own searchers are registered"):
        register_searcher(OwnSearcher, {"sampler": "string", "lhs_size": ("integer", "null")})
    with pytest.raises(TypeError, match="only tunelab's own searchers are registered"):
        register_searcher(dict, {})
    assert searcher_spec(OwnSearcher())["class"] == "test_study_file_safety.OwnSearcher"
    with pytest.raises(StorageError, match="'test_study_file_safety.OwnSearcher', which is not one of tunelab's"):
        searcher_from_spec(searcher_spec(OwnSearcher()), "the file f.db")
    for name, cls in registered_searchers().items():  # every constructor parameter has a declared JSON type
        signature = inspect.signature(cls.__init__)
        assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in list(signature.parameters.values())[1:]), name


def test_register_checks_the_declared_types_against_the_signature(monkeypatch):
    import tunelab.searchers.registry as registry

    class NewSearch(Searcher):
        def __init__(self, width=3, mode="a"):
            self.width, self.mode = width, mode

    NewSearch.__module__ = "tunelab.searchers.sampling.new"
    monkeypatch.setattr(registry, "_SEARCHERS", dict(registry._SEARCHERS))
    monkeypatch.setattr(registry, "_NAMES", dict(registry._NAMES))
    with pytest.raises(TypeError, match=r"declares types for \['width'\]; its constructor takes \['width', 'mode'\]"):
        register_searcher(NewSearch, {"width": "integer"})
    with pytest.raises(ValueError, match="unknown JSON type 'int' for `width`"):
        register_searcher(NewSearch, {"width": "int", "mode": "string"})
    register_searcher(NewSearch, {"width": "integer", "mode": "string"}, old_names=("tunelab.searchers.new.NewSearch",))
    rebuilt = searcher_from_spec({"class": "tunelab.searchers.new.NewSearch", "params": {"width": 5}}, "f.db")
    assert type(rebuilt) is NewSearch and rebuilt.width == 5
    assert searcher_spec(NewSearch(mode="b")) == {"class": "NewSearch", "params": {"width": 3, "mode": "b"}}
    assert inspect.signature(register_searcher).parameters["old_names"].default == ()
