"""``file.py:function`` sweeps: run the user's own Python file and sweep over the
points its function returns (as the Hydra python sweeper does)."""

import importlib.util
import inspect
import os
import re
import sys
import uuid

from hpreg.sweep import algebra
from hpreg.sweep.context import _facts, _type_name
from hpreg.errors import SweepError, SweepFileError, did_you_mean, suggestion_text


def load_function_sweep(path: str, function: str):
    """Run the Python file at ``path`` (the user's own sweep code) and sweep over the
    points ``function()`` returns."""
    if not os.path.isfile(path):
        raise SweepFileError(
            "{}: file not found; check the path".format(path),
            path=path,
            key=function,
        )
    module_name = "_hpreg_sweep_{}_{}".format(
        re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]),
        uuid.uuid4().hex[:8],
    )
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # so the file can import its neighbours, also when run
    # the file runs as if started without arguments: hpreg's own command line is
    # not its (a module calling hpreg.parse_args(_) would parse the sweep options)
    argv, sys.argv = sys.argv, [path]
    try:
        return _run_function_file(module, spec, path, function)
    finally:
        sys.argv = argv
        try:
            sys.path.remove(folder)
        except ValueError:
            pass


def _run_function_file(module, spec, path: str, function: str):
    where = "{}:{}".format(path, function)
    sys.modules[module.__name__] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module.__name__, None)
        raise SweepFileError(
            "{}:{}:{}: {}; fix the sweep function's file".format(
                path, exc.lineno, exc.offset, exc.msg
            ),
            path=path,
            key=function,
            line=exc.lineno,
            column=exc.offset,
        ) from None
    except Exception as exc:
        sys.modules.pop(module.__name__, None)
        raise _raised(path, path, function, exc) from exc
    target = getattr(module, function, None)
    if target is None:
        public = [
            n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
        ]
        suggestions = did_you_mean(function, public)
        raise SweepFileError(
            "{}: no function {!r} in {}{}".format(
                where,
                function,
                path,
                suggestion_text(suggestions)
                or "; define def {}(): returning a list of points".format(function),
            ),
            path=path,
            key=function,
            suggestions=suggestions,
        )
    if not callable(target):
        raise SweepFileError(
            "{}: {!r} is {}, not a function; name a function returning "
            "points".format(where, function, _type_name(target)),
            path=path,
            key=function,
        )
    if _needs_arguments(target):
        raise SweepFileError(
            "{}: {!r} takes arguments; a sweep function takes none and returns "
            "points".format(where, function),
            path=path,
            key=function,
        )
    try:
        return algebra.from_function(target)
    except SweepError as exc:
        problem = re.sub(r"^from_function\([^)]*\): ", "", str(exc))
        raise SweepFileError(
            "{}: {}".format(where, problem), path=path, key=function, **_facts(exc)
        ) from None
    except Exception as exc:
        raise _raised(where, path, function, exc) from exc


def _needs_arguments(target) -> bool:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin without a signature: just call it
        return False
    kinds = inspect.Parameter
    required = (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)
    return any(
        p.default is p.empty and p.kind in required
        for p in signature.parameters.values()
    )


def _raised(where: str, path: str, function: str, exc: Exception) -> SweepFileError:
    """The user's code failed: one line naming it (HPREG_DEBUG=1 shows the rest)."""
    return SweepFileError(
        "{}: raised {}: {}; fix the sweep function's file (HPREG_DEBUG=1 shows "
        "the traceback)".format(where, type(exc).__name__, exc),
        path=path,
        key=function,
        error=exc,
    )
