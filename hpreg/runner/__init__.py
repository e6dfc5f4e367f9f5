"""Running sweeps: the run store, run directories, the local executor, ``report``
and results. Nothing here is imported by ``import hpreg`` or ``from hpreg.m import _``.
"""
