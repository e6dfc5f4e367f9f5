"""What the layers above need of a registry: validation, the runner and the optimizer
depend on this protocol, never on a manager's internals."""

from typing import Any, Dict, Iterable, List, Optional, Set

from hpreg.registry.occurrences import EmptyValue

try:
    from typing import Protocol
except ImportError:  # pragma: no cover (Python < 3.8)
    Protocol = object  # type: ignore[assignment,misc]


class Registry(Protocol):
    """Known names, a name's default and hints. ``HyperParameterManager`` is one."""

    def known_names(self) -> Set[str]:
        """Every declared name."""

    def get_default(self, name: str) -> Any:
        """The scanned (or runtime call's) default, ``EmptyValue()`` when none."""

    def get_hints(self, name: str) -> Dict[str, Any]:
        """The hints of ``name``'s declarations (``low``, ``high``, ``choices``...)."""


class MergedRegistry:
    """Several managers seen as one registry (``hpreg sweep --scan`` finds all of
    them); a name belongs to the first manager that declares it."""

    def __init__(self, managers: Iterable[Any]):
        self.managers: List[Any] = list(managers)

    def owner(self, name: str) -> Optional[Any]:
        """The manager that declares ``name``, or ``None``."""
        for manager in self.managers:
            if name in manager.known_names():
                return manager
        return None

    def known_names(self) -> Set[str]:
        names: Set[str] = set()
        for manager in self.managers:
            names |= manager.known_names()
        return names

    def get_default(self, name: str) -> Any:
        owner = self.owner(name)
        return owner.get_default(name) if owner else EmptyValue()

    def get_hints(self, name: str) -> Dict[str, Any]:
        owner = self.owner(name)
        return owner.get_hints(name) if owner else {}
