"""``$HPREG_CONFIG``: a values file handed to a process without code."""

from typing import Any, Dict

_CACHE: Dict[str, Dict[str, Any]] = {}


def env_values(path: str, separator: str = ".") -> Dict[str, Any]:
    """The file's values by flat dotted name (read once per process)."""
    if path not in _CACHE:
        from ._files import load_values_file
        from .errors import ValuesFileError

        try:
            data = load_values_file(path) or {}
        except ValuesFileError as error:
            # the script never names this file: say where it comes from
            facts = {k: v for k, v in vars(error).items() if k != "message"}
            raise ValuesFileError(
                "{} (the file $HPREG_CONFIG names)".format(error.message), **facts
            ) from None
        _CACHE[path] = _flatten(data, "", separator)
    return dict(_CACHE[path])


def _flatten(node: Any, key: str, separator: str) -> Dict[str, Any]:
    if not isinstance(node, dict) or (key and not node):
        return {key: node}
    flat: Dict[str, Any] = {}
    for child_key, child in node.items():
        name = "{}{}{}".format(key, separator, child_key) if key else str(child_key)
        flat.update(_flatten(child, name, separator))
    return flat
