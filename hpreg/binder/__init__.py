"""The argparse binding: one option per hyperparameter and the ``--hp-*`` options."""

from hpreg.binder.binding import bind, parse_args

__all__ = ["bind", "parse_args"]
