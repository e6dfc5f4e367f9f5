"""Dotted names: the groups a name belongs to."""


def prefixes(name: str, separator: str) -> list:
    """``a.b.c`` -> ``["a", "a.b"]``: the groups above ``name``."""
    parts = name.split(separator)
    return [separator.join(parts[:i]) for i in range(1, len(parts))]
