"""``$HPREG_CONFIG`` at ``bind()``: every name it sets must be declared by exactly one
manager; the bound manager gets its own names, type- and hint-checked."""

import os
from typing import Optional

from hpreg.io import source as _source
from hpreg._text import did_you_mean, join_fix, key_text, suggestion
from hpreg.errors import AmbiguousNameError, UnknownHyperparameterError
from hpreg.registry.provenance import Provenance


def check_env_config(manager) -> None:
    """Check ``$HPREG_CONFIG`` against every manager's scan; apply ``manager``'s part.

    Each name must be declared by exactly one manager. ``manager`` gets its names
    type-checked (a dict default keeps its dict whole) and drops the others, unless
    a value set since (``set_value``, a file, the command line) overrides them.
    """
    path = os.environ.get("HPREG_CONFIG")
    if not path:
        return
    from hpreg.registry.env import env_data, env_values
    from hpreg.registry.managers import managers

    if getattr(manager, "_env_error", None) is not None:
        raise manager._env_error  # the file's values do not form one tree

    where = _source.display_path(path)
    pool = list(managers())
    if not any(m is manager for m in pool):
        pool.append(manager)
    owners = {}
    for name in env_values(path, manager.separator):
        owners[name] = _owners(name, pool, manager.separator)
        if not owners[name]:
            known = set().union(*(m.names() for m in pool))
            suggestions = did_you_mean(name, known)
            raise UnknownHyperparameterError(
                where="{}: {}".format(where, key_text(name)),
                problem="unknown hyperparameter '{}' ($HPREG_CONFIG): no manager's "
                "scan found it".format(name),
                fix=join_fix(
                    suggestion(suggestions),
                    "scan the files that declare it before bind(), e.g. "
                    "{}.parse_file(path), or remove it from the file".format(
                        manager.placeholder
                    ),
                ),
                name=name,
                path=path,
                suggestions=suggestions,
            )
        if len(owners[name]) > 1:
            (first, a), (second, b) = owners[name][:2]
            raise AmbiguousNameError(
                where="{}: {}".format(where, key_text(name)),
                problem="ambiguous hyperparameter ($HPREG_CONFIG): declared by two "
                "managers, '{}' at {} and '{}' at {}".format(
                    first.placeholder,
                    first.get_occurrences(a)[0].short_location,
                    second.placeholder,
                    second.get_occurrences(b)[0].short_location,
                ),
                fix="rename one of them",
                name=name,
                path=path,
                managers=[first.placeholder, second.placeholder],
            )
    mine = set(manager.names())
    data = env_data(path)
    values = {
        name: value
        for name, value in manager.flatten_tree(data).items()
        if name in mine
    }
    values = manager.check_values(values, where)
    for name in list(getattr(manager, "_env_names", ())):
        if name not in values and _source_of(manager, name) == "env":
            manager.unset(name)
    for name, value in values.items():
        if _source_of(manager, name) in (None, "default", "call", "env"):
            manager._set_value(name, value, Provenance("env", path))


def _owners(name: str, pool, separator: str) -> list:
    """(manager, declared name) for each manager declaring ``name`` or a parent of it."""
    parts = name.split(separator)
    candidates = [separator.join(parts[:i]) for i in range(len(parts), 0, -1)]
    found = []
    for manager in pool:
        declared = set(manager.names())
        for candidate in candidates:
            if candidate in declared:
                found.append((manager, candidate))
                break
    return found


def _source_of(manager, name: str) -> Optional[str]:
    try:
        return manager.provenance(name).source
    except (KeyError, LookupError):
        return None
