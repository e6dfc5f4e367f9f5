"""``$HPREG_CONFIG``: a values file handed to a process without code."""

from typing import Any, Dict, Tuple

# read once per process; flattened once per separator: a manager with separator
# "/" reads ``model: {width: 3}`` as ``model/width``, one with "." as ``model.width``
_DATA: Dict[str, dict] = {}
_CACHE: Dict[Tuple[str, str], Dict[str, Any]] = {}


def env_data(path: str) -> dict:
    """The file's mapping as read (read once per process)."""
    if path not in _DATA:
        from hpreg._text import join_fix
        from hpreg.errors import ValuesFileError
        from hpreg.io.files import load_values_file

        try:
            _DATA[path] = load_values_file(path) or {}
        except ValuesFileError as error:
            # the script never names this file: say where it comes from
            note = "(the file $HPREG_CONFIG names)"
            raise error.with_fix(join_fix(error.fix, note)) from None
    return _DATA[path]


def env_values(path: str, separator: str = ".") -> Dict[str, Any]:
    """The file's values by flat name, nested keys joined by ``separator``."""
    key = (path, separator)
    if key not in _CACHE:
        from hpreg.io.tree import flatten_nested

        _CACHE[key] = flatten_nested(env_data(path), separator)
    return dict(_CACHE[key])


def clear_cache() -> None:
    """Forget what was read (tests, or a process that changes ``$HPREG_CONFIG``)."""
    _DATA.clear()
    _CACHE.clear()
