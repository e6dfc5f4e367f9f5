"""The ``hpreg`` command: the only place that prints errors and chooses exit codes."""

from hpreg.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
