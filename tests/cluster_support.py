"""The real engines of the tests: a one-node Slurm cluster with accounting and a
PostgreSQL server, started by ``tests/cluster/slurm.sh up`` and
``tests/cluster/postgres.sh up`` (as root; ``.ci/run`` does it), which write state
files (``KEY=VALUE`` lines) into ``$HPREG_TEST_CLUSTER_DIR`` (default
``/run/hpreg-test-cluster``): ``slurm.env`` and ``postgres.env``.

A pytest plugin (``tests/conftest.py`` loads it) with these fixtures:

- ``slurm_cluster``: a :class:`SlurmCluster` (the cluster's facts, and helpers to run
  ``sbatch``/``scontrol``/``sacctmgr``..., wait for jobs to leave the queue, read
  ``sacct``). Tests share the cluster (with each other and with other test sessions on
  the machine): they hold a shared lock while they run.
- ``slurm_cluster_exclusive``: the same, holding the lock alone, for a test that
  disturbs the cluster (stops slurmdbd, sets the node down): only it may call
  :meth:`SlurmCluster.stop_dbd` and :meth:`SlurmCluster.node_down`, and what it
  disturbed is put right after it, whatever happened.
- ``postgres_url``: an SQLAlchemy URL (``postgresql+psycopg2://...``) of a fresh,
  empty database of its own, dropped after the test.

A test using one is marked ``slurm`` or ``postgres`` (added when missing, so that
``-m "not slurm"`` leaves them out). When the engine is not running, the test is
skipped, and the session ends with a short block naming the tests left out and why;
with ``CI`` set in the environment it fails instead: CI never leaves one out.
"""

import contextlib
import fcntl
import os
import subprocess
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "cluster")
STATE_DIR = os.environ.get("HPREG_TEST_CLUSTER_DIR", "/run/hpreg-test-cluster")

SLURM_HOW = "run tests/cluster/slurm.sh up as root"
POSTGRES_HOW = "run tests/cluster/postgres.sh up as root"

# squeue's columns, by name: -o with these codes, separated by SEP
SEP = "\x1f"
SQUEUE_FIELDS = {
    "JobID": "%i",
    "ArrayJobID": "%F",
    "ArrayTaskID": "%K",
    "Name": "%j",
    "State": "%T",
    "Reason": "%r",
    "WorkDir": "%Z",
    "Comment": "%k",
}
SACCT_FIELDS = ("JobID", "JobName", "State", "ExitCode", "Reason", "WorkDir", "Comment")
ENDED = {
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "TIMEOUT",
}


def read_state(name):
    """The ``KEY=VALUE`` lines of ``STATE_DIR/name`` as a dict, or None."""
    path = os.path.join(STATE_DIR, name)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        if line.strip() and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def wait_until(predicate, timeout, what, interval=0.2):
    """Poll ``predicate()`` until it returns something true (returned), or raise
    ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("{} within {:g}s".format(what, timeout))
        time.sleep(interval)


def _run(argv, timeout=60, check=True, env=None):
    done = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(
            done.returncode, done.args, done.stdout, done.stderr
        )
    return done


class SlurmCluster:
    """The running test cluster (see tests/cluster/slurm.sh) and helpers for tests."""

    def __init__(self, state):
        self.state = dict(state)
        self.name = state["CLUSTER_NAME"]
        self.node = state["NODE"]
        self.cpus = int(state["CPUS"])
        self.partition = state["PARTITION"]
        self.account = state["ACCOUNT"]
        self.qos_capped = state["QOS_CAPPED"]
        self.qos_capped_max_submit = int(state["QOS_CAPPED_MAX_SUBMIT"])
        self.max_array_size = int(state["MAX_ARRAY_SIZE"])
        self.log_dir = state["LOG_DIR"]
        self.script = os.path.join(SCRIPTS, "slurm.sh")
        self.exclusive = False
        self._disturbed = set()

    # --- commands --------------------------------------------------------------
    def run(self, *argv, timeout=60, check=True):
        """Run a Slurm command (``cluster.run("scontrol", "show", "config")``): its
        CompletedProcess; raises CalledProcessError when it fails and ``check``."""
        return _run(argv, timeout=timeout, check=check)

    def sbatch(self, *args, script=None, timeout=60):
        """``sbatch --parsable ARGS`` (``--wrap`` when ``script`` is a command
        string): the job id, as text (``"12"``, or ``"12"`` for an array's job)."""
        argv = ["sbatch", "--parsable", *args]
        if script is not None:
            argv += ["--wrap", script]
        return self.run(*argv, timeout=timeout).stdout.strip().split(";")[0]

    def scontrol(self, *args, **kwargs):
        return self.run("scontrol", *args, **kwargs).stdout

    def sacctmgr(self, *args, **kwargs):
        return self.run("sacctmgr", "-i", *args, **kwargs).stdout

    def scancel(self, *job_ids, check=False):
        if job_ids:
            self.run("scancel", *job_ids, check=check)

    def config(self):
        """``scontrol show config`` as a dict (``config()["MaxArraySize"]``)."""
        values = {}
        for line in self.scontrol("show", "config").splitlines():
            if " = " in line:
                key, value = line.split(" = ", 1)
                values[key.strip()] = value.strip()
        return values

    # --- the queue and the accounting -----------------------------------------
    def squeue(self, job_ids=(), name=None, workdir=None):
        """The jobs in the queue (array tasks one per row) as dicts of
        SQUEUE_FIELDS, optionally only those of ``job_ids``, of the job name ``name``,
        or whose working directory is ``workdir`` (a test's own folder)."""
        fmt = SEP.join(SQUEUE_FIELDS.values())
        argv = ["squeue", "-h", "-r", "-o", fmt]
        if job_ids:
            argv += ["-j", ",".join(map(str, job_ids))]
        if name:
            argv += ["--name", name]
        done = self.run(*argv, check=False)
        if done.returncode != 0:
            if job_ids and "Invalid job id" in done.stderr:
                return []  # every job asked for has left the queue
            raise subprocess.CalledProcessError(
                done.returncode, done.args, done.stdout, done.stderr
            )
        rows = [
            dict(zip(SQUEUE_FIELDS, line.split(SEP)))
            for line in done.stdout.splitlines()
            if line.strip()
        ]
        if workdir is not None:
            wanted = os.path.realpath(str(workdir))
            rows = [r for r in rows if os.path.realpath(r["WorkDir"]) == wanted]
        return rows

    def wait_drained(self, timeout=120, **which):
        """Wait until no job of ``which`` (squeue's filters: job_ids, name,
        workdir; all jobs when none) is in the queue; raises TimeoutError listing
        those left."""
        left = []

        def drained():
            left[:] = self.squeue(**which)
            return not left

        try:
            wait_until(drained, timeout, "the queue to drain", interval=0.5)
        except TimeoutError as error:
            rows = ["{JobID} {Name} {State} {Reason}".format(**r) for r in left[:10]]
            raise TimeoutError("{}; left: {}".format(error, "; ".join(rows))) from None

    def sacct(self, job_ids=(), name=None, since="now-1days", steps=False):
        """``sacct`` rows (dicts of SACCT_FIELDS) of ``job_ids`` or of the job
        name ``name``, jobs only (no steps) unless ``steps``."""
        argv = ["sacct", "-P", "-n", "-S", since, "-o", ",".join(SACCT_FIELDS)]
        if not steps:
            argv.append("-X")
        if job_ids:
            argv += ["-j", ",".join(map(str, job_ids))]
        if name:
            argv += ["--name", name]
        lines = self.run(*argv).stdout.splitlines()
        return [dict(zip(SACCT_FIELDS, line.split("|"))) for line in lines if line]

    def wait_sacct(self, job_ids, timeout=60):
        """Wait until sacct knows every job of ``job_ids`` as ended; its rows."""

        def ended():
            rows = self.sacct(job_ids=job_ids)
            states = {r["JobID"]: r["State"].split()[0] for r in rows}
            if rows and all(s in ENDED for s in states.values()):
                return rows
            return None

        return wait_until(ended, timeout, "sacct to show jobs {} ended".format(job_ids))

    def node_state(self):
        """The node's state in sinfo (``idle``, ``mixed``, ``down*``...)."""
        out = self.run("sinfo", "-h", "-N", "-n", self.node, "-o", "%T").stdout
        return out.split()[0] if out.split() else ""

    # --- disturbing the cluster (slurm_cluster_exclusive only) ---------------
    def _need_exclusive(self, what):
        if not self.exclusive:
            raise RuntimeError(
                "{} disturbs every test on the cluster: use the "
                "slurm_cluster_exclusive fixture".format(what)
            )

    def stop_dbd(self):
        """Stop slurmdbd (``slurm.sh stop-dbd``): sacct fails until start_dbd()."""
        self._need_exclusive("stop_dbd")
        self._disturbed.add("dbd")
        _run([self.script, "stop-dbd"], timeout=60)

    def start_dbd(self):
        """Start slurmdbd again and wait until sacct answers."""
        _run([self.script, "start-dbd"], timeout=120)
        self._disturbed.discard("dbd")

    @contextlib.contextmanager
    def dbd_down(self):
        """``with cluster.dbd_down(): ...``: slurmdbd stopped inside the block."""
        self.stop_dbd()
        try:
            yield
        finally:
            self.start_dbd()

    def node_down(self, reason="hpreg test"):
        """Set the node down (its running jobs are killed, and requeued or failed
        as Slurm decides); node_up() brings it back."""
        self._need_exclusive("node_down")
        self._disturbed.add("node")
        self.scontrol(
            "update", "nodename=" + self.node, "state=down", "reason=" + reason
        )

    def node_up(self, timeout=60):
        """Resume the node and wait until it takes jobs again."""
        self.scontrol("update", "nodename=" + self.node, "state=resume", check=False)
        wait_until(
            lambda: self.node_state() in ("idle", "mixed", "allocated"),
            timeout,
            "node {} to come back".format(self.node),
        )
        self._disturbed.discard("node")

    def restore(self):
        """Put right what this test disturbed (called after each test)."""
        if "dbd" in self._disturbed:
            self.start_dbd()
        if "node" in self._disturbed:
            self.node_up()

    def logs(self, lines=30):
        """The last lines of the daemons' logs, for a failure message."""
        parts = []
        for name in ("slurmctld", "slurmd", "slurmdbd"):
            path = os.path.join(self.log_dir, name + ".log")
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    tail = f.read().splitlines()[-lines:]
            except OSError:
                continue
            parts.append("--- {} ---\n{}".format(path, "\n".join(tail)))
        return "\n".join(parts)


# --- availability, and the tests left out ---------------------------------------
_LEFT_OUT = {}  # reason -> [test ids]
_CHECKED = {}  # engine -> (object, reason)


def _slurm_check():
    state = read_state("slurm.env")
    if state is None:
        return None, "slurm cluster not running: " + SLURM_HOW
    try:
        done = _run(["scontrol", "ping"], timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, "slurm cluster not answering ({}): {}".format(error, SLURM_HOW)
    if "is UP" not in done.stdout:
        return None, "slurm cluster not answering (scontrol ping: {}): {}".format(
            (done.stdout + done.stderr).strip() or done.returncode, SLURM_HOW
        )
    try:
        return SlurmCluster(state), None
    except (KeyError, ValueError) as error:
        return None, "slurm state file incomplete ({!r}): {}".format(error, SLURM_HOW)


def _postgres_check():
    state = read_state("postgres.env")
    if state is None or "POSTGRES_URL" not in state:
        return None, "postgres not running: " + POSTGRES_HOW
    try:
        import psycopg2
    except ImportError:
        return None, "psycopg2 not installed: pip install -e '.[dev]'"
    try:
        psycopg2.connect(_dsn(state, state["POSTGRES_DB"]), connect_timeout=5).close()
    except psycopg2.Error as error:
        return None, "postgres not answering ({}): {}".format(
            str(error).strip().splitlines()[0], POSTGRES_HOW
        )
    return state, None


CHECKS = {"slurm": _slurm_check, "postgres": _postgres_check}


def engine(name, nodeid):
    """The running engine ``name`` (checked once a session), or the test is left
    out: skipped and named at the end, or failed when ``CI`` is set."""
    if name not in _CHECKED:
        _CHECKED[name] = CHECKS[name]()
    found, reason = _CHECKED[name]
    if found is not None:
        return found
    if os.environ.get("CI"):
        pytest.fail("{} (CI runs every test: .ci/run starts it)".format(reason))
    left_out = _LEFT_OUT.setdefault(reason, [])
    if nodeid not in left_out:
        left_out.append(nodeid)
    pytest.skip(reason)


def _dsn(state, dbname):
    return "host={} port={} user={} password={} dbname={}".format(
        state["POSTGRES_HOST"],
        state["POSTGRES_PORT"],
        state["POSTGRES_USER"],
        state["POSTGRES_PASSWORD"],
        dbname,
    )


@contextlib.contextmanager
def _cluster_lock(exclusive):
    """Tests share the cluster; a test that disturbs it holds it alone."""
    path = os.path.join(STATE_DIR, "slurm.lock")
    if not os.access(STATE_DIR, os.W_OK):
        path = os.path.join(tempfile.gettempdir(), "hpreg-test-slurm.lock")
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(name="slurm_cluster")
def fixture_slurm_cluster(request):
    """The real one-node Slurm cluster (tests/cluster/slurm.sh), shared."""
    cluster = engine("slurm", request.node.nodeid)
    with _cluster_lock(exclusive=False):
        yield SlurmCluster(cluster.state)


@pytest.fixture(name="slurm_cluster_exclusive")
def fixture_slurm_cluster_exclusive(request):
    """The real Slurm cluster, held alone: the test may stop slurmdbd or set the
    node down; both are put right after it."""
    cluster = engine("slurm", request.node.nodeid)
    with _cluster_lock(exclusive=True):
        mine = SlurmCluster(cluster.state)
        mine.exclusive = True
        try:
            yield mine
        finally:
            mine.restore()


@pytest.fixture(name="postgres_url")
def fixture_postgres_url(request):
    """An SQLAlchemy URL of a fresh database of this test's own on the real
    PostgreSQL server (tests/cluster/postgres.sh), dropped after the test."""
    state = engine("postgres", request.node.nodeid)
    import psycopg2

    dbname = "hpreg_test_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(_dsn(state, state["POSTGRES_DB"]), connect_timeout=10)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("CREATE DATABASE " + dbname)
        yield "postgresql+psycopg2://{}:{}@{}:{}/{}".format(
            state["POSTGRES_USER"],
            state["POSTGRES_PASSWORD"],
            state["POSTGRES_HOST"],
            state["POSTGRES_PORT"],
            dbname,
        )
        with admin.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS {} WITH (FORCE)".format(dbname))
    finally:
        admin.close()


# --- hooks ------------------------------------------------------------------
FIXTURE_MARKS = {
    "slurm_cluster": "slurm",
    "slurm_cluster_exclusive": "slurm",
    "postgres_url": "postgres",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test using an engine's fixture carries its marker."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, mark in FIXTURE_MARKS.items():
            if fixture in names and item.get_closest_marker(mark) is None:
                item.add_marker(getattr(pytest.mark, mark))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test marked with an engine runs only when the engine runs."""
    for mark in CHECKS:
        if item.get_closest_marker(mark) is not None:
            engine(mark, item.nodeid)


def pytest_terminal_summary(terminalreporter):
    """Name the tests left out, and why."""
    if not _LEFT_OUT:
        return
    total = sum(len(ids) for ids in _LEFT_OUT.values())
    terminalreporter.section(
        "{} test(s) left out: real engines not running".format(total)
    )
    for reason, ids in _LEFT_OUT.items():
        terminalreporter.write_line("{} ({}):".format(reason, len(ids)))
        for nodeid in ids:
            terminalreporter.write_line("    " + nodeid)
