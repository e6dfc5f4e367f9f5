"""The keys of a sweep file: the reserved ones (``product``, ``derive``, ``with
NAME``...) and the check every key passes (names, and near misses of reserved keys
caught as typos)."""

import functools
import re
from typing import Any, List

from hpreg.sweep.context import _Context

__all__ = [
    "NODE_KEYS",
    "MODIFIER_KEYS",
    "TOP_LEVEL_KEYS",
    "RESERVED",
    "WITH_PREFIX",
    "check_key",
]

NODE_KEYS = ("product", "union", "table", "let")
MODIFIER_KEYS = ("derive", "where", "unique")
TOP_LEVEL_KEYS = ("include",)
RESERVED = NODE_KEYS + MODIFIER_KEYS + TOP_LEVEL_KEYS + ("with",)

WITH_PREFIX = re.compile(r"^with\s+(\S+)\s*$")


def check_key(key: Any, ctx: _Context, value: Any) -> None:
    """Refuse keys that are not names, and typos of reserved keys."""
    if not isinstance(key, str):
        raise ctx.error(
            "key {!r} is not a name".format(key),
            "hyperparameter names are strings (quote it: '{}')".format(key),
            bad_key=key,
        )
    if not key.strip():
        raise ctx.error("empty key", "write a hyperparameter name", bad_key=key)
    lowered = key.lower()
    if lowered in RESERVED and key not in RESERVED:
        raise ctx.child(key).error(
            "unknown key {!r}".format(key),
            "reserved keys are lower case: did you mean {!r}?".format(lowered),
            bad_key=key,
            suggestions=[lowered],
        )
    if WITH_PREFIX.match(lowered) and not WITH_PREFIX.match(key):
        raise ctx.child(key).error(
            "unknown key {!r}".format(key),
            "reserved keys are lower case: write 'with {}'".format(key.split()[1]),
            bad_key=key,
        )
    if (lowered == "with" or lowered.split()[0] == "with") and not WITH_PREFIX.match(
        key
    ):
        raise ctx.child(key).error(
            "{!r} needs exactly one name after 'with'".format(key),
            "write 'with model:' to prefix the names inside with 'model.'",
            bad_key=key,
        )
    if any(char.isspace() for char in key) and not WITH_PREFIX.match(key):
        raise ctx.child(key).error(
            "unknown key {!r} (names cannot contain spaces)".format(key),
            "write a hyperparameter name, or 'with NAME' for a prefix",
            bad_key=key,
        )
    for reserved in _typo_of(key):
        if _looks_like(reserved, value):
            raise ctx.child(key).error(
                "unknown key {!r}".format(key),
                "did you mean {!r}? (reserved keys: {})".format(
                    reserved, ", ".join(RESERVED[:-1] + ("with NAME",))
                ),
                bad_key=key,
                suggestions=[reserved],
            )


@functools.lru_cache(maxsize=4096)  # aliases repeat a few keys many times
def _typo_of(key: str) -> List[str]:
    """The reserved key ``key`` is a near miss of (one edit or two), if any.

    Stricter than did-you-mean: group names such as ``net``, ``label``, ``unit`` or
    ``uniform`` sit close to ``let``, ``table`` and ``union`` and must stay names.
    """
    import difflib  # only when a sweep file has keys

    return [
        reserved
        for reserved in difflib.get_close_matches(key, RESERVED, n=1, cutoff=0.8)
        if reserved != key and abs(len(reserved) - len(key)) <= 2
    ]


def _looks_like(reserved: str, value: Any) -> bool:
    """Whether ``value`` has the shape ``reserved`` takes, rather than a name's."""
    if reserved in ("product", "union"):
        return isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(v, dict) for v in value)
        )
    if reserved == "table":
        return isinstance(value, dict) and bool({"columns", "rows"} & set(value))
    if reserved == "let":
        return isinstance(value, dict)
    if reserved == "derive":
        return (
            isinstance(value, dict)
            and bool(value)
            and all(isinstance(v, str) for v in value.values())
        )
    if reserved == "where":
        return isinstance(value, str) and bool(
            re.search(r"[<>=!]|\b(and|or|not)\b", value)
        )
    if reserved == "include":
        return isinstance(value, str) and value.endswith((".yaml", ".yml", ".json"))
    if reserved == "unique":
        return isinstance(value, bool)
    return False
