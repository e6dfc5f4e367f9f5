"""A function job in a fresh interpreter, run through the job wrapper as a command is
(the same pid file, logs and exit status), so no process that may hold threads (a
dask worker, a CUDA context) is ever forked::

    python -m hpreg.runner.function_job MODULE:QUALNAME POINT_JSON

imports the function by name, calls it with the point and reports what it returns
(a dict: its items; a number or anything else: ``result``). ``-`` for the name: the
function comes pickled on stdin, for one that cannot be imported by name (a
lambda, a closure, a function of a script's ``__main__``); ``fd:N`` for one pickled
on the inherited descriptor N (a job whose stdin is taken). The bytes go from the
process that holds the function object (the one the engine already unpickled it
into) straight into its own child through a pipe: nothing is written to disk and
no file anyone else could write is ever unpickled."""

import json
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

BY_VALUE = "-"  # the name argument of a function pickled on stdin


def reference(function: Callable) -> Optional[str]:
    """``module:qualname`` when importing that name gives ``function`` back (in
    this process), else None."""
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None)
    if not module or not name or module == "__main__" or "<" in name:
        return None
    target: Any = sys.modules.get(module)
    for part in name.split("."):
        target = getattr(target, part, None)
    return "{}:{}".format(module, name) if target is function else None


def command(
    function: Callable, point: Dict[str, Any], fd: Optional[int] = None
) -> Tuple[List[str], Optional[bytes]]:
    """The argv that runs ``function(point)`` in a fresh interpreter, and the bytes
    to write to its stdin, or to the descriptor ``fd`` it inherits (None: nothing
    is read)."""
    name = reference(function)
    payload = None
    if name is None:
        import cloudpickle  # a dependency of dask.distributed and of submitit

        payload = cloudpickle.dumps(function)
        name = BY_VALUE if fd is None else "fd:{}".format(fd)
    point_json = json.dumps(point, sort_keys=True, allow_nan=True)
    return [sys.executable, "-m", __name__, name, point_json], payload


def load(name: str) -> Callable:
    """The function named ``module:qualname`` (``-``: pickled on stdin; ``fd:N``:
    on descriptor N)."""
    if name == BY_VALUE or name.startswith("fd:"):
        import pickle

        fd = 0 if name == BY_VALUE else int(name[3:])
        with open(fd, "rb", closefd=fd != 0) as pipe:
            data = pipe.read()
        if fd == 0:
            # the pipe is done with: the function reads /dev/null, as a command does
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
        return pickle.loads(data)
    import importlib

    module, _, qualname = name.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        sys.stderr.write(
            "usage: python -m hpreg.runner.function_job MODULE:QUALNAME POINT_JSON\n"
        )
        return 2
    try:
        function = load(argv[0])
    except (ImportError, AttributeError) as error:
        sys.stderr.write(
            "hpreg: cannot import the job's function {} in a fresh interpreter "
            "(directory {}): {}: {}; define it in a module this directory or "
            "PYTHONPATH holds\n".format(
                argv[0], os.getcwd(), type(error).__name__, error
            )
        )
        return 1
    result = function(json.loads(argv[1]))
    from hpreg.runner.report import report

    if isinstance(result, dict):
        report(**result)
    elif result is not None:
        report(result=result)
    return 0


if __name__ == "__main__":  # pragma: no cover (run as a job's process)
    sys.exit(main())
