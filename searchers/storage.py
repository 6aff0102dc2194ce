"""Where a study keeps its trials: in memory, or in an SQLite file that survives the process.

SQLite (the standard library's sqlite3, imported when a study first opens a file) in WAL mode: new
trials are inserted and finished trials updated each in its own transaction, committed at once, so a
process killed mid-study loses only the trials that were running. Several processes may share one
file: trial numbers are reserved, and the searcher asked for new points, inside one write transaction
(BEGIN IMMEDIATE) that first reads what the others wrote, so no two processes take the same number or
the same grid point. Params, values and attributes are stored as JSON, never pickled.

Every statement a trial runs searches an index (the primary key `number`, or `seq`, which numbers the
writes), so a trial costs the same with 100 or 100,000 trials stored; `load` reads the whole table once.

Both storages offer the same calls to the study: read_meta, init_meta/set_meta/merge_meta,
extend_space(entry) (a define-by-run study's space grows by one dimension, atomically), load(space),
create_trials(propose), finish(trial) (which writes the params too: a define-by-run trial gets them while
it runs), plus sync() and `trials` (the list, trials[i].number == i). Both pickle: an SQLite storage
unpickles without its connection and reconnects to its file when next used (checking that the file still
holds its study).

A file that cannot serve as a study is refused before anything is written to it: a directory, a missing
folder or file, a read-only file, a file that is not SQLite, an SQLite database of something else (it
gets no tables), tunelab's tables in another schema. Every row read is checked (JSON cells, types, the
params inside the space); a row that fails gives a StorageError naming the file, the trial and the
column. The file's identity (device, inode) is checked before each transaction, so a study whose file
was deleted or replaced while it was open stops instead of writing to a file no one will read.
"""

import json
import math
import os
import socket
import threading
import time

from tunelab.searchers.space import Categorical
from tunelab.searchers.trial import Trial, TrialState


def _process_start(pid):
    """A token that tells two processes with the same pid apart (start time in clock ticks on Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def worker_id():
    """host:pid:start of this process, recorded with each trial it runs."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def worker_is_dead(worker):
    """True only when `worker` ran on this host and that process no longer exists."""
    try:
        host, pid, start = worker.rsplit(":", 2)
        pid = int(pid)
    except (AttributeError, ValueError):
        return False
    if not 0 < pid < 2**31:
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return bool(start) and _process_start(pid) != start  # the pid now belongs to another process


class StorageError(ValueError):
    """The contents of a study's storage cannot be used (not a study, another schema, an unreadable row);
    the message names the file."""


class InMemoryStorage:
    """Trials in a list; nothing survives the process."""

    path = None

    def __init__(self):
        self.trials = []
        self.meta = {}
        self._lock = threading.RLock()

    def read_meta(self):
        return dict(self.meta)

    def init_meta(self, meta):
        for key, value in meta.items():
            self.meta.setdefault(key, value)
        return dict(self.meta)

    def set_meta(self, key, value):
        self.meta[key] = value

    def merge_meta(self, key, entries):
        """Add to the dict stored under `key` the entries it does not hold yet, unless one it holds has
        another value; returns it as it was."""
        with self._lock:
            before = dict(self.meta.get(key) or {})
            if all(before.get(k, v) == v for k, v in entries.items()):
                self.meta[key] = {**entries, **before}
            return before

    def count(self):
        """The number of trials stored."""
        return len(self.trials)

    def extend_space(self, entry):
        """Append `entry` (a dimension's config with its "name") to meta["space"] unless that name is there;
        returns the stored space."""
        with self._lock:
            space = self.meta["space"] = list(self.meta["space"])
            if all(e["name"] != entry["name"] for e in space):
                space.append(entry)
            return list(space)

    def load(self, space):
        self.space = space
        return self.trials

    def sync(self):
        return self.trials

    def create_trials(self, propose):
        """propose(trials) -> list of params; each becomes a new running trial, numbered in order."""
        with self._lock:
            params_list = propose(self.trials)
            now = time.time()
            new = [Trial(len(self.trials) + k, params, start_time=now) for k, params in enumerate(params_list)]
            self.trials.extend(new)
            return new

    def finish(self, trial):
        pass  # the trial object in the list is the record

    def close(self):
        pass

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()


_TABLES = {
    "meta": ("key", "value"),
    "trials": ("number", "state", "params", "value", "error", "start_time", "end_time", "intermediate_values",
               "attrs", "system_attrs", "seq"),
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, value REAL, error TEXT,
    start_time REAL, end_time REAL, intermediate_values TEXT NOT NULL, attrs TEXT NOT NULL,
    system_attrs TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS trials_by_seq ON trials (seq);
"""
_SELECT = f"SELECT {', '.join(_TABLES['trials'])} FROM trials"


def _check_path(path, create):
    """Refuse, before SQLite touches anything, a path that cannot hold a study (see the module docstring)."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"`storage` {path} is a directory; give a file path in it, e.g. "
                                f"{os.path.join(path, 'study.db')}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(path):
        if not create:
            raise FileNotFoundError(f"no study at {path}: the file does not exist.")
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"the folder {os.path.dirname(path) or folder} of `storage` {path} does not "
                                    "exist; create it first.")
    elif not os.access(path, os.R_OK | os.W_OK):
        raise PermissionError(f"the study file {path} is read-only (no permission to write it); a study writes "
                              "each trial to its file: make it writable, or open a writable copy.")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"the folder {folder} of the study file {path} is read-only; SQLite writes its "
                              f"journal ({os.path.basename(path)}-wal) beside the file: give a writable place.")


def _identity(path):
    """(device, inode) of the file at `path`; None for SQLite's ":memory:"."""
    if path == ":memory:":
        return None
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _translate(path, exc):
    """An sqlite3 error as an error that names the file and the problem (others unchanged)."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return PermissionError(f"the study file {path} is read-only ({text}); a study writes each trial to its "
                               "file: make it writable, or open a writable copy.")
    if "not a database" in text or "malformed" in text:
        return StorageError(f"{path} is not an SQLite database ({text}); `storage` must be a study file or a "
                            "new path.")
    return exc


def _tables(db):
    """{table: [columns]} of a database (SQLite's own tables left out)."""
    names = [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: [row[1] for row in db.execute(f"PRAGMA table_info(\"{name}\")")] for name in names}


def _check_schema(path, tables):
    """Nothing for a database without tables or with tunelab's; a StorageError for anything else."""
    if not tables:
        return
    if not set(tables) & set(_TABLES):
        raise StorageError(f"{path} is an SQLite database of something else (its tables: {', '.join(sorted(tables))}); "
                           "a study needs a file of its own: give a new path as `storage`.")
    for name, columns in _TABLES.items():
        if name not in tables:
            raise StorageError(f"{path} holds tunelab's tables in another schema: it has no `{name}` table.")
        missing = [c for c in columns if c not in tables[name]]
        if missing:
            raise StorageError(f"{path} holds a `{name}` table of another schema: it lacks the columns "
                               f"{', '.join(missing)}; it was not written by this version of tunelab.")


class _Row:
    """One row of the trials table, checked column by column into a Trial (StorageError on the first fault)."""

    def __init__(self, row, path):
        self.values = dict(zip(_TABLES["trials"], row))
        self.path, self.number = path, self.values["number"]

    def error(self, problem):
        return StorageError(f"trial {self.number} in {self.path} cannot be read: {problem}")

    def json(self, column, kind=dict):
        text = self.values[column]
        if not isinstance(text, (str, bytes)):
            raise self.error(f"`{column}` must be JSON text; got {text!r:.80}.")
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise self.error(f"`{column}` is not valid JSON ({exc}).") from None
        if not isinstance(value, kind):
            raise self.error(f"`{column}` must be a JSON {'object' if kind is dict else 'list'}; got {value!r:.80}.")
        return value

    def number_or_null(self, column):
        value = self.values[column]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(f"`{column}` must be a number or NULL; got {value!r:.80}.")
        return float(value)

    def params(self, space):
        """The stored params, checked: names of the space only; in a declared space exactly the names active
        for the stored choices; values inside it. A define-by-run study's rows may name dimensions this process
        has not seen yet (its space grows as trials run): they are read as stored and checked once known."""
        stored = self.json("params")
        if space.define_by_run:
            return space.params_from_json(stored)
        extra = [n for n in stored if n not in space]
        if extra:
            raise self.error(f"`params` has names {extra} that are not in the space {list(space.names)}.")
        for name in stored:
            dim, index = space[name], stored[name]
            if isinstance(dim, Categorical) and not dim.json_native and (
                    isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < dim.n_values):
                raise self.error(f"params[{name!r}] must be the index of one of {dim.n_values} choices; "
                                 f"got {index!r:.80}.")
        params = space.params_from_json(stored)
        active = space.active_names(params)
        if sorted(active) != sorted(stored):
            missing = [n for n in active if n not in stored]
            inactive = [n for n in stored if n not in active]
            raise self.error(f"`params` must have exactly the names {active}; missing {missing}, "
                             f"inactive {inactive}.")
        try:
            space.validate(params)
        except (TypeError, ValueError) as exc:
            raise self.error(str(exc)) from None
        return params

    def steps(self):
        steps = self.json("intermediate_values")
        try:
            steps = {int(k): v for k, v in steps.items()}
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                   for v in steps.values()):
                raise ValueError
        except ValueError:
            raise self.error(f"`intermediate_values` must map step numbers to finite numbers; "
                             f"got {steps!r:.80}.") from None
        return steps

    def trial(self, space):
        state, error, seq = self.values["state"], self.values["error"], self.values["seq"]
        if state not in {s.value for s in TrialState}:
            raise self.error(f"`state` must be one of {', '.join(s.value for s in TrialState)}; got {state!r:.80}.")
        if error is not None and not isinstance(error, str):
            raise self.error(f"`error` must be text or NULL; got {error!r:.80}.")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise self.error(f"`seq` must be an integer; got {seq!r:.80}.")
        value, vector = self.value()
        if state == TrialState.COMPLETE.value and value is None and vector is None:
            raise self.error(f"a complete trial needs a finite `value`; got {self.values['value']!r:.80}.")
        return Trial(self.number, self.params(space), state, value, error, self.number_or_null("start_time"),
                     self.number_or_null("end_time"), self.steps(), self.json("attrs"), self.json("system_attrs"),
                     vector)

    def value(self):
        """(value, objective_values): the `value` column holds a number (one objective) or the JSON list of
        a trial's objective values (several)."""
        text = self.values["value"]
        if not isinstance(text, str) or not text.startswith("["):
            return self.number_or_null("value"), None
        vector = self.json("value", list)
        if not vector or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                             for v in vector):
            raise self.error(f"`value` must be a number, NULL or a JSON list of finite numbers; got {vector!r:.80}.")
        return None, [float(v) for v in vector]


class SQLiteStorage:
    """A study in one SQLite file. `seq` numbers every write, so `sync` reads only what changed.

    create=False opens an existing file only (FileNotFoundError, and no file made, when there is none).
    """

    def __init__(self, path, timeout=60.0, create=True):
        self.path = os.fspath(path)
        self.timeout = timeout
        self.trials = []
        self.space = None
        self._lock = threading.RLock()
        self._last_seq = None  # the largest seq read; None: read every row
        self._own_running = set()  # numbers of the running trials this object created (it is their writer)
        self._worker = worker_id()
        self._db, self._identity = None, None
        self._open(create)

    # ---- the connection ------------------------------------------------------------------------

    def _open(self, create):
        """Connect, check the file holds tunelab's tables (or none: then make them when `create`)."""
        import sqlite3

        if self.path != ":memory:":
            _check_path(self.path, create)
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _translate(self.path, exc) from None
        try:
            tables = _tables(db)
            _check_schema(self.path, tables)
            if tables or create:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: commits survive a killed process
            if not tables and create:
                db.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            db.close()
            raise _translate(self.path, exc) from None
        except BaseException:
            db.close()
            raise
        self._db, self._identity = db, _identity(self.path)

    def _connection(self):
        """The open connection, after checking the file is still the one opened (reconnecting after unpickling)."""
        if self._db is None:
            self._reopen()
        if self._identity is None:  # ":memory:"
            return self._db
        try:
            identity = _identity(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"the study file {self.path} was deleted while the study was open; trials "
                                    "written now would be lost with it. Start the study again to make a new "
                                    "file.") from None
        if identity != self._identity:
            raise StorageError(f"the study file {self.path} was replaced by another file while the study was open; "
                               "reopen the study to continue in the new file.")
        return self._db

    def _reopen(self):
        """After unpickling: connect to the file again, which must still hold this study's space."""
        if self.path != ":memory:" and not os.path.exists(self.path):
            raise FileNotFoundError(f"the study file {self.path} does not exist; this study was unpickled, and its "
                                    "trials are kept in that file.")
        self._open(create=False)
        stored = self.read_meta().get("space")
        if self.space is not None and stored != self.space.config():
            raise StorageError(f"{self.path} now holds another study than the one pickled (its space differs).")

    def _transaction(self):
        return _Transaction(self)

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_db", "_identity", "_worker")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._worker = worker_id()
        self._db, self._identity = None, None  # connected again when first used

    # ---- meta --------------------------------------------------------------------------------------

    def read_meta(self):
        """{key: value} of the meta table ({} for a database without tables)."""
        with self._lock:
            db = self._connection()
            if "meta" not in _tables(db):
                return {}
            meta = {}
            for key, text in db.execute("SELECT key, value FROM meta"):
                try:
                    meta[key] = json.loads(text)
                except (TypeError, ValueError, RecursionError) as exc:
                    raise StorageError(f"{self.path} holds no readable study: meta `{key}` is not valid JSON "
                                       f"({exc}).") from None
            return meta

    def init_meta(self, meta):
        """Store meta unless another process stored a study first; returns what is stored."""
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                           [(k, json.dumps(v)) for k, v in meta.items()])
        return self.read_meta()

    def set_meta(self, key, value):
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def merge_meta(self, key, entries):
        """In one write transaction: add to the dict stored under `key` the entries it does not hold yet,
        unless one it holds has another value; returns it as it was."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            try:
                before = {} if row is None else json.loads(row[0])
            except (TypeError, ValueError, RecursionError):
                before = None
            if not isinstance(before, dict):
                raise StorageError(f"{self.path} holds no readable study: meta `{key}` must be a JSON object; "
                                   f"got {row[0]!r:.80}.")
            if all(before.get(k, v) == v for k, v in entries.items()) and any(k not in before for k in entries):
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                           (key, json.dumps({**entries, **before})))
            return before

    def count(self):
        """The number of trials stored (read from the file)."""
        with self._transaction() as db:
            return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    # ---- trials ------------------------------------------------------------------------------------

    def extend_space(self, entry):
        """In one write transaction: append `entry` to the stored space unless another process stored that name
        first; returns the stored space."""
        with self._transaction() as db:
            space = json.loads(db.execute("SELECT value FROM meta WHERE key = 'space'").fetchone()[0])
            if all(e["name"] != entry["name"] for e in space):
                space.append(entry)
                db.execute("UPDATE meta SET value = ? WHERE key = 'space'", (json.dumps(space),))
            return space

    def load(self, space):
        """Read every trial; running trials of processes that died on this host are marked failed (lost)."""
        self.space = space
        with self._transaction() as db:
            for row in db.execute(f"{_SELECT} WHERE state = ?", (TrialState.RUNNING.value,)).fetchall():
                worker = _Row(row, self.path).json("system_attrs").get("worker")
                if worker_is_dead(worker):
                    db.execute(
                        "UPDATE trials SET state = ?, error = ?, system_attrs = ?, end_time = ?, seq = ? "
                        "WHERE number = ?",
                        (TrialState.FAILED.value, f"lost: the process {worker} ended while the trial was running",
                         json.dumps({"worker": worker, "lost": "process ended"}), time.time(), self._next_seq(),
                         row[0]))
            self.trials = []
            self._last_seq = None  # every row, whatever its seq
            self._sync_locked()
        return self.trials

    def sync(self):
        """Read the trials other processes created or finished since the last sync."""
        with self._transaction():
            self._sync_locked()
        return self.trials

    def _next_seq(self):
        """The seq of the next write: one more than the largest (an index lookup; inside a write transaction)."""
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM trials").fetchone()[0]

    def _wrote(self, seq):
        """Note this object's own write with `seq`: when it had read every row before (`_last_seq` is the
        previous largest seq), the next sync need not read the rows it wrote itself."""
        if self._last_seq is not None and self._last_seq >= seq - 1:
            self._last_seq = seq

    def _sync_locked(self):
        """Read the rows written since `_last_seq` (every row when it is None). The query searches the `seq`
        index (a range scan that costs O(log n + changes)); the rows are put in number order here, not by
        ORDER BY number, which makes SQLite scan the whole table in primary-key order instead."""
        if self._last_seq is None:
            rows = self._db.execute(_SELECT).fetchall()
        else:
            rows = self._db.execute(f"{_SELECT} WHERE seq > ?", (self._last_seq,)).fetchall()
        rows.sort(key=lambda row: row[0])  # by number: a new trial follows the one before it
        for row in rows:
            trial = _Row(row, self.path).trial(self.space)
            seq = row[-1]
            if isinstance(seq, bool) or not isinstance(seq, int):
                raise StorageError(f"trial {trial.number} in {self.path} cannot be read: `seq` must be an integer; "
                                   f"got {seq!r:.80}.")
            number = trial.number
            if not 0 <= number <= len(self.trials):
                what = f"a trial numbered {number}" if number < 0 else f"no trial {len(self.trials)}"
                raise StorageError(f"the trials table of {self.path} has {what}; trials are numbered 0, 1, 2, ...")
            self._last_seq = seq if self._last_seq is None else max(self._last_seq, seq)
            if number in self._own_running:
                continue
            if number < len(self.trials):
                self.trials[number] = trial
            else:
                self.trials.append(trial)

    def create_trials(self, propose):
        """In one write transaction: read others' trials, propose(trials) -> params list, insert them running."""
        with self._transaction() as db:
            self._sync_locked()
            params_list = propose(self.trials)
            now, seq = time.time(), self._next_seq()
            new = []
            for params in params_list:
                trial = Trial(len(self.trials), params, start_time=now, system_attrs={"worker": self._worker})
                db.execute(
                    "INSERT INTO trials (number, state, params, start_time, intermediate_values, attrs, "
                    "system_attrs, seq) VALUES (?, ?, ?, ?, '{}', '{}', ?, ?)",
                    (trial.number, trial.state.value, json.dumps(self.space.params_to_json(params)), now,
                     json.dumps(trial.system_attrs), seq))
                self.trials.append(trial)
                self._own_running.add(trial.number)
                new.append(trial)
            if new:
                self._wrote(seq)
            return new

    def finish(self, trial):
        """Write the trial's final state; committed before returning."""
        with self._transaction() as db:
            seq = self._next_seq()
            db.execute(
                "UPDATE trials SET state = ?, params = ?, value = ?, error = ?, end_time = ?, intermediate_values = ?, "
                "attrs = ?, system_attrs = ?, seq = ? WHERE number = ?",
                (trial.state.value, json.dumps(self.space.params_to_json(trial.params)),
                 trial.value if trial.objective_values is None else json.dumps(trial.objective_values), trial.error,
                 trial.end_time,
                 json.dumps({str(k): v for k, v in trial.intermediate_values.items()}), json.dumps(trial.attrs),
                 json.dumps(trial.system_attrs), seq, trial.number))
            self._own_running.discard(trial.number)
            self._wrote(seq)

    def close(self):
        with self._lock:
            if self._db is not None:
                self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error), holding the storage's thread lock too; yields the
    connection after checking the file (`SQLiteStorage._connection`)."""

    def __init__(self, storage):
        self.storage = storage

    def __enter__(self):
        import sqlite3  # loaded already: the storage opened its file

        self.storage._lock.acquire()
        try:
            self.db = self.storage._connection()
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.storage._lock.release()
            raise _translate(self.storage.path, exc) from None
        except BaseException:  # e.g. KeyboardInterrupt just after BEGIN: leave no transaction open
            _rollback_if_open(getattr(self, "db", None))
            self.storage._lock.release()
            raise
        return self.db

    def __exit__(self, exc_type, exc, tb):
        import sqlite3

        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.Error as error:
            if exc_type is None:
                raise _translate(self.storage.path, error) from None
        finally:
            _rollback_if_open(self.db)  # a KeyboardInterrupt before COMMIT ran, or a failed COMMIT
            self.storage._lock.release()
        return False


def _rollback_if_open(db):
    """ROLLBACK when `db` (a connection or None) is inside a transaction, so its next BEGIN can start."""
    if db is not None and db.in_transaction:
        import sqlite3  # loaded already: the connection is open

        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def make_storage(storage, create=True):
    """None -> InMemoryStorage(); a path (str or os.PathLike, "sqlite:///" prefix allowed) -> SQLiteStorage
    (create=False: the file must exist)."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, (InMemoryStorage, SQLiteStorage)):
        return storage
    if isinstance(storage, (str, os.PathLike)):
        path = os.fspath(storage)
        if path.startswith("sqlite:///"):
            path = path[len("sqlite:///"):]
        if not path:
            raise ValueError("`storage` must be a file path; got an empty string.")
        return SQLiteStorage(path, create=create)
    raise TypeError(f"`storage` must be None, a file path or a storage object; got {type(storage).__name__}.")
