"""The `tunelab` command end to end, in subprocesses: demo, tune on a CSV the test writes, bench in quick
mode, exit codes and messages for bad input."""

import csv
import importlib.metadata
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tunelab.core.datasets import load_breast_cancer


def tunelab(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tunelab.benchmarks", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def check_trials_json(path, searchers):
    with open(path) as handle:
        trials = json.load(handle)
    assert set(trials) == set(searchers)
    for records in trials.values():
        assert records and [r["number"] for r in records] == list(range(len(records)))
        for record in records:
            assert {"number", "params", "state", "value"} <= set(record)
            assert record["state"] in ("complete", "failed", "pruned")
            if record["state"] == "complete":
                assert 0.0 <= record["value"] <= 1.0


def test_demo_quick_prints_a_leaderboard_and_writes_a_report(tmp_path):
    searchers = ["grid", "random", "bayes", "evolution", "tpe"]
    result = tunelab("demo", "--quick", "--no-progress", "--out", "report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| searcher | best_cv | test_score |" in result.stdout
    for name in searchers:
        assert f"| {name} |" in result.stdout
    report = (tmp_path / "report" / "report.md").read_text()
    assert "best_cv" in report and "Best score so far" in report
    check_trials_json(tmp_path / "report" / "trials.json", searchers)
    assert (tmp_path / "report" / "best_so_far.png").exists() or (tmp_path / "report" / "best_so_far.txt").exists()
    # e.g. that the few-epoch MLPs did not converge, once each, and on a cold cache the first-compile notice
    warnings = result.stderr.splitlines()
    assert all(line.startswith("tunelab: ") and ("Warning: " in line or "compiling tunelab's kernels" in line)
               for line in warnings), result.stderr
    assert len(set(warnings)) == len(warnings)


def test_version_is_the_installed_one(tmp_path):
    from tunelab.core import __version__

    result = tunelab("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"tunelab {importlib.metadata.version('tunelab')}\n"
    assert __version__ == importlib.metadata.version("tunelab")
    assert tunelab("--version", "demo", "--budget", "0", cwd=tmp_path).returncode == 0  # version wins, as argparse's


@pytest.fixture
def cancer_csv(tmp_path):
    X, y = load_breast_cancer()
    rows = np.random.default_rng(0).permutation(len(y))[:200]
    path = tmp_path / "cancer.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"f{j}" for j in range(5)] + ["diagnosis"])
        for i in rows:
            writer.writerow([f"{v:.6g}" for v in X[i, :5]] + [["malignant", "benign"][y[i]]])
    return path


def test_tune_on_a_csv_resumes_from_storage(tmp_path, cancer_csv):
    args = ["tune", str(cancer_csv), "--target", "diagnosis", "--model", "logistic", "--searcher", "random",
            "--cv", "3", "--storage", "study.db", "--no-progress", "--out", "out"]
    first = tunelab(*args, "--trials", "4", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "| random |" in first.stdout
    second = tunelab(*args, "--trials", "3", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    with open(tmp_path / "out" / "trials.json") as handle:
        records = json.load(handle)["random"]
    assert [r["number"] for r in records] == list(range(7))  # 4 kept, 3 more continue the numbering
    assert "resumed" not in first.stdout
    assert "resumed: 4 earlier trials in study.db" in second.stdout


def test_tune_refuses_to_continue_a_study_of_other_data_or_settings(tmp_path, cancer_csv, monkeypatch, capsys):
    from tunelab.benchmarks.cli import main  # in this process: each refusal comes before any search

    monkeypatch.chdir(tmp_path)
    args = ["--target", "diagnosis", "--searcher", "random", "--cv", "3", "--storage", "study.db", "--no-progress",
            "--out", "out", "--trials", "3"]
    assert main(["tune", str(cancer_csv), *args]) == 0
    other = tmp_path / "other.csv"
    lines = cancer_csv.read_text().splitlines()
    other.write_text("\n".join(lines[:1] + lines[1:][::-1]) + "\n")  # the same rows in another order
    cases = [(["tune", str(other), *args], "data file sha256: stored "),
             (["tune", str(cancer_csv), *args, "--metric", "f1"], "--metric: stored 'accuracy', given 'f1'"),
             (["tune", str(cancer_csv), *args, "--cv", "4"], "--cv: stored 3, given 4"),
             (["tune", str(cancer_csv), *args, "--seed", "1"], "--seed: stored 0, given 1"),
             (["tune", str(cancer_csv), *args, "--model", "mlp"], "--model: stored 'logistic', given 'mlp'")]
    capsys.readouterr()
    for call, words in cases:
        assert main(call) == 1
        err = capsys.readouterr().err
        assert "the study in study.db was run in another context" in err and words in err
        assert "Its 3 trials do not compare with new ones; to start a new study, give another storage file (or " \
               "delete study.db)" in err
        assert len(err.strip().splitlines()) == 1
    assert main(["tune", str(cancer_csv), *args]) == 0
    assert "resumed: 3 earlier trials in study.db" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["tune", "missing.csv", "--target", "y"], "does not exist"),
    (["tune", "{csv}", "--target", "nope"], "column 'nope' is not in"),
    (["tune", "{text_csv}", "--target", "y"], "feature 'a' is not numeric"),
    (["tune", "{one_class_csv}", "--target", "y"], "has one class only"),
])
def test_runtime_failures_exit_1_with_one_line(tmp_path, cancer_csv, args, message):
    (tmp_path / "text.csv").write_text("a,y\nred,1\nblue,0\n")
    (tmp_path / "one.csv").write_text("a,y\n" + "".join(f"{i},1\n" for i in range(10)))
    paths = {"csv": cancer_csv, "text_csv": tmp_path / "text.csv", "one_class_csv": tmp_path / "one.csv"}
    result = tunelab(*[a.format(**paths) for a in args], "--no-progress", cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [[], ["demo", "--searchers", "annealing"], ["demo", "--budget", "0"],
                                  ["bench", "functions", "--budgets", "ten"],
                                  ["tune", "x.csv"], ["bench", "everything"], ["tune", "x.csv", "--target", "y",
                                                                                "--model", "forest"]])
def test_usage_errors_exit_2(tmp_path, args):
    result = tunelab(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: tunelab" in result.stderr


def test_bench_search_quick_writes_its_json(tmp_path):
    result = tunelab("bench", "search", "--quick", "--out", "bench", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "bench" / "search.json").read_text())
    assert record["benchmark"] == "search" and record["machine"]["numba"]
    rows = record["results"]["rows"]
    cases = [row["case"] for row in rows]
    assert any("trials stored" in case for case in cases) and any("n_jobs=2" in case for case in cases)
    assert all(row["tunelab_ms"] > 0 and row["met"] in ("yes", "no", "") for row in rows)


def test_bench_functions_quick_reports_regret(tmp_path):
    result = tunelab("bench", "functions", "--quick", "--seeds", "2", "--methods", "random,bayes", "--out", "bench",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "bench" / "functions-bayes.json").read_text())
    rows = record["results"]["regret"]
    assert {row["method"] for row in rows} >= {"random", "bayes"}
    assert all(row["median_regret"] >= -1e-9 for row in rows)
    assert "peers are not compared" in result.stdout


def test_an_unknown_benchmark_method_is_a_usage_error(tmp_path):
    result = tunelab("bench", "functions", "--methods", "annealing", "--out", "bench", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --methods: unknown method(s) annealing; known: random, bayes" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_multiobjective_digits_quick_reports_hypervolume_and_fronts(tmp_path):
    result = tunelab("bench", "functions", "--functions-suite", "multiobjective-digits", "--quick",
                     "--methods", "random,motpe", "--out", "bench", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "bench" / "functions-multiobjective-digits.json").read_text())["results"]
    assert {row["method"] for row in record["hypervolume"]} == {"random", "motpe"}
    assert all(0.0 < row["median_hv"] < 1.0 for row in record["hypervolume"])  # a share of the unit box
    for method in ("random", "motpe"):
        front = [(r["accuracy"], r["fit_seconds"]) for r in record["fronts"] if r["method"] == method]
        assert front and all(not (a2 >= a1 and t2 <= t1 and (a2, t2) != (a1, t1))  # none dominates another
                             for a1, t1 in front for a2, t2 in front)
