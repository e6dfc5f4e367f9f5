"""hpargparse's entry points under hpreg: ``from hpreg.argparse import bind``."""

from hpreg.binder.binding import StringAsDefault, bind, parse_args

__all__ = ["StringAsDefault", "bind", "parse_args"]
