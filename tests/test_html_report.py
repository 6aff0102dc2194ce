"""The HTML report: a library call on a study, on fitted searches, and the report of `tunelab demo --quick`;
every plot parses as SVG, the page needs no script and no network, and a browser (when installed) renders it."""

import os
import re
import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

from tunelab.core import LogisticRegression, StandardScaler, load_breast_cancer, train_test_split
from tunelab.searchers import (
    Categorical, GridSearch, RandomSearch, Real, SearchCV, Study, TrialState, minimize, write_report,
)
from tunelab.searchers.report import SECTIONS, Section

SVG = "{http://www.w3.org/2000/svg}"
STUDY_SECTIONS = ["leaderboard", "history", "parallel", "slices", "importance"]
ALL_SECTIONS = STUDY_SECTIONS + ["training", "confusion"]


def sections(page):
    """{section id: its HTML} in page order."""
    found = {}
    for match in re.finditer(r'<section id="([\w-]+)">', page):
        found[match.group(1)] = page[match.start():page.index("</section>", match.start())]
    return found


def svgs(fragment):
    """Every inline <svg> of an HTML fragment, parsed."""
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", fragment, flags=re.S)]


def count(root, cls):
    return sum(cls in (e.get("class") or "").split() for e in root.iter())


def check_self_contained(page):
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    assert not re.search(r'(src|href)="(?!#)', page)  # no file, image or style sheet to fetch
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for root in svgs(page):
        assert root.tag == SVG + "svg"


def quadratic_study(seed=0, n_trials=12):
    space = {"x": Real(-2.0, 2.0), "lr": Real(1e-4, 1.0, log=True), "kind": Categorical(["a", "b"])}
    return minimize(lambda p: (p["x"] - 0.5) ** 2 + 0.1 * np.log10(p["lr"]) ** 2 + (p["kind"] == "b"), space,
                    RandomSearch(), n_trials=n_trials, seed=seed, progress=False)


def test_a_study_alone_gives_the_study_sections(tmp_path):
    path = write_report(quadratic_study(), tmp_path / "out" / "report.html", command="python tune.py")
    page = open(path, encoding="utf-8").read()
    check_self_contained(page)
    found = sections(page)
    assert list(found) == STUDY_SECTIONS
    assert "<pre><code>python tune.py</code></pre>" in found["leaderboard"]
    history = svgs(found["history"])
    assert len(history) == 2 and all(count(r, "axis") == 2 and count(r, "series") == 1 for r in history)
    assert count(history[0], "point") == 12  # one marker per trial, with the best so far in its tooltip
    (parallel,) = svgs(found["parallel"])
    assert count(parallel, "axis") == 4 and count(parallel, "series") == 12
    slices = svgs(found["slices"])
    assert len(slices) == 3 and all(count(r, "point") == 12 for r in slices)
    assert [t.text for t in slices[1].iter(SVG + "text") if "axis-label" in t.get("class")] == \
        ["lr (log scale)", "objective value"]
    (bars,) = svgs(found["importance"])
    assert count(bars, "bar") == 3 and count(bars, "bar-label") == 3


def test_the_report_is_the_same_for_the_same_study_and_seed(tmp_path):
    study = quadratic_study()
    a = open(write_report(study, tmp_path / "a.html"), encoding="utf-8").read()
    b = open(write_report(study, tmp_path / "b.html"), encoding="utf-8").read()
    assert a == b


@pytest.fixture(scope="module")
def searches():
    X, y = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(X[:300], y[:300], test_size=0.3, stratify=y[:300],
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    found = {}
    for seed in (0, 1):
        search = SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 10.0, log=True)}, searcher=RandomSearch(),
                          n_trials=5, cv=3, scoring="accuracy", random_state=seed, progress=False)
        found[f"random {seed}"] = search.fit(X_train, y_train)
    return found, (X_train, y_train, X_test, y_test)


def test_fitted_searches_add_the_best_models_training_and_confusion_matrix(tmp_path, searches):
    found, (X_train, y_train, X_test, y_test) = searches
    page = open(write_report(found, tmp_path / "r.html", X=X_train, y=y_train, X_test=X_test, y_test=y_test),
                encoding="utf-8").read()
    check_self_contained(page)
    parts = sections(page)
    assert list(parts) == ALL_SECTIONS
    loss, learning, validation = svgs(parts["training"])
    assert count(loss, "series") == 1 and count(learning, "series") == 2 and count(learning, "band") == 2
    assert count(validation, "series") == 2 and count(validation, "reference") == 1  # the best trial's alpha
    assert "Validation curve: alpha" in page and "CV accuracy" in page
    (matrix,) = svgs(parts["confusion"])
    assert count(matrix, "cell") == 4 and count(matrix, "cell-label") == 4
    history = svgs(parts["history"])[0]
    assert [t.text for t in history.iter(SVG + "text") if "legend-label" in t.get("class")] == ["random 0", "random 1"]


def test_a_multiobjective_study_gets_its_pareto_front(tmp_path):
    study = Study({"x": Real(0.0, 1.0)}, GridSearch(n_points=6), directions=["minimize", "minimize"], seed=0)
    for k in range(6):  # x = 0, 0.2, ..., 1: six points, of which the fourth (k = 3) is dominated
        trial = study.ask()
        x = trial.params["x"]
        study.tell(trial, (x, (1 - x) ** 2 + (k == 3)))
    page = open(write_report({"nsga": study}, tmp_path / "r.html"), encoding="utf-8").read()
    parts = sections(page)
    assert list(parts) == ["leaderboard", "pareto"]  # the single-objective plots leave this study out
    (front,) = svgs(parts["pareto"])
    assert count(front, "point") == 6 and count(front, "front-point") == 5


def test_sections_are_functions_of_the_context_and_a_new_one_joins_the_list(tmp_path):
    def trial_count(ctx):
        n = sum(len(s.trials) for s in ctx.studies.values())
        return Section("count", "Trial count", f"<p>{n} trials</p>")

    page = open(write_report(quadratic_study(n_trials=4), tmp_path / "r.html", sections=SECTIONS[:1] + (trial_count,)),
                encoding="utf-8").read()
    assert list(sections(page)) == ["leaderboard", "count"] and "<p>4 trials</p>" in page


def test_write_report_rejects_bad_input(tmp_path):
    study = quadratic_study(n_trials=3)
    with pytest.raises(TypeError, match="`path` must be a file path; got 3"):
        write_report(study, 3)
    with pytest.raises(ValueError, match="must not be an empty dict"):
        write_report({}, tmp_path / "r.html")
    with pytest.raises(TypeError, match="'b' is 'study' of type str"):
        write_report({"a": study, "b": "study"}, tmp_path / "r.html")
    other = minimize(lambda p: p["y"], {"y": Real(0, 1)}, RandomSearch(), n_trials=2, seed=0, progress=False)
    with pytest.raises(ValueError, match="must share a space"):
        write_report({"a": study, "b": other}, tmp_path / "r.html")


def test_importance_that_cannot_be_computed_says_why(tmp_path):
    study = minimize(lambda p: p["x"], {"x": Real(0, 1)}, RandomSearch(), n_trials=1, seed=0, progress=False)
    page = open(write_report(study, tmp_path / "r.html"), encoding="utf-8").read()
    assert "Not computed: `importance` needs at least 2 complete trials" in sections(page)["importance"]


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    from tunelab.benchmarks.cli.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    with warnings.catch_warnings():  # the few-epoch MLPs of --quick do not converge, and say so
        warnings.simplefilter("ignore")
        _, paths = run_demo(budget=6, seed=0, out=str(out), quick=True, progress=False, print_fn=lambda *a: None)
    return paths


def test_the_demo_report_holds_every_section(demo_report):
    assert os.path.dirname(demo_report["html"]) == os.path.dirname(demo_report["report"])
    page = open(demo_report["html"], encoding="utf-8").read()
    check_self_contained(page)
    parts = sections(page)
    assert list(parts) == ALL_SECTIONS
    assert "tunelab demo --quick --budget 6 --seed 0" in parts["leaderboard"]
    assert parts["leaderboard"].count("<tr>") == 6  # the header and five searchers
    assert [t.text for t in svgs(parts["history"])[0].iter(SVG + "text") if "legend-label" in t.get("class")] == \
        ["grid", "random", "bayes", "evolution", "tpe"]
    assert len(svgs(parts["slices"])) == 8  # one per dimension of the conditional space
    (bars,) = svgs(parts["importance"])  # over the dimensions every trial sets: the optimizer's own lr, not beta1
    names = [e.find(SVG + "title").text.split(":")[0] for e in bars.iter() if "bar" in (e.get("class") or "").split()]
    assert sorted(names) == ["alpha", "hidden_layer_sizes", "optimizer", "optimizer__batch_size", "optimizer__lr"]
    assert "optimizer__momentum, optimizer__beta1, optimizer__beta2 exist only in some trials" in parts["importance"]
    loss, learning, validation = svgs(parts["training"])
    numeric = [name for name in names if name in ("alpha", "optimizer__lr")]  # the curve follows the first of these
    assert validation.find(SVG + "title").text == f"Validation curve: {numeric[0]}"
    assert count(validation, "series") == 2 and count(validation, "point") == 14  # 7 values, train and CV
    assert f"{numeric[0]}, the most important numeric hyperparameter" in parts["training"]
    assert count(svgs(parts["confusion"])[0], "cell") == 100


def test_a_headless_browser_renders_the_demo_report(demo_report, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless browser (chromium) installed")
    url = "file://" + os.path.abspath(demo_report["html"])
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path}"]
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = open(demo_report["html"], encoding="utf-8").read()
    assert dom.stdout.count("<svg") == page.count("<svg") > 10  # every plot made it into the rendered document
    assert all(f'id="{name}"' in dom.stdout for name in ALL_SECTIONS)
    assert "This page contains the following errors" not in dom.stdout
    shot = tmp_path / "shot.png"
    subprocess.run(flags + ["--window-size=1200,900", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000  # a page of plots, not a blank one


def test_an_early_stopped_model_shows_its_validation_score_per_epoch(tmp_path, searches):
    from tunelab.optimizers import SGD

    found, (X_train, y_train, X_test, y_test) = searches
    model = LogisticRegression(optimizer=SGD(lr=0.05, batch_size=32), early_stopping=True, max_epochs=12,
                               random_state=0).fit(X_train, y_train)
    page = open(write_report(found["random 0"].study_, tmp_path / "r.html", model=model, X_test=X_test,
                             y_test=y_test), encoding="utf-8").read()
    parts = sections(page)
    loss, scores = svgs(parts["training"])
    assert count(loss, "point") == len(model.loss_curve_) and count(scores, "point") == len(model.validation_scores_)
    assert "Validation score per epoch" in parts["training"]
    assert "Learning and validation curves need the training data (X, y)." in parts["training"]
    assert count(svgs(parts["confusion"])[0], "cell") == 4


def test_tunelab_tune_writes_the_report_beside_the_markdown(tmp_path):
    import csv

    from tunelab.benchmarks.cli.tune import run_tune

    X, y = load_breast_cancer()
    path = tmp_path / "cancer.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"x{j}" for j in range(5)] + ["label"])
        writer.writerows([list(row[:5]) + [int(label)] for row, label in zip(X[:240], y[:240])])
    _, paths = run_tune(str(path), "label", model="logistic", searcher="random", trials=4, cv=3,
                        out=str(tmp_path / "out"), progress=False, print_fn=lambda *a: None)
    assert os.path.dirname(paths["html"]) == os.path.dirname(paths["report"])
    parts = sections(open(paths["html"], encoding="utf-8").read())
    assert list(parts) == ALL_SECTIONS
    assert f"tunelab tune {path} --target label --model logistic --searcher random --trials 4 --cv 3" in \
        parts["leaderboard"]


def test_trials_without_some_parameters_are_drawn_where_they_have_them(tmp_path):
    # a conditional space: `momentum` exists only when optimizer="momentum"
    space = Study({"optimizer": Categorical(["sgd", "momentum"]), "momentum": Real(0.5, 0.99)}).space
    trials = []
    for k in range(6):
        params = {"optimizer": "sgd"} if k % 2 else {"optimizer": "momentum", "momentum": 0.5 + 0.08 * k}
        trials.append(SimpleNamespace(number=k, params=params, state=TrialState.COMPLETE, value=0.1 * k,
                                      start_time=10.0 + k, end_time=11.0 + k))
    study = SimpleNamespace(space=space, trials=trials, direction="minimize")
    parts = sections(open(write_report(study, tmp_path / "r.html"), encoding="utf-8").read())
    (parallel,) = svgs(parts["parallel"])
    assert count(parallel, "axis") == 2 and count(parallel, "series") == 6  # optimizer and the value
    assert "momentum exist only in some trials" in parts["parallel"]
    optimizer, momentum = svgs(parts["slices"])
    assert count(optimizer, "point") == 6 and count(momentum, "point") == 3
    (bars,) = svgs(parts["importance"])
    assert count(bars, "bar") == 1 and "momentum exist only in some trials" in parts["importance"]


def test_the_validation_curve_follows_the_most_important_numeric_hyperparameter():
    from tunelab.searchers.report.context import ReportContext

    space = {"kind": Categorical(["a", "b"]), "x": Real(0.0, 1.0), "y": Real(0.0, 1.0)}
    study = minimize(lambda p: 5.0 * (p["kind"] == "b") + p["x"] + 0.1 * p["y"], space, RandomSearch(), n_trials=20,
                     seed=0, progress=False)
    ctx = ReportContext({"random": study})
    assert list(ctx.importance[0])[:2] == ["kind", "x"] and ctx.most_important() == "x"
    only_kind = minimize(lambda p: float(p["kind"] == "b"), {"kind": Categorical(["a", "b"])}, RandomSearch(),
                         n_trials=4, seed=0, progress=False)
    assert ReportContext({"random": only_kind}).most_important() is None
