"""``$HPREG_CONFIG``: a values file handed to a process without code."""

from typing import Any, Dict

_CACHE: Dict[str, Dict[str, Any]] = {}


def env_values(path: str, separator: str = ".") -> Dict[str, Any]:
    """The file's values by flat dotted name (read once per process)."""
    if path not in _CACHE:
        from hpreg.io.files import flatten_nested, load_values_file
        from hpreg._text import join_fix
        from hpreg.errors import ValuesFileError

        try:
            data = load_values_file(path) or {}
        except ValuesFileError as error:
            # the script never names this file: say where it comes from
            note = "(the file $HPREG_CONFIG names)"
            raise error.with_fix(join_fix(error.fix, note)) from None
        _CACHE[path] = flatten_nested(data, separator)
    return dict(_CACHE[path])
