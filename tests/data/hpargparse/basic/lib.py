"""Two hyperparameters with defaults in one function, read without them in another."""

from hpreg.m import _


def add():
    return _("a", 1) + _("b", 2)


def mult():
    return _("a") * _("b")
