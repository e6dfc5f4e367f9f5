"""A stand-in Slurm for the executor tests: one script on PATH, named ``sbatch``,
``sacct``, ``squeue``, ``scancel``, ``scontrol`` and ``srun``, that runs the jobs
here, in the background, and keeps their state (one file per task, one JSON file
per array) in a folder.

It schedules like Slurm where hpreg depends on it: an array's ``%N`` throttle,
``--dependency=afterany:...``, ``--time`` (``FAKE_SLURM_MINUTE`` seconds to the
minute) and the warning ``--signal``, ``MaxArraySize``. And it misbehaves on demand,
from ``FAKE_SLURM_<MODE>`` in its environment or a file ``mode.<mode>`` in its
folder (``set_mode``, to change it while a run goes on):

- ``sacct``: ``fail`` (the database cannot be reached), ``lag:SECONDS`` (knows no
  array younger than that), ``forget`` (knows nothing, as with slurmdbd down);
- ``squeue``: ``fail``;
- ``max_submit``: N: sbatch refuses (QOSMaxSubmitJobPerUserLimit) when more than N
  tasks would be pending or running;
- ``max_array_size``: N (default 1001);
- ``unknown``: option names sbatch does not know (default ``bogus``);
- ``minute``: the seconds a minute of ``--time`` lasts (default 60).
"""

import json
import os
import sys
import textwrap

FAKE = textwrap.dedent(
    '''\
    #!{python}
    import fcntl, json, os, re, signal, subprocess, sys, time

    STATE = os.environ["FAKE_SLURM_DIR"]
    ACTIVE = ("PENDING", "RUNNING")
    TASK = re.compile(r"^(\\d+)_(\\d+)$")


    def mode(name, default=""):
        path = os.path.join(STATE, "mode." + name)
        if os.path.exists(path):
            return open(path).read().strip()
        return os.environ.get("FAKE_SLURM_" + name.upper(), default)


    def log(name, line):
        with open(os.path.join(STATE, name + ".log"), "a") as f:
            f.write(line + "\\n")


    def fail(message):
        sys.stderr.write(message + "\\n")
        sys.exit(1)


    def read(name):
        try:
            with open(os.path.join(STATE, name)) as f:
                return f.read().strip()
        except OSError:
            return ""


    def write(name, text):
        tmp = os.path.join(STATE, "." + name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(STATE, name))


    def arrays():
        """{{array id: its record}}, oldest first."""
        found = {{}}
        for name in os.listdir(STATE):
            if name.endswith(".job"):
                with open(os.path.join(STATE, name)) as f:
                    found[name[:-4]] = json.load(f)
        return dict(sorted(found.items(), key=lambda item: int(item[0])))


    def tasks_of(array, record):
        return ["{{}}_{{}}".format(array, i) for i in range(record["size"])]


    def option_list(text):
        return re.findall(r"^#SBATCH --([\\w-]+)(?:=(.*))?$", text, re.M)


    # -- sbatch -------------------------------------------------------------------
    def sbatch(argv):
        script = argv[-1]
        text = open(script).read()
        log("sbatch", script)
        options = dict(option_list(text))
        unknown = mode("unknown", "bogus").split(",")
        for key, value in option_list(text):
            if key in unknown:
                fail("sbatch: unrecognized option '--{{}}={{}}'\\n"
                     'Try "sbatch --help" for more information'.format(key, value))
        size, throttle = 1, 0
        if "array" in options:
            spec = re.fullmatch(r"0-(\\d+)(?:%(\\d+))?", options["array"])
            if not spec or int(spec.group(1)) >= int(mode("max_array_size", "1001")):
                fail("sbatch: error: Batch job submission failed: "
                     "Invalid job array specification")
            size, throttle = int(spec.group(1)) + 1, int(spec.group(2) or 0)
        with open(os.path.join(STATE, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cap = mode("max_submit")
            if cap:
                out = sum(
                    read(t) in ACTIVE
                    for a, r in arrays().items() for t in tasks_of(a, r)
                )
                if out + size > int(cap):
                    fail("sbatch: error: QOSMaxSubmitJobPerUserLimit\\n"
                         "sbatch: error: Batch job submission failed: Job violates "
                         "accounting/QOS policy (job submit limit, user's size "
                         "and/or time limits)")
            base = int(read("next") or 1000)
            write("next", str(base + 1))
            record = {{
                "name": options.get("job-name", "sbatch"),
                "comment": options.get("comment", ""),
                "submit": time.time(),
                "size": size,
                "throttle": throttle,
                "after": re.findall(r"\\d+", options.get("dependency", "")),
                "time": options.get("time"),
                "signal": options.get("signal"),
                "output": options.get("output"),
                "error": options.get("error"),
                "script": script,
            }}
            for i in range(size):
                write("{{}}_{{}}".format(base, i), "PENDING")
            write("{{}}.job".format(base), json.dumps(record))
        if os.fork() == 0:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            try:
                launch(str(base), record)
            finally:
                os._exit(0)
        print("Submitted batch job {{}}".format(base))


    def minutes(text):
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            return parts[0] + parts[1] / 60.0
        return parts[0] * 60 + parts[1] + parts[2] / 60.0


    def kill(proc, signum):
        try:
            os.killpg(proc.pid, signum)
        except OSError:
            pass


    def launch(base, record):
        """The scheduler of one array: waits for its dependencies, then runs its
        tasks (at most ``throttle`` at once) to their ends or time limit."""
        while any(
            read(t) in ACTIVE
            for a, r in arrays().items() if a in record["after"]
            for t in tasks_of(a, r)
        ):
            time.sleep(0.05)
        scale = float(mode("minute", "60"))
        limit = minutes(record["time"]) * scale if record["time"] else None
        warning = None
        if record["signal"]:
            name, _, before = record["signal"].split(":")[-1].partition("@")
            warning = (getattr(signal, "SIG" + name), float(before) * scale / 60.0)
        queue = list(range(record["size"]))
        running = {{}}
        while queue or running:
            for tid, job in list(running.items()):
                proc, start, flags = job
                now = time.time()
                state = read(tid)
                if proc.poll() is not None:
                    if state == "RUNNING":
                        if "timeout" in flags:
                            state = "TIMEOUT"
                        else:
                            state = "COMPLETED" if proc.returncode == 0 else "FAILED"
                        write(tid, state)
                    del running[tid]
                    continue
                if state.startswith("CANCELLED") and "stop" not in flags:
                    flags["stop"] = now
                    kill(proc, signal.SIGTERM)
                if limit is not None and now - start > limit and "stop" not in flags:
                    flags["stop"] = flags["timeout"] = now
                    kill(proc, signal.SIGTERM)
                if (warning and limit is not None and "warned" not in flags
                        and now - start > limit - warning[1]):
                    flags["warned"] = now
                    kill(proc, warning[0])
                if "stop" in flags and now - flags["stop"] > 5:
                    kill(proc, signal.SIGKILL)
            while queue and (not record["throttle"] or len(running) < record["throttle"]):
                i = queue.pop(0)
                tid = "{{}}_{{}}".format(base, i)
                if read(tid) != "PENDING":
                    continue  # cancelled while pending
                if os.path.exists(os.path.join(STATE, "preempt")):
                    os.remove(os.path.join(STATE, "preempt"))
                    write(tid, "PREEMPTED")
                    continue
                write(tid, "RUNNING")
                env = dict(os.environ, SLURM_JOB_ID=str(int(base) * 1000 + i),
                           SLURM_ARRAY_JOB_ID=base, SLURM_ARRAY_TASK_ID=str(i),
                           SLURM_JOB_NAME=record["name"])
                out = {{}}
                for key in ("output", "error"):
                    path = record[key]
                    if path:
                        path = path.replace("%A", base).replace("%a", str(i))
                        out[key] = open(path.replace("%j", env["SLURM_JOB_ID"]), "ab")
                proc = subprocess.Popen(
                    ["bash", record["script"]], env=env, start_new_session=True,
                    stdin=subprocess.DEVNULL,
                    stdout=out.get("output", subprocess.DEVNULL),
                    stderr=out.get("error", subprocess.DEVNULL))
                for f in out.values():
                    f.close()
                running[tid] = (proc, time.time(), {{}})
            time.sleep(0.05)


    # -- the queries --------------------------------------------------------------
    def values(argv, short, long):
        found = []
        for i, a in enumerate(argv):
            if a in (short, long) and i + 1 < len(argv):
                found += argv[i + 1].split(",")
            elif a.startswith(long + "="):
                found += a.split("=", 1)[1].split(",")
        return found


    def rows(argv, fields, lines):
        sep = "|" if "-P" in argv or "--parsable2" in argv else " "
        if "-n" not in argv and "-h" not in argv and "--noheader" not in argv:
            print(sep.join(fields))
        for line in lines:
            print(sep.join(line[f] for f in fields))


    def sacct(argv):
        log("sacct", " ".join(argv))
        how = mode("sacct")
        if how == "fail":
            fail("sacct: error: Problem talking to the database: Connection refused")
        if how == "forget":
            return
        lag = float(how.split(":")[1]) if how.startswith("lag:") else 0.0
        wanted, names = values(argv, "-j", "--jobs"), values(argv, "--name", "--name")
        fields = (values(argv, "-o", "--format") or ["JobID", "State"])
        lines = []
        for array, record in arrays().items():
            if array not in wanted and record["name"] not in names:
                continue
            if time.time() - record["submit"] < lag:
                continue
            pending = []
            for i, tid in enumerate(tasks_of(array, record)):
                state = read(tid)
                if state == "PENDING":
                    pending.append(str(i))  # sacct folds an array's pending tasks
                    continue
                lines.append({{"JobID": tid, "State": state,
                               "JobName": record["name"]}})
            if pending:
                spec = "{{}}-{{}}".format(pending[0], pending[-1])
                if len(pending) == 1:
                    spec = pending[0]
                elif len(pending) != int(pending[-1]) - int(pending[0]) + 1:
                    spec = ",".join(pending)
                if record["throttle"]:
                    spec += "%{{}}".format(record["throttle"])
                lines.append({{"JobID": "{{}}_[{{}}]".format(array, spec),
                               "State": "PENDING", "JobName": record["name"]}})
        rows(argv, fields, lines)


    def squeue(argv):
        log("squeue", " ".join(argv))
        if mode("squeue") == "fail":
            fail("squeue: error: slurm_load_jobs error: Unable to contact slurm "
                 "controller (connect failure)")
        names = values(argv, "-n", "--name")
        form = (values(argv, "-o", "--format") or ["%i|%T|%j"])[0]
        codes = {{"%i": "JobID", "%T": "State", "%j": "JobName", "%k": "Comment"}}
        fields = [codes[c] for c in re.findall(r"%\\w", form)]
        lines = []
        for array, record in arrays().items():
            if names and record["name"] not in names:
                continue
            for tid in tasks_of(array, record):
                state = read(tid)
                if state in ACTIVE:
                    lines.append({{"JobID": tid, "State": state,
                                   "JobName": record["name"],
                                   "Comment": record["comment"]}})
        rows(argv + ["-P"], fields, lines)


    def scancel(argv):
        log("scancel", " ".join(argv))
        everything = arrays()
        for jid in argv:
            if jid.startswith("-"):
                continue
            array = jid.split("_")[0]
            targets = [jid] if "_" in jid else tasks_of(array, everything.get(array, {{"size": 0}}))
            for tid in targets:
                if read(tid) in ACTIVE:
                    write(tid, "CANCELLED by 0")


    def scontrol(argv):
        log("scontrol", " ".join(argv))
        if mode("scontrol") == "fail":
            fail("scontrol: error: slurm_load_ctl_conf error: Unable to contact "
                 "slurm controller (connect failure)")
        if argv[:2] == ["show", "config"]:
            print("Configuration data as of 2026-01-01T00:00:00")
            print("MaxArraySize            = {{}}".format(mode("max_array_size", "1001")))
            print("MaxJobCount             = 10000")
            return
        fail("scontrol: error: the stand-in knows only show config")


    def srun(argv):
        while argv and argv[0].startswith("--"):
            argv = argv[2:] if argv[0] in ("--output", "--error") else argv[1:]
        os.execvp(argv[0], argv)


    COMMANDS = dict(sbatch=sbatch, sacct=sacct, squeue=squeue, scancel=scancel,
                    scontrol=scontrol, srun=srun)
    COMMANDS[os.path.basename(sys.argv[0])](sys.argv[1:])
    '''
)

COMMANDS = ("sbatch", "sacct", "squeue", "scancel", "scontrol", "srun")


def install_fake_slurm(tmp_path, environ, **modes):
    """Put the stand-in Slurm on ``environ``'s PATH (``modes``: its
    ``FAKE_SLURM_<MODE>`` settings, e.g. ``max_submit=3``); returns its state
    folder."""
    bin_dir = tmp_path / "bin"
    state = tmp_path / "slurm"
    bin_dir.mkdir()
    state.mkdir()
    text = FAKE.format(python=sys.executable)
    for name in COMMANDS:
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    environ["FAKE_SLURM_DIR"] = str(state)
    environ["PATH"] = str(bin_dir) + os.pathsep + environ["PATH"]
    for name, value in modes.items():
        environ["FAKE_SLURM_" + name.upper()] = str(value)
    return state


def set_mode(state, name, value=None):
    """Change a misbehaving mode while a run goes on (None: back to normal)."""
    path = state / ("mode." + name)
    if value is None:
        if path.exists():
            path.unlink()
    else:
        path.write_text(str(value))


def sbatch_calls(state):
    """The paths of the scripts ``sbatch`` was given, in order (accepted or not)."""
    log = state / "sbatch.log"
    return log.read_text().splitlines() if log.exists() else []


def submitted(state):
    """The arrays sbatch accepted: {array id: its record (name, size, throttle,
    after, time, signal...)}."""
    found = {}
    for path in state.glob("*.job"):
        found[path.name[:-4]] = json.loads(path.read_text())
    return dict(sorted(found.items(), key=lambda item: int(item[0])))


def calls(state, command):
    """The argument lines ``command`` (``sacct``, ``squeue``...) was called with."""
    log = state / (command + ".log")
    return log.read_text().splitlines() if log.exists() else []


def task_states(state):
    """{``<array>_<task>``: its state} of every task the stand-in knows."""
    return {
        path.name: path.read_text().strip()
        for path in state.iterdir()
        if path.name.replace("_", "").isdigit() and "_" in path.name
    }
