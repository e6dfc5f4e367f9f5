"""Sweeps: the algebra (pure, no I/O), safe expressions, sweep files, function
sweeps, the command-line grammar, and validation against a registry.

``import hpreg.sweep`` gives the algebra (``product``, ``union``, ``table``...).
"""

from hpreg.sweep.algebra import *  # noqa: F401,F403
from hpreg.sweep.algebra import __all__  # noqa: F401
