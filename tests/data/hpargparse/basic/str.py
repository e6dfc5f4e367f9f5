"""A string default, to check a loaded string replaces it."""

from hpreg.m import _

_("str_from", "source_code")
