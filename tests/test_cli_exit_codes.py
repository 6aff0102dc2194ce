"""The command line's exit codes: usage errors exit 2 with a line naming the option, before any work; Ctrl-C
exits 130 with the finished trials kept and said where."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from tunelab.benchmarks.cli import main
from tunelab.searchers import Study, TrialState


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with a small CSV file; any search started in this process fails the test."""
    monkeypatch.chdir(tmp_path)
    lines = ["a,b,y"] + [f"{i},{(7 * i) % 5},{i % 2}" for i in range(20)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "file.txt").write_text("not a folder\n")

    def no_search(*args, **kwargs):
        raise AssertionError("a search started")

    for module in ("tunelab.benchmarks.cli.tune", "tunelab.benchmarks.cli.demo"):
        monkeypatch.setattr(f"{module}.run_search", no_search)
    return tmp_path


TUNE = ["tune", "d.csv", "--target", "y", "--no-progress"]


@pytest.mark.parametrize("args, words", [
    (TUNE + ["--cv", "1"], "argument --cv: must be at least 2 folds (an integer >= 2); got 1"),
    (TUNE + ["--cv", "two"], "argument --cv: must be an integer; got 'two'"),
    (TUNE + ["--metric", "foo"], "argument --metric: unknown metric 'foo'; choose from accuracy,"),
    (TUNE + ["--seed", "-1"], "argument --seed: must be a non-negative seed (an integer >= 0); got -1"),
    (["demo", "--seed", "-3"], "argument --seed: must be a non-negative seed (an integer >= 0); got -3"),
    (["bench", "functions", "--functions", "branin,nope"], "argument --functions: a test function must be one of"),
    (["bench", "functions", "--methods", "random,nope"], "argument --methods: unknown method(s) nope; known: random,"),
    (TUNE + ["--out", "file.txt"], "argument --out: 'file.txt' is an existing file, not a folder"),
    (TUNE + ["--out", "file.txt/report"], "argument --out: the report folder 'file.txt/report' cannot be written"),
    (["demo", "--out", "file.txt"], "argument --out: 'file.txt' is an existing file, not a folder"),
    (["bench", "search", "--out", "file.txt"], "argument --out: 'file.txt' is an existing file, not a folder"),
])
def test_usage_errors_exit_2_with_a_line_naming_the_option(workdir, capsys, args, words):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tunelab ")
    last = err.strip().splitlines()[-1]
    assert re.match(r"tunelab (tune|demo|bench): error: argument --", last) and words in last, last
    assert not (workdir / "tunelab-report").exists()


def test_a_report_folder_that_can_be_written_is_created_before_the_search(workdir, capsys):
    assert main(TUNE + ["--out", "new/report"]) == 1  # the search (refused by the fixture) comes after the check
    assert (workdir / "new" / "report").is_dir()
    assert "a search started" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# Ctrl-C
# ------------------------------------------------------------------------------------------------
def interrupt_after(args, cwd, trials, limit=120.0):
    """Run `tunelab *args` with its stderr on a terminal (so the progress bar shows trials done), send SIGINT
    once the bar shows `trials` done, and return (exit code, stderr lines, stdout). Bounded by `limit` seconds."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "tunelab.benchmarks", *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=slave, text=True)
    os.close(slave)
    output, sent, deadline = b"", False, time.monotonic() + limit
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            output += chunk
        done = [int(k) for k in re.findall(rb"(\d+)/\d+  best", output)]
        if not sent and done and max(done) >= trials:
            process.send_signal(signal.SIGINT)
            sent = True
    else:
        process.kill()
        pytest.fail(f"no end within {limit} s; stderr so far: {output[-500:]!r}")
    os.close(master)
    stdout = process.stdout.read()
    process.wait(timeout=30)
    assert sent, f"the process ended before {trials} trials: {output[-500:]!r}"
    lines = [line.strip() for line in re.split(r"[\r\n]+", output.decode()) if line.strip()]
    return process.returncode, lines, stdout


def finished(records):
    return sum(r["state"] != TrialState.RUNNING.value and "lost" not in r["system_attrs"] for r in records)


def test_ctrl_c_ends_tune_with_130_and_keeps_the_finished_trials(tmp_path):
    lines = ["a,b,c,y"] + [f"{i % 7},{(3 * i) % 11},{(i * i) % 13},{(i % 7 + (3 * i) % 11) % 2}" for i in range(120)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    code, err, out = interrupt_after(["tune", "d.csv", "--target", "y", "--trials", "100000", "--cv", "3",
                                      "--storage", "s.db", "--out", "report"], tmp_path, trials=3)
    assert code == 130
    study = Study.load(str(tmp_path / "s.db"))
    kept = finished([t.to_dict() for t in study.trials])
    assert kept >= 3 and len(study.trials) < 100000
    assert err[-1] == f"tunelab: interrupted: {kept} finished trials kept in s.db"
    report = (tmp_path / "report" / "report.md").read_text()
    assert "**Interrupted** (Ctrl-C): the random search stopped after" in report and "short of its budget" in report
    assert "report written" not in out
    assert main(["tune", str(tmp_path / "d.csv"), "--target", "y", "--trials", "1", "--cv", "3", "--no-progress",
                 "--storage", str(tmp_path / "s.db"), "--out", str(tmp_path / "again")]) == 0  # the study continues


def test_ctrl_c_ends_demo_with_130_and_a_report_marked_interrupted(tmp_path):
    code, err, out = interrupt_after(["demo", "--quick", "--budget", "500", "--searchers", "random,grid",
                                      "--out", "report"], tmp_path, trials=3)
    assert code == 130
    records = json.loads((tmp_path / "report" / "trials.json").read_text())
    assert list(records) == ["random"]  # the grid never started
    kept = finished(records["random"])
    assert 3 <= kept < 500
    assert err[-1] == f"tunelab: interrupted: {kept} finished trials kept in {os.path.join('report', 'trials.json')}"
    report = (tmp_path / "report" / "report.md").read_text()
    assert report.startswith("# tunelab demo (interrupted)") and "stopped after" in report
    assert "best CV accuracy" not in out  # no searcher line claims a finished search


class _InterruptAfterBegin:
    """A sqlite3 connection that raises KeyboardInterrupt right after its next BEGIN, as Ctrl-C can land there."""
    armed = False

    def __init__(self, connection):
        self._connection = connection

    def execute(self, sql, *args):
        result = self._connection.execute(sql, *args)
        if _InterruptAfterBegin.armed and sql.startswith("BEGIN"):
            _InterruptAfterBegin.armed = False
            raise KeyboardInterrupt
        return result

    def __getattr__(self, name):
        return getattr(self._connection, name)


def test_an_interrupt_just_after_a_transaction_began_leaves_the_study_usable(tmp_path, monkeypatch):
    import sqlite3

    from tunelab.searchers import Real

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *args, **kwargs: _InterruptAfterBegin(real_connect(*args, **kwargs)))
    study = Study({"x": Real(0, 1)}, storage=str(tmp_path / "s.db"), seed=0)
    first = study.ask()
    _InterruptAfterBegin.armed = True
    with pytest.raises(KeyboardInterrupt):
        study.tell(first, 0.5)
    second = study.ask()  # the interrupted transaction was rolled back: a new one starts
    study.tell(second, 0.25)
    assert [t.value for t in Study.load(str(tmp_path / "s.db")).trials if t.value is not None] == [0.25]
