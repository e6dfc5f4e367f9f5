# hpman's tests/test_files/all_in_one.py with the import renamed: nine defaults of
# every kind, four of them not literals (a call, an expression, a builtin).
from hpreg import _


def make():
    pass


count = _("aio_int", 7)
built = _("aio_call", make())
table = _("aio_dict", {"x": 1, "y": 2})
names = _("aio_list", ["p", 2, 3])
again = _("aio_list_again", ["p", 2, 3])
ratio = _("aio_float", 0.75)
tiny = _("aio_exponent", 2e-4)
half = _("aio_floordiv", 3 // 2)
show = _("aio_builtin", print)
