"""Where a study keeps its trials: in memory, or in an SQLite file that survives the process.

SQLite (the standard library's sqlite3) in WAL mode: new trials are inserted and finished trials
updated each in its own transaction, committed at once, so a process killed mid-study loses only the
trials that were running. Several processes may share one file: trial numbers are reserved, and the
searcher asked for new points, inside one write transaction (BEGIN IMMEDIATE) that first reads what
the others wrote, so no two processes take the same number or the same grid point.
Params, values and attributes are stored as JSON, never pickled.

Both storages offer the same calls to the study: read_meta, init_meta/set_meta, extend_space(entry) (a
define-by-run study's space grows by one dimension, atomically), load(space), create_trials(propose),
finish(trial) (which writes the params too: a define-by-run trial gets them while it runs), plus sync()
and `trials` (the list, trials[i].number == i).
"""

import json
import os
import socket
import sqlite3
import threading
import time

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
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return bool(start) and _process_start(pid) != start  # the pid now belongs to another process


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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, value REAL, error TEXT,
    start_time REAL, end_time REAL, intermediate_values TEXT NOT NULL, attrs TEXT NOT NULL,
    system_attrs TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS trials_by_seq ON trials (seq);
"""


class SQLiteStorage:
    """A study in one SQLite file. `seq` numbers every write, so `sync` reads only what changed."""

    def __init__(self, path, timeout=60.0):
        self.path = os.fspath(path)
        self.trials = []
        self._lock = threading.RLock()
        self._last_seq = 0
        self._own_running = set()  # numbers of the running trials this object created (it is their writer)
        self._worker = worker_id()
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: commits survive a killed process
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    def _transaction(self):
        return _Transaction(self._db, self._lock)

    def read_meta(self):
        with self._lock:
            return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def init_meta(self, meta):
        """Store meta unless another process stored a study first; returns what is stored."""
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                                 [(k, json.dumps(v)) for k, v in meta.items()])
        return self.read_meta()

    def set_meta(self, key, value):
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def extend_space(self, entry):
        """In one write transaction: append `entry` to the stored space unless another process stored that name
        first; returns the stored space."""
        with self._transaction():
            space = json.loads(self._db.execute("SELECT value FROM meta WHERE key = 'space'").fetchone()[0])
            if all(e["name"] != entry["name"] for e in space):
                space.append(entry)
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'space'", (json.dumps(space),))
            return space

    def load(self, space):
        """Read every trial; running trials of processes that died on this host are marked failed (lost)."""
        self.space = space
        with self._transaction():
            for number, system_attrs in self._db.execute(
                    "SELECT number, system_attrs FROM trials WHERE state = ?", (TrialState.RUNNING.value,)).fetchall():
                worker = json.loads(system_attrs).get("worker")
                if worker_is_dead(worker):
                    self._db.execute(
                        "UPDATE trials SET state = ?, error = ?, system_attrs = ?, end_time = ?, seq = ? "
                        "WHERE number = ?",
                        (TrialState.FAILED.value, f"lost: the process {worker} ended while the trial was running",
                         json.dumps({"worker": worker, "lost": "process ended"}), time.time(), self._next_seq(),
                         number))
            self.trials = []
            self._last_seq = 0
            self._sync_locked()
        return self.trials

    def sync(self):
        """Read the trials other processes created or finished since the last sync."""
        with self._transaction():
            self._sync_locked()
        return self.trials

    def _next_seq(self):
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM trials").fetchone()[0]

    def _sync_locked(self):
        rows = self._db.execute(
            "SELECT number, state, params, value, error, start_time, end_time, intermediate_values, attrs, "
            "system_attrs, seq FROM trials WHERE seq > ? ORDER BY number", (self._last_seq,)).fetchall()
        for row in rows:
            number = row[0]
            self._last_seq = max(self._last_seq, row[10])
            if number in self._own_running:
                continue
            trial = Trial(number, self.space.params_from_json(json.loads(row[2])), row[1], row[3], row[4], row[5],
                          row[6], {int(k): v for k, v in json.loads(row[7]).items()}, json.loads(row[8]),
                          json.loads(row[9]))
            if number < len(self.trials):
                self.trials[number] = trial
            elif number == len(self.trials):
                self.trials.append(trial)
            else:
                raise RuntimeError(f"the trials table of {self.path} has a gap before trial {number}.")

    def create_trials(self, propose):
        """In one write transaction: read others' trials, propose(trials) -> params list, insert them running."""
        with self._transaction():
            self._sync_locked()
            params_list = propose(self.trials)
            now, seq = time.time(), self._next_seq()
            new = []
            for params in params_list:
                trial = Trial(len(self.trials), params, start_time=now, system_attrs={"worker": self._worker})
                self._db.execute(
                    "INSERT INTO trials (number, state, params, start_time, intermediate_values, attrs, "
                    "system_attrs, seq) VALUES (?, ?, ?, ?, '{}', '{}', ?, ?)",
                    (trial.number, trial.state.value, json.dumps(self.space.params_to_json(params)), now,
                     json.dumps(trial.system_attrs), seq))
                self.trials.append(trial)
                self._own_running.add(trial.number)
                new.append(trial)
            return new

    def finish(self, trial):
        """Write the trial's final state; committed before returning."""
        with self._transaction():
            self._db.execute(
                "UPDATE trials SET state = ?, params = ?, value = ?, error = ?, end_time = ?, intermediate_values = ?, "
                "attrs = ?, system_attrs = ?, seq = ? WHERE number = ?",
                (trial.state.value, json.dumps(self.space.params_to_json(trial.params)), trial.value, trial.error,
                 trial.end_time,
                 json.dumps({str(k): v for k, v in trial.intermediate_values.items()}), json.dumps(trial.attrs),
                 json.dumps(trial.system_attrs), self._next_seq(), trial.number))
            self._own_running.discard(trial.number)

    def close(self):
        with self._lock:
            self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error), holding the storage's thread lock too."""

    def __init__(self, db, lock):
        self.db, self.lock = db, lock

    def __enter__(self):
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
        return False


def make_storage(storage):
    """None -> InMemoryStorage(); a path (str or os.PathLike, "sqlite:///" prefix allowed) -> SQLiteStorage."""
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
        return SQLiteStorage(path)
    raise TypeError(f"`storage` must be None, a file path or a storage object; got {type(storage).__name__}.")
