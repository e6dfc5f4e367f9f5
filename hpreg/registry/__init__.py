"""The registry: scan records become occurrences, defaults, values and provenance.

One ``HyperParameterManager`` per name imported from ``hpreg.m``; values files and
``$HPREG_CONFIG`` are checked against it. Kept light: ``from hpreg.m import _``
imports this package and nothing above it.
"""

from hpreg.registry.manager import HyperParameterManager
from hpreg.registry.managers import get_manager, managers
from hpreg.registry.provenance import Provenance

__all__ = ["HyperParameterManager", "Provenance", "get_manager", "managers"]
