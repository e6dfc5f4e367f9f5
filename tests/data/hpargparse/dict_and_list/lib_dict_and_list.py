"""Dict, list and int defaults."""

from hpreg.m import _

a = _("a", {"key": 1})
b = _("b", [1, 2, 3])
c = _("c", 23)
