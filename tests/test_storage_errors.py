"""Storage errors name the path and the problem; an unrelated file is left as it was; a study whose file is
deleted while it is open says so; garbled rows and meta entries give a StorageError naming the file,
never an error of another kind."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tunelab.searchers.evolutionary.genetic import EvolutionSearch
from tunelab.searchers.space import Integer, Real
from tunelab.searchers.storage import StorageError
from tunelab.searchers.study import Study, minimize
from tunelab.searchers.trial import TrialPruned

SPACE = {"x": Real(0.0, 1.0), "n": Integer(1, 5), "kind": ["a", "b"]}


def objective(trial):
    trial.report(trial.params["x"], 0)
    if trial.params["n"] == 4:
        raise TrialPruned()
    if trial.params["n"] == 5:
        raise ValueError("no 5")
    trial.set_attr("twice", 2 * trial.params["x"])
    return trial.params["x"] * trial.params["n"]


def make_study_file(path, n_trials=8):
    Study(SPACE, EvolutionSearch(population_size=4), storage=path, seed=1).optimize(
        objective, n_trials=n_trials, progress=False).close()
    return path


def tables(path):
    with sqlite3.connect(path) as db:
        return sorted(name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))


# ---- files that are not studies -----------------------------------------------------------------

def test_a_file_that_is_not_a_database_is_named(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("a text file, long enough to have a header of its own: " * 4)
    with pytest.raises(StorageError, match=f"^{path} is not an SQLite database"):
        Study(SPACE, storage=path)
    assert path.read_text().startswith("a text file")


def test_an_unrelated_database_gets_no_tables_and_no_journal_change(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers (name) VALUES ('ada')")
    before = path.read_bytes()
    for call in (lambda: Study(SPACE, storage=path), lambda: Study.load(path)):
        with pytest.raises(StorageError, match=f"^{path} is an SQLite database of something else "
                                               r"\(its tables: customers\); a study needs a file of its own"):
            call()
    assert tables(path) == ["customers"] and path.read_bytes() == before
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not os.path.exists(f"{path}-wal")


def test_tables_of_another_schema_are_named(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE TABLE trials (number INTEGER PRIMARY KEY, params TEXT)")
    with pytest.raises(StorageError, match=f"^{path} holds a `trials` table of another schema: it lacks the columns "
                                           r"state, value, error"):
        Study(SPACE, storage=path)
    assert tables(path) == ["meta", "trials"]


def test_a_directory_is_named(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"`storage` {tmp_path} is a directory; give a file path in it"):
        Study(SPACE, storage=tmp_path)


def test_a_missing_parent_folder_is_named(tmp_path):
    path = tmp_path / "no" / "such" / "study.db"
    with pytest.raises(FileNotFoundError, match=f"the folder {tmp_path / 'no' / 'such'} of `storage` {path} does "
                                                "not exist; create it first"):
        Study(SPACE, storage=path)


def test_loading_a_missing_study_leaves_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no study at missing.db: the file does not exist"):
        Study.load("missing.db")
    assert os.listdir(tmp_path) == []
    assert Study(storage="new.db").space.define_by_run  # no space and no file: a new define-by-run study
    sqlite3.connect(tmp_path / "empty.db").close()  # an empty database: a file, but no study in it
    with pytest.raises(ValueError, match="empty.db holds no study; give a dict of dimensions"):
        Study.load("empty.db")


def _make_read_only(path):
    """chmod for ordinary users; the immutable attribute for root (who writes through permissions)."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, 0o644)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root without `chattr +i`: no way to make a file read-only")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_study_file_is_named(tmp_path):
    path = tmp_path / "study.db"
    make_study_file(path)
    with sqlite3.connect(path) as db:  # a closed study leaves no -wal file; back to a plain journal
        db.execute("PRAGMA journal_mode=DELETE")
    undo = _make_read_only(path)
    try:
        with pytest.raises(PermissionError, match=f"the study file {path} is read-only"):
            Study.load(path)
    finally:
        undo()


# ---- rows and meta entries that cannot be read --------------------------------------------------

def set_column(path, number, column, value):
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE trials SET {column} = ? WHERE number = ?", (value, number))


@pytest.mark.parametrize("column, value, words", [
    ("params", "{not json", "trial 1 in {path} cannot be read: `params` is not valid JSON (Expecting property"),
    ("params", '["a", 1]', "trial 1 in {path} cannot be read: `params` must be a JSON object; got ['a', 1]"),
    ("params", '{"x": 0.5}', "trial 1 in {path} cannot be read: `params` must have exactly the names ['x', 'n', "
                             "'kind']; missing ['n', 'kind']"),
    ("params", '{"x": 7.0, "n": 1, "kind": "a"}', "trial 1 in {path} cannot be read: params['x'] = 7.0 is not "
                                                  "inside Real(0.0, 1.0)"),
    ("attrs", "[1, 2", "trial 1 in {path} cannot be read: `attrs` is not valid JSON"),
    ("system_attrs", "3", "trial 1 in {path} cannot be read: `system_attrs` must be a JSON object; got 3"),
    ("intermediate_values", '{"one": 0.5}', "trial 1 in {path} cannot be read: `intermediate_values` must map "
                                            "step numbers to finite numbers; got {'one': 0.5}"),
    ("intermediate_values", '{"0": NaN}', "trial 1 in {path} cannot be read: `intermediate_values` must map "
                                          "step numbers to finite numbers; got {0: nan}"),
    ("state", "finished", "trial 1 in {path} cannot be read: `state` must be one of running, complete, failed, "
                          "pruned; got 'finished'"),
    ("value", "high", "trial 1 in {path} cannot be read: `value` must be a number or NULL; got 'high'"),
    ("start_time", "noon", "trial 1 in {path} cannot be read: `start_time` must be a number or NULL; got 'noon'"),
    ("error", b"\x00\x01", "trial 1 in {path} cannot be read: `error` must be text or NULL; got b'\\x00\\x01'"),
])
def test_an_unreadable_row_is_named_by_file_trial_and_column(tmp_path, column, value, words):
    path = make_study_file(tmp_path / "study.db")
    set_column(path, 1, column, value)
    with pytest.raises(StorageError) as caught:
        Study.load(path)
    assert words.replace("{path}", str(path)) in str(caught.value)


def test_a_complete_trial_without_a_value_and_a_gap_in_the_numbers_are_named(tmp_path):
    path = make_study_file(tmp_path / "study.db")
    with sqlite3.connect(path) as db:
        number = db.execute("SELECT number FROM trials WHERE state = 'complete'").fetchone()[0]
        db.execute("UPDATE trials SET value = NULL WHERE number = ?", (number,))
    with pytest.raises(StorageError, match=f"trial {number} in {path} cannot be read: a complete trial needs a "
                                           "finite `value`; got None"):
        Study.load(path)
    path = make_study_file(tmp_path / "gap.db")
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM trials WHERE number = 2")
    with pytest.raises(StorageError, match=f"the trials table of {path} has no trial 2"):
        Study.load(path)


@pytest.mark.parametrize("key, value, words", [
    ("space", None, "{path} holds no readable study: the meta table has no `space`"),
    ("direction", None, "{path} holds no readable study: the meta table has no `direction`"),
    ("direction", '"up"', "{path} holds no readable study: `direction` must be 'minimize' or 'maximize'; got 'up'"),
    ("seed", '"abc"', "{path} holds no readable study: `seed` must be an integer in [0, 2**63); got 'abc'"),
    ("space", '{"x": 1', "{path} holds no readable study: meta `space` is not valid JSON"),
    ("space", '[{"name": "x", "type": "real", "low": 1.0, "high": 0.0, "log": false}]',
     "{path} holds no readable study: its `space` cannot be rebuilt: Real needs `low` < `high`"),
    ("space", '[{"type": "real"}]', "{path} holds no readable study: its `space` cannot be rebuilt: KeyError: 'name'"),
    ("format", "2", "{path} was written by a newer tunelab (study format 2; this version reads format 1)"),
    ("context", "[1]", "{path} holds no readable study: `context` must be a JSON object; got [1]"),
])
def test_unreadable_or_missing_meta_entries_are_named(tmp_path, key, value, words):
    path = make_study_file(tmp_path / "study.db")
    with sqlite3.connect(path) as db:
        if value is None:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
    with pytest.raises(StorageError) as caught:
        Study.load(path)
    assert words.replace("{path}", str(path)) in str(caught.value)


# ---- a file deleted or replaced while its study is open -----------------------------------------

def test_deleting_the_file_of_an_open_study_is_detected(tmp_path):
    path = tmp_path / "study.db"
    study = Study(SPACE, storage=path, seed=0).optimize(objective, n_trials=2, progress=False)
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=f"the study file {path} was deleted while the study was open"):
        study.optimize(objective, n_trials=2, progress=False)
    with pytest.raises(FileNotFoundError, match="was deleted while the study was open"):
        study.ask()
    assert not path.exists()


def test_replacing_the_file_of_an_open_study_is_detected(tmp_path):
    path, other = tmp_path / "study.db", tmp_path / "other.db"
    study = Study(SPACE, storage=path, seed=0).optimize(objective, n_trials=2, progress=False)
    make_study_file(other)
    os.replace(other, path)
    with pytest.raises(StorageError, match=f"the study file {path} was replaced by another file while the study "
                                           "was open"):
        study.ask()


# ---- hypothesis: garbled rows and meta entries --------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=12)
CELL = (JSON.map(json.dumps) | st.text(max_size=20) | st.binary(max_size=12) | st.integers(-2**62, 2**62)
        | st.floats() | st.none())


def _template():
    folder = tempfile.mkdtemp(prefix="tunelab-template-")
    return make_study_file(os.path.join(folder, "template.db"))


TEMPLATE = None


def fresh_copy():
    global TEMPLATE
    if TEMPLATE is None:
        TEMPLATE = _template()
    folder = tempfile.mkdtemp(prefix="tunelab-garbled-")
    path = os.path.join(folder, "study.db")
    shutil.copyfile(TEMPLATE, path)
    return path


def garble(path, sql, args):
    """Run one UPDATE on the copy; a change its schema forbids (NULL in a NOT NULL column, a taken trial
    number) is no example."""
    try:
        with sqlite3.connect(path) as db:
            db.execute(sql, args)
    except sqlite3.IntegrityError:
        shutil.rmtree(os.path.dirname(path))
        assume(False)


def open_and_use(path):
    """Open the study and use it; a StorageError naming the file is the only failure allowed."""
    try:
        study = Study.load(path)
        trials = study.trials
        study.trials_table(), study.to_json(), study.to_csv()
        if any(t.state.value == "complete" for t in trials):
            values = [t.value for t in trials if t.state.value == "complete"]
            assert study.best_value == min(values, key=lambda v: study.sign * v)
        study.optimize(objective, n_trials=2, progress=False)
        study.close()
    except StorageError as exc:
        assert path in str(exc)
    finally:
        shutil.rmtree(os.path.dirname(path))


COLUMNS = ["state", "params", "value", "error", "start_time", "end_time", "intermediate_values", "attrs",
           "system_attrs", "seq"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=st.integers(0, 7), column=st.sampled_from(COLUMNS), cell=CELL)
@example(number=7, column="seq", cell=-9.223372036854776e18)  # a seq no `seq > ?` bound read: the trial was skipped
def test_a_garbled_cell_gives_a_storage_error_naming_the_file_or_a_usable_study(number, column, cell):
    path = fresh_copy()
    garble(path, f"UPDATE trials SET {column} = ? WHERE number = ?", (cell, number))
    open_and_use(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=st.integers(0, 7), column=st.sampled_from(["params", "intermediate_values", "attrs"]),
       key=st.text(max_size=5), value=JSON)
def test_a_garbled_entry_inside_a_json_cell_gives_a_storage_error_or_a_usable_study(number, column, key, value):
    path = fresh_copy()
    with sqlite3.connect(path) as db:
        (text,) = db.execute(f"SELECT {column} FROM trials WHERE number = ?", (number,)).fetchone()
        entry = json.loads(text)
        entry[key] = value
        db.execute(f"UPDATE trials SET {column} = ? WHERE number = ?", (json.dumps(entry), number))
    open_and_use(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["format", "space", "direction", "seed", "searcher", "context"]),
       cell=CELL | st.just(None) | JSON.map(lambda v: json.dumps({"class": "RandomSearch", "params": v})))
def test_a_garbled_meta_entry_gives_a_storage_error_naming_the_file_or_a_usable_study(key, cell):
    path = fresh_copy()
    if cell is None:
        garble(path, "DELETE FROM meta WHERE key = ?", (key,))
    else:
        garble(path, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, cell))
    open_and_use(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=st.integers(0, 7), new=st.integers(-3, 12))
def test_renumbered_rows_give_a_storage_error_or_a_usable_study(number, new):
    path = fresh_copy()
    garble(path, "UPDATE trials SET number = ? WHERE number = ?", (new, number))
    open_and_use(path)


def test_minimize_on_a_garbled_file_names_it(tmp_path):
    path = make_study_file(tmp_path / "study.db")
    set_column(path, 0, "params", "{")
    with pytest.raises(StorageError, match=f"trial 0 in {path} cannot be read"):
        minimize(lambda p: p["x"], SPACE, storage=path, n_trials=1, progress=False)
