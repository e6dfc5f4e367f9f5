"""The run store: one SQLite file (``hpreg.db``) of jobs and the runners working on
them. It knows jobs (an id, a point, a command) and states, not sweeps."""

import json
import os
import sqlite3
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from hpreg.errors import RunStoreError
from hpreg.runner.states import (
    BUSY_TIMEOUT,
    HEARTBEAT_BUSY_TIMEOUT,
    CLAIMABLE,
    RUNNING,
    STATES,
    Outcome,
    allowed,
)

# 'hprg' in the SQLite header: a database another program wrote is refused unread
APPLICATION_ID = 0x68707267
# 2: jobs.handle (the id of a job in Slurm or dask); 3: jobs.history (how each
# attempt ended), runners.identity (the process: boot id and start time)
SCHEMA_VERSION = 3
_MAGIC = b"SQLite format 3\x00"
DB_NAME = "hpreg.db"
REPAIR_FIX = (
    "'hpreg repair {}' rebuilds it from the run directories (nothing finished "
    "runs again; the damaged file is kept)"
)


def run_directories(directory: str) -> List[str]:
    """The names of the run directories in a store's folder (those holding a
    ``config.yaml``), sorted."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    return sorted(
        entry.name
        for entry in entries
        if entry.is_dir() and os.path.exists(os.path.join(entry.path, "config.yaml"))
    )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    point TEXT NOT NULL,
    command TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    runner TEXT,
    claimed REAL,
    heartbeat REAL,
    start REAL,
    end REAL,
    exit_code INTEGER,
    error TEXT,
    metrics TEXT,
    handle TEXT,
    history TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
CREATE TABLE IF NOT EXISTS runners (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL,
    identity TEXT
);
"""

_JOB_COLUMNS = (
    "id, seq, point, command, state, attempts, tries, runner, claimed, heartbeat, "
    "start, end, exit_code, error, metrics, handle, history"
)


class Job(dict):
    """One row of ``jobs``: ``point`` and ``metrics`` as dicts, ``command`` as a list."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _job(row: Sequence[Any]) -> Job:
    names = [n.strip() for n in _JOB_COLUMNS.split(",")]
    job = Job(zip(names, row))
    job["point"] = json.loads(job["point"])
    job["command"] = json.loads(job["command"])
    job["metrics"] = json.loads(job["metrics"]) if job["metrics"] else {}
    job["history"] = json.loads(job["history"]) if job["history"] else []
    return job


class RunStore:
    """The jobs of one run directory in ``<dir>/hpreg.db`` (SQLite, WAL mode).

    Contract:

    - Every state change is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``),
      so a crash at any moment (kill -9, power loss) leaves the store as it was
      before or after that change, never between.
    - Process safety: any number of processes on one machine may open the same
      store; ``claim`` hands each queued job to exactly one of them. SQLite's
      locks do not hold on network filesystems (NFS, SMB): do not share a store
      between machines.
    - Thread safety: none. Use one ``RunStore`` per thread.
    - What survives a crash: every committed row. A job recorded ``running`` by a
      runner that died stays so until another runner finds that runner stale
      (``stale_jobs``) and adopts the job (``adopt``); finishing is guarded by the
      runner's id, so a job is never finished twice.
    - Opening a file that is not an hpreg store (another program's database,
      garbage) raises ``RunStoreError`` and leaves the file byte for byte as it was.
    """

    def __init__(
        self,
        directory: str,
        create: bool = True,
        rebuilding: bool = False,
        readonly: bool = False,
    ):
        self.directory = str(directory)
        self.path = os.path.join(self.directory, DB_NAME)
        if not create and not os.path.exists(self.path):
            raise RunStoreError(
                where=self.directory,
                problem="no run store here (no hpreg.db)",
                fix="give the folder 'hpreg run' wrote (--store DIR, default "
                "runs/<sweep file stem>)",
                path=self.path,
            )
        fresh = self._check_header()
        if fresh and not rebuilding:
            self._refuse_orphans()
            if not create:  # asked to read: an empty file is not made a store
                raise RunStoreError(
                    where=self.directory,
                    problem="no run store here (hpreg.db is empty)",
                    fix="give the folder 'hpreg run' wrote",
                    path=self.path,
                )
        if create:
            os.makedirs(self.directory, exist_ok=True)
        self.readonly = readonly
        self._columns = _JOB_COLUMNS
        if readonly:  # status, results: nothing is written into the file read
            self._db = sqlite3.connect(
                "file:{}?mode=ro".format(
                    urllib.parse.quote(os.path.abspath(self.path))
                ),
                uri=True,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,
            )
        else:
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None
            )
        try:
            self._open(fresh)
        except BaseException:
            self._db.close()
            raise

    # -- opening ---------------------------------------------------------------------
    def _refuse(self, problem: str) -> RunStoreError:
        return RunStoreError(
            where=self.path,
            problem=problem,
            fix="give another --store folder, or move this file away (hpreg left "
            "it as it was)",
            path=self.path,
        )

    def _refuse_orphans(self) -> None:
        """A missing or empty database beside run directories is damage, not a
        new store: starting over would run every finished job again."""
        found = run_directories(self.directory)
        if not found:
            return
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        state = "missing" if not os.path.exists(self.path) else "empty"
        raise RunStoreError(
            where=self.path,
            problem="the store's database is {} but {} run director{} are here "
            "({})".format(state, len(found), "y" if len(found) == 1 else "ies", shown),
            fix=REPAIR_FIX.format(self.directory),
            path=self.path,
        )

    def _damaged(self, detail: str) -> RunStoreError:
        return RunStoreError(
            where=self.path,
            problem="the store's database is damaged ({})".format(detail),
            fix=REPAIR_FIX.format(self.directory),
            path=self.path,
        )

    def _check_header(self) -> bool:
        """True when there is no store yet; refuses a file that is not one, reading
        its header only (opening it with SQLite could write to it)."""
        for _ in range(50):
            try:
                with open(self.path, "rb") as f:
                    header = f.read(100)
            except FileNotFoundError:
                return True
            if len(header) == 0:
                return True  # created by a runner starting at the same moment
            if len(header) == 100:
                break
            time.sleep(0.02)  # being written by another runner
        if header[:16] != _MAGIC:
            raise self._refuse("not an SQLite database (corrupted, or another file)")
        application = int.from_bytes(header[68:72], "big")
        if application not in (0, APPLICATION_ID):
            raise self._refuse("an SQLite database of another program, not hpreg's")
        return False

    def _open(self, fresh: bool) -> None:
        db = self._db
        try:
            # read before anything writes: a foreign or broken file stays untouched
            tables = {
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                )
            }
            application = db.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise self._refuse("cannot be read: {}".format(error)) from None
        if application == 0 and tables:
            raise self._refuse(
                "an SQLite database of another program (tables: {}), not "
                "hpreg's".format(", ".join(sorted(tables)))
            )
        if application == APPLICATION_ID:
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as error:
                raise self._refuse("cannot be read: {}".format(error)) from None
            if version > SCHEMA_VERSION:
                raise self._refuse(
                    "written by a newer hpreg (store version {})".format(version)
                )
            try:
                check = db.execute("PRAGMA quick_check").fetchall()
            except sqlite3.DatabaseError as error:
                raise self._damaged(str(error)) from None
            if check != [("ok",)]:
                raise self._damaged(
                    "; ".join(str(row[0]) for row in check[:3]) or "quick_check failed"
                )
            if version < SCHEMA_VERSION:
                if self.readonly:
                    self._columns = self._present_columns()
                    return
                self._upgrade()
        else:  # a new store (or one being created by another runner right now)
            # WAL and NORMAL before the first write: creating the store costs no
            # rollback journal and no sync per statement
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA journal_mode = WAL")
            with self._transaction():
                db.execute("PRAGMA application_id = {}".format(APPLICATION_ID))
                db.execute("PRAGMA user_version = {}".format(SCHEMA_VERSION))
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
        if self.readonly:
            return
        db.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a commit survives a process crash; power loss may lose the
        # last commits, never corrupt the file
        db.execute("PRAGMA synchronous = NORMAL")

    def _present_columns(self) -> str:
        """The job columns to select from an older store read as it is (a column
        it lacks reads as NULL)."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        names = [n.strip() for n in _JOB_COLUMNS.split(",")]
        return ", ".join(n if n in present else "NULL AS " + n for n in names)

    def _upgrade(self) -> None:
        """Bring a store of an older hpreg up to ``SCHEMA_VERSION`` (in place)."""
        with self._transaction():
            for table, column in (
                ("jobs", "handle"),  # version 2
                ("jobs", "history"),  # version 3
                ("runners", "identity"),  # version 3
            ):
                present = {
                    row[1]
                    for row in self._db.execute("PRAGMA table_info({})".format(table))
                }
                if column not in present:
                    self._db.execute(
                        "ALTER TABLE {} ADD COLUMN {} TEXT".format(table, column)
                    )
            self._db.execute("PRAGMA user_version = {}".format(SCHEMA_VERSION))

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _transaction(self):
        return _Transaction(self._db)

    # -- jobs ------------------------------------------------------------------------
    def add_jobs(self, jobs: Iterable[Tuple[str, Dict[str, Any], List[str]]]) -> int:
        """Add ``(id, point, command)`` jobs as queued; ids already there are kept as
        they are (a job done stays done). Returns how many were new."""
        with self._transaction():
            seq = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM jobs").fetchone()
            seq = seq[0]
            added = 0
            for job_id, point, command in jobs:
                seq += 1
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO jobs (id, seq, point, command) "
                    "VALUES (?, ?, ?, ?)",
                    (job_id, seq, json.dumps(point), json.dumps(command)),
                )
                added += cursor.rowcount
        return added

    def restore(self, jobs: Iterable[Dict[str, Any]]) -> int:
        """Write whole job rows (``hpreg repair``): id, point, command, state,
        attempts, tries, claimed, start, end, exit_code, error, metrics."""
        with self._transaction():
            seq = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM jobs").fetchone()
            seq = seq[0]
            written = 0
            for job in jobs:
                seq += 1
                self._db.execute(
                    "INSERT OR REPLACE INTO jobs (id, seq, point, command, state, "
                    "attempts, tries, claimed, start, end, exit_code, error, metrics) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        job["id"],
                        seq,
                        json.dumps(job.get("point") or {}),
                        json.dumps(job.get("command") or []),
                        job["state"],
                        job.get("attempts", 0),
                        job.get("tries", 0),
                        job.get("claimed"),
                        job.get("start"),
                        job.get("end"),
                        job.get("exit_code"),
                        job.get("error"),
                        json.dumps(job["metrics"]) if job.get("metrics") else None,
                    ),
                )
                written += 1
        return written

    def choose(self, ids: Optional[Sequence[str]]) -> None:
        """Limit ``claim``, ``counts``, ``jobs`` and ``requeue_failed`` to the jobs
        ``ids`` (this connection only; None lifts the limit)."""
        self._db.execute("DROP TABLE IF EXISTS temp.chosen")
        self._chosen = ids is not None
        if ids is not None:
            self._db.execute("CREATE TEMP TABLE chosen (id TEXT PRIMARY KEY)")
            self._db.executemany(
                "INSERT OR IGNORE INTO temp.chosen VALUES (?)", ((i,) for i in ids)
            )

    _chosen = False

    def _only(self, glue: str = "AND") -> str:
        return (
            " {} id IN (SELECT id FROM temp.chosen)".format(glue)
            if self._chosen
            else ""
        )

    def claim(self, runner: str) -> Optional[Job]:
        """Atomically take the first claimable job (queued, interrupted, lost) for
        ``runner``, marking it running (an attempt); None when there is none."""
        now = time.time()
        with self._transaction():
            # the oldest of each claimable state, each one index lookup (one
            # query with IN ... ORDER BY seq would sort every claimable row)
            rows = [
                self._db.execute(
                    "SELECT seq, id, state FROM jobs WHERE state=?"
                    + self._only()
                    + " ORDER BY seq LIMIT 1",
                    (state,),
                ).fetchone()
                for state in CLAIMABLE
            ]
            rows = [row for row in rows if row is not None]
            if not rows:
                return None
            _, job_id, claimed_from = min(rows)
            self._db.execute(
                "UPDATE jobs SET state='running', runner=?, claimed=?, heartbeat=?, "
                "start=NULL, end=NULL, exit_code=NULL, error=NULL, handle=NULL, "
                "attempts=attempts+1, tries=tries+1 WHERE id=?",
                (runner, now, now, job_id),
            )
            job = self._get(job_id)
            job["claimed_from"] = claimed_from  # for counts kept by the caller
            return job

    def set_handle(self, job_id: str, runner: str, handle: str) -> bool:
        """Record where ``runner``'s running job went (``"slurm:1234_5"``, a dask
        key): a coordinator that replaces a dead one re-attaches to it by this."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET handle=? WHERE id=? AND runner=? AND state='running'",
                (handle, job_id, runner),
            )
            return cursor.rowcount == 1

    def release(self, job_id: str, runner: str) -> bool:
        """Give ``runner``'s claimed job back to the queue uncounted (the engine
        would not take it now); False when the job is not ``runner``'s any more."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET state='queued', runner=NULL, heartbeat=NULL, "
                "claimed=NULL, attempts=MAX(attempts-1, 0), tries=MAX(tries-1, 0) "
                "WHERE id=? AND runner=? AND state='running'",
                (job_id, runner),
            )
            return cursor.rowcount == 1

    def started(self, job_id: str, runner: str, start: float) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE jobs SET start=? WHERE id=? AND runner=? AND state='running'",
                (start, job_id, runner),
            )

    def owns(self, job_id: str, runner: str) -> bool:
        """Whether ``job_id`` is still ``runner``'s running job (checked before a
        launch: a runner that lost a job never launches it)."""
        row = self._db.execute(
            "SELECT 1 FROM jobs WHERE id=? AND runner=? AND state='running'",
            (job_id, runner),
        ).fetchone()
        return row is not None

    def finish(
        self,
        job_id: str,
        runner: str,
        state: str,
        exit_code: Optional[int] = None,
        end: Optional[float] = None,
        error: Optional[str] = None,
        metrics: Optional[Dict[str, Any]] = None,
        start: Optional[float] = None,
        outcome: Optional[Outcome] = None,
        attempt: Optional[int] = None,
    ) -> bool:
        """Record the end of ``runner``'s running job in ``state`` (and, with
        ``outcome``, how this attempt ended in the job's history); False (nothing
        written) when the job is not ``runner``'s running job any more."""
        if not allowed(RUNNING, state):
            raise ValueError("cannot finish a job as {!r}".format(state))
        end = end if end is not None else time.time()
        entry = None
        if outcome is not None:
            entry = json.dumps(
                {
                    "attempt": attempt,
                    "state": outcome.state,
                    "reason": outcome.reason,
                    "end": end,
                }
            )
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET state=?, exit_code=?, end=?, error=?, metrics=?, "
                "start=COALESCE(?, start), runner=NULL, heartbeat=NULL, "
                "history=CASE WHEN ? IS NULL THEN history "
                "ELSE json_insert(COALESCE(history, '[]'), '$[#]', json(?)) END "
                "WHERE id=? AND runner=? AND state='running'",
                (
                    state,
                    exit_code,
                    end,
                    error,
                    json.dumps(metrics) if metrics else None,
                    start,
                    entry,
                    entry,
                    job_id,
                    runner,
                ),
            )
            return cursor.rowcount == 1

    def requeue_failed(self) -> int:
        """Queue failed jobs again (``--retry-failed``); returns how many."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET state='queued', tries=0 WHERE state='failed'"
                + self._only()
            )
            return cursor.rowcount

    def _get(self, job_id: str) -> Optional[Job]:
        row = self._db.execute(
            "SELECT {} FROM jobs WHERE id=?".format(self._columns), (job_id,)
        ).fetchone()
        return _job(row) if row else None

    def get(self, job_id: str) -> Optional[Job]:
        return self._get(job_id)

    def jobs(self, state: Optional[str] = None) -> List[Job]:
        """Every job in the order they were added (or those in ``state``)."""
        query = "SELECT {} FROM jobs WHERE 1".format(self._columns) + self._only()
        args: Tuple = ()
        if state is not None:
            query += " AND state=?"
            args = (state,)
        return [_job(row) for row in self._db.execute(query + " ORDER BY seq", args)]

    def counts(self) -> Dict[str, int]:
        """The number of jobs in each state (every state listed, 0 included)."""
        counts = dict.fromkeys(STATES, 0)
        for state, n in self._db.execute(
            "SELECT state, COUNT(*) FROM jobs" + self._only("WHERE") + " GROUP BY state"
        ):
            counts[state] = n
        return counts

    # -- runners ---------------------------------------------------------------------
    def register(
        self, runner: str, host: str, pid: int, identity: Optional[str] = None
    ) -> None:
        """Record a runner: its host, pid and process ``identity`` (boot id and
        start time: a recycled pid is not taken for it)."""
        now = time.time()
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO runners "
                "(id, host, pid, started, heartbeat, identity) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (runner, host, pid, now, now, identity),
            )

    def unregister(self, runner: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM runners WHERE id=?", (runner,))

    def heartbeat(self, runner: str) -> None:
        """Refresh ``runner``'s heartbeat and that of its running jobs."""
        now = time.time()
        with self._transaction():
            self._db.execute("UPDATE runners SET heartbeat=? WHERE id=?", (now, runner))
            self._db.execute(
                "UPDATE jobs SET heartbeat=? WHERE runner=? AND state='running'",
                (now, runner),
            )

    def beater(self) -> "Beater":
        """A second connection that only writes heartbeats (for another thread)."""
        return Beater(self.path)

    def runners(self) -> List[Dict[str, Any]]:
        identity = "identity" if self._columns == _JOB_COLUMNS else "NULL"
        return [
            dict(zip(("id", "host", "pid", "started", "heartbeat", "identity"), row))
            for row in self._db.execute(
                "SELECT id, host, pid, started, heartbeat, {} FROM runners".format(
                    identity
                )
            )
        ]

    def stale_jobs(self, dead: Callable[[Dict[str, Any]], bool]) -> List[Job]:
        """Running jobs whose runner is gone: unregistered, or ``dead(runner)``."""
        live = {r["id"] for r in self.runners() if not dead(r)}
        rows = self._db.execute(
            "SELECT {} FROM jobs WHERE state='running' ORDER BY seq".format(
                self._columns
            )
        )
        return [job for job in map(_job, rows) if job.runner not in live]

    def adopt(self, job_id: str, old_runner: Optional[str], runner: str) -> bool:
        """Take over a stale running job (only if ``old_runner`` still holds it)."""
        now = time.time()
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE jobs SET runner=?, heartbeat=? WHERE id=? AND state='running' "
                "AND runner IS ?",
                (runner, now, job_id, old_runner),
            )
            if old_runner is not None:
                self._db.execute("DELETE FROM runners WHERE id=?", (old_runner,))
            return cursor.rowcount == 1


class Beater:
    """Writes a runner's heartbeats through its own connection, from any one
    thread, waiting at most ``HEARTBEAT_BUSY_TIMEOUT`` for a busy store."""

    def __init__(self, path: str):
        self._db = sqlite3.connect(
            path,
            timeout=HEARTBEAT_BUSY_TIMEOUT,
            isolation_level=None,
            check_same_thread=False,
        )

    def beat(self, runner: str) -> bool:
        """Refresh ``runner``'s heartbeat and its running jobs'; False when the
        store stayed busy (the next beat tries again)."""
        now = time.time()
        try:
            with _Transaction(self._db):
                self._db.execute(
                    "UPDATE runners SET heartbeat=? WHERE id=?", (now, runner)
                )
                self._db.execute(
                    "UPDATE jobs SET heartbeat=? WHERE runner=? AND state='running'",
                    (now, runner),
                )
            return True
        except sqlite3.OperationalError:
            return False

    def close(self) -> None:
        self._db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception): the write
    lock is taken up front, so two runners never both read a job as queued."""

    def __init__(self, db):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
