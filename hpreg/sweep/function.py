"""``file.py:function`` sweeps: run the user's own Python file and sweep over the
points its function returns (as the Hydra python sweeper does)."""

import importlib.util
import os
import re
import sys

from hpreg.sweep import algebra
from hpreg.sweep.context import _facts, _type_name
from hpreg._text import did_you_mean, suggestion
from hpreg.errors import SweepError, SweepFileError, text_fields


def load_function_sweep(path: str, function: str):
    """Run the Python file at ``path`` (the user's own sweep code) and sweep over the
    points ``function()`` returns."""
    if not os.path.isfile(path):
        raise SweepFileError(
            where=path,
            problem="file not found",
            fix="check the path",
            path=path,
            key=function,
        )
    module_name = "_hpreg_sweep_{}_{}".format(
        re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]),
        os.urandom(4).hex(),
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
            where="{}:{}:{}".format(path, exc.lineno, exc.offset),
            problem=exc.msg,
            fix="fix the sweep function's file",
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
            where=where,
            problem="no function {!r} in {}".format(function, path),
            fix=suggestion(suggestions)
            or "define def {}(): returning a list of points".format(function),
            path=path,
            key=function,
            suggestions=suggestions,
        )
    if not callable(target):
        raise SweepFileError(
            where=where,
            problem="{!r} is {}, not a function".format(function, _type_name(target)),
            fix="name a function returning points",
            path=path,
            key=function,
        )
    if _needs_arguments(target):
        raise SweepFileError(
            where=where,
            problem="{!r} takes arguments".format(function),
            fix="a sweep function takes none and returns points",
            path=path,
            key=function,
        )
    try:
        return algebra.from_function(target)
    except SweepError as exc:  # its place, from_function(...), becomes the file's
        fields = dict(text_fields(exc), where=where)
        raise SweepFileError(path=path, key=function, **fields, **_facts(exc)) from None
    except Exception as exc:
        raise _raised(where, path, function, exc) from exc


def _needs_arguments(target) -> bool:
    import inspect  # only function sweeps need it: not every start of hpreg

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
        where=where,
        problem="raised {}: {}".format(type(exc).__name__, exc),
        fix="fix the sweep function's file (HPREG_DEBUG=1 shows the traceback)",
        path=path,
        key=function,
        error=exc,
    )
