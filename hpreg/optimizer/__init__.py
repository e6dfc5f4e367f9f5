"""Optimizing: search spaces (from hints, an ``optimize:`` section, hyper_opt's
``optuna:`` section), Optuna's samplers and pruners, and the coordinator that runs
each trial as a job of the runner. Optuna is imported only here, never by
``import hpreg`` or ``from hpreg.m import _``.
"""
