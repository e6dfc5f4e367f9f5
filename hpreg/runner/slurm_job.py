"""What a Slurm array task runs on its node: ``python -m hpreg.runner.slurm_job
TASKS`` loads the task ``TASKS/<SLURM_ARRAY_TASK_ID>.pkl`` (written by the
coordinator before ``sbatch``) and runs it with ``hpreg.runner.node.execute``; the
Slurm job's exit status is the job's."""

import os
import pickle
import sys

from hpreg.runner.node import execute


def main(argv) -> int:
    index = os.environ.get("SLURM_ARRAY_TASK_ID", "0")
    with open(os.path.join(argv[0], "{}.pkl".format(index)), "rb") as f:
        task = pickle.load(f)  # cloudpickle's output loads with pickle
    code = execute(task)
    return code if 0 <= code < 256 else 1


if __name__ == "__main__":  # pragma: no cover (run on the node)
    sys.exit(main(sys.argv[1:]))
