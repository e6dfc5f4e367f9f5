"""hpargparse's entry point under hpreg: ``from hpreg.argparse import bind``."""

from hpreg.bind.binding import bind, parse_args

__all__ = ["bind", "parse_args"]
