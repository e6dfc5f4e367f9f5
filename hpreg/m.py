"""``from hpreg.m import _`` (or any other name): one manager per imported name.

This module defines no names of its own, so every import gives a manager; dunder
names are refused so tools and ``import *`` do not conjure managers.
"""

__all__ = []  # type: ignore[var-annotated]


def __getattr__(name):
    # only ``__x__`` names are Python's (``__path__``, ``__wrapped__``, probed by
    # tools); ``__``, ``___``... are plain names that hpman's zoo accepts
    if name[:2] == name[-2:] == "__" and name.strip("_"):
        raise AttributeError(name)
    if name.startswith(("_repr_", "_ipython_")):  # probed by IPython when displayed
        raise AttributeError(name)
    from hpreg.registry.managers import get_manager

    return get_manager(name)


def __dir__():
    from hpreg.registry.managers import managers

    return sorted(managers().names())
