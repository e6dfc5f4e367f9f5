# hpman's tests/test_files/2/2.py with the import renamed: the manager is made
# explicitly and bound to ``_`` in this module.
from hpreg import HyperParameterManager

_ = HyperParameterManager("_")


def make():
    pass


count = _("two_int", 7)
table = _("two_dict", {"x": 1, "y": 2})
names = _("two_list", ["p", 2, 3])
again = _("two_list_again", ["p", 2, 3])
ratio = _("two_float", 0.75)
tiny = _("two_exponent", 2e-4)
half = _("two_floordiv", 3 // 2)
show = _("two_builtin", print)
built = _("two_call", make())
