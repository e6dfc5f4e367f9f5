# hpman's tests/test_files/1/1.py with the import renamed: the manager is made
# explicitly and bound to ``_`` in this module.
from hpreg import HyperParameterManager

_ = HyperParameterManager("_")


def make():
    pass


count = _("one_int", 7)
table = _("one_dict", {"x": 1, "y": 2})
names = _("one_list", ["p", 2, 3])
again = _("one_list_again", ["p", 2, 3])
ratio = _("one_float", 0.75)
tiny = _("one_exponent", 2e-4)
half = _("one_floordiv", 3 // 2)
show = _("one_builtin", print)
built = _("one_call", make())

_.parse_file(["tests/data/hpman/1/", "tests/data/hpman/1/1.py"])
