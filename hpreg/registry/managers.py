"""The managers behind ``hpreg.m``: one per imported name, per process."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Dict, List

    from hpreg.registry.manager import HyperParameterManager

_MANAGERS: Dict[str, "HyperParameterManager"] = {}


def get_manager(name: str) -> "HyperParameterManager":
    """The manager ``from hpreg.m import <name>`` gives (one per name per process)."""
    manager = _MANAGERS.get(name)
    if manager is None:
        from hpreg.registry.manager import HyperParameterManager

        manager = _MANAGERS[name] = HyperParameterManager(name)
    return manager


class ManagerList(list):
    """A list of managers; ``"name" in it`` also works, and ``names()`` lists names."""

    def __contains__(self, item) -> bool:
        if isinstance(item, str):
            return any(m.placeholder == item for m in self)
        return any(m is item for m in self)

    def names(self) -> List[str]:
        return [m.placeholder for m in self]

    def get(self, name: str, default=None):
        for manager in self:
            if manager.placeholder == name:
                return manager
        return default


def managers() -> ManagerList:
    """The managers imported from ``hpreg.m`` so far, in order of first import."""
    return ManagerList(_MANAGERS.values())
