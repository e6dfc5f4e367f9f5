"""A fake Slurm for the executor tests: ``sbatch``/``sacct``/``scancel``/``srun``
scripts on PATH that run the jobs here, in the background, and keep their state
(job states, the scripts submitted) in a folder."""

import os
import sys
import textwrap

SBATCH = textwrap.dedent(
    """\
    #!{python}
    import os, re, subprocess, sys
    state = os.environ["FAKE_SLURM_DIR"]
    script = sys.argv[-1]
    text = open(script).read()
    with open(os.path.join(state, "sbatch.log"), "a") as log:
        log.write(script + "\\n")
    count = os.path.join(state, "next")
    base = int(open(count).read()) if os.path.exists(count) else 1000
    open(count, "w").write(str(base + 1))
    array = re.search(r"#SBATCH --array=0-(\\d+)", text)
    tasks = range(int(array.group(1)) + 1) if array else [None]
    for i in tasks:
        jid = "{{}}_{{}}".format(base, i) if i is not None else str(base)
        path = os.path.join(state, jid)
        preempt = os.path.join(state, "preempt")
        if os.path.exists(preempt):
            os.remove(preempt)
            open(path, "w").write("PREEMPTED")
            continue
        open(path, "w").write("RUNNING")
        job_env = dict(os.environ, SLURM_JOB_ID=str(base * 1000 + (i or 0)),
                       SLURM_NTASKS="1", SLURM_PROCID="0", SLURM_LOCALID="0",
                       SLURM_NODEID="0", SLURM_JOB_NUM_NODES="1",
                       SLURM_JOB_NODELIST="localhost")
        if i is not None:
            job_env.update(SLURM_ARRAY_JOB_ID=str(base), SLURM_ARRAY_TASK_ID=str(i))
        else:
            job_env["SLURM_JOB_ID"] = str(base)
        subprocess.Popen(
            ["sh", "-c", 'bash "$1"; if [ $? = 0 ]; then s=COMPLETED; else s=FAILED; '
             'fi; grep -q CANCELLED "$2" || echo $s > "$2"', "job", script, path],
            env=job_env, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("Submitted batch job {{}}".format(base))
    """
)
SACCT = textwrap.dedent(
    """\
    #!{python}
    import os, sys
    state = os.environ["FAKE_SLURM_DIR"]
    with open(os.path.join(state, "sacct.log"), "a") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
    wanted = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "-j"]
    print("JobID|State")
    for name in sorted(os.listdir(state)):
        if name.split("_")[0] in wanted:
            print("{{}}|{{}}".format(name, open(os.path.join(state, name)).read().strip()))
    """
)
SCANCEL = textwrap.dedent(
    """\
    #!{python}
    import os, sys
    state = os.environ["FAKE_SLURM_DIR"]
    for jid in sys.argv[1:]:
        open(os.path.join(state, jid), "w").write("CANCELLED by 0")
    """
)
SRUN = textwrap.dedent(
    """\
    #!/bin/sh
    while [ $# -gt 0 ]; do
      case "$1" in
        --output|--error) shift 2 ;;
        --*) shift ;;
        *) break ;;
      esac
    done
    exec "$@"
    """
)


def install_fake_slurm(tmp_path, environ):
    """Put the fake Slurm on ``environ``'s PATH; returns its state folder."""
    bin_dir = tmp_path / "bin"
    state = tmp_path / "slurm"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in (
        ("sbatch", SBATCH),
        ("sacct", SACCT),
        ("scancel", SCANCEL),
        ("srun", SRUN),
    ):
        path = bin_dir / name
        path.write_text(text.format(python=sys.executable))
        path.chmod(0o755)
    environ["FAKE_SLURM_DIR"] = str(state)
    environ["PATH"] = str(bin_dir) + os.pathsep + environ["PATH"]
    return state


def sbatch_calls(state):
    """The paths of the scripts ``sbatch`` was given, in order."""
    log = state / "sbatch.log"
    return log.read_text().splitlines() if log.exists() else []
